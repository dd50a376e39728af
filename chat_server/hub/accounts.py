"""Accounts: what one is, how a password is checked, who is logged in, and the seams
to the store (`Registry`) and to the password threads (`Passwords`).

Every change of an account or of a login is a fact (`hub/facts.py`), applied here in
log order on every node, so a cluster agrees on who owns what. A password is only ever
held by the command that checks it: facts, the store and logs see argon2id hashes and
SCRAM credentials. Hashing costs tens of milliseconds of CPU, so the hub hands it to a
`Passwords` implementation that runs it off the event loop and calls back on it; the
person's next commands wait meanwhile (`Hub.hold`). Must not import the session,
transport or store layers.
"""

from __future__ import annotations

import base64
import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from scramp import ScramMechanism

from chat_server.config import AccountsSection
from chat_server.hub.events import AccountChanged
from chat_server.hub.facts import (
    AccountDropped,
    AccountRegistered,
    CertsSet,
    LoggedIn,
    PasswordSet,
)
from chat_server.hub.model import User
from chat_server.protocol import names
from chat_server.protocol import numerics as N

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

log = logging.getLogger("chat_server.accounts")

# What SASL offers (CAP LS 302 `sasl=`, and 908).
SASL_MECHANISMS = ("PLAIN", "EXTERNAL", "SCRAM-SHA-256")

_HASHER = PasswordHasher()  # argon2id with argon2-cffi's recommended parameters
_SCRAM = ScramMechanism("SCRAM-SHA-256")


# -- values -----------------------------------------------------------------------


@dataclass(slots=True)
class Account:
    name: str  # as registered; compared folded
    password_hash: str  # argon2id, parameters inside
    scram: str  # SCRAM-SHA-256 credentials, as `make_credentials` writes them
    certfps: tuple[str, ...]  # client certificates that log in by SASL EXTERNAL
    registered: float

    @property
    def folded(self) -> str:
        return names.fold(self.name)

    @property
    def dropped(self) -> bool:
        """A dropped account's name, kept so that it is never registered again: an
        account registered under it would read the private history kept under the
        account (hub/history.py `private_key`), as Ergo keeps unregistered names."""
        return not self.password_hash


def dropped_account(folded: str, when: float) -> Account:
    """What the registry keeps of a dropped account: its name, no credentials."""
    return Account(folded, "", "", (), when)


@dataclass(slots=True)
class RoomRecord:
    """A registered room's kept settings: what it starts with when someone joins it
    empty, and who gets which status on joining."""

    name: str
    founder: str  # account name
    registered: float
    topic: str = ""
    topic_setter: str = ""
    topic_time: float = 0.0
    flags: str = "nt"
    key: str = ""
    limit: int = 0
    # (mask, setter, time) of +b, +e and +I.
    bans: tuple[tuple[str, str, float], ...] = ()
    excepts: tuple[tuple[str, str, float], ...] = ()
    invexes: tuple[tuple[str, str, float], ...] = ()
    # Folded account -> status letters ("o", "v") given on join; the founder gets "o".
    access: dict[str, str] = field(default_factory=dict)

    @property
    def folded(self) -> str:
        return names.fold(self.name)


class Credentials(NamedTuple):
    password_hash: str
    scram: str


# -- the CPU work, run by a Passwords implementation ------------------------------


def make_credentials(password: str, scram_iterations: int) -> Credentials:
    """argon2id hash and SCRAM-SHA-256 credentials of `password` (tens of ms of CPU)."""
    salt, stored_key, server_key, iterations = _SCRAM.make_auth_info(
        password, iteration_count=scram_iterations)
    scram = "$".join((str(iterations), *(base64.b64encode(v).decode()
                                         for v in (salt, stored_key, server_key))))
    return Credentials(_HASHER.hash(password), scram)


def verify_password(password_hash: str, password: str) -> bool:
    """argon2's own comparison (constant time); a malformed hash never matches."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError, ValueError):
        return False


def scram_auth_info(scram: str) -> tuple[bytes, bytes, bytes, int] | None:
    """(salt, stored_key, server_key, iterations) as scramp's server wants them."""
    try:
        iterations, salt, stored, server = scram.split("$")
        return (base64.b64decode(salt), base64.b64decode(stored),
                base64.b64decode(server), int(iterations))
    except ValueError:
        return None


class Passwords(Protocol):
    """Runs the CPU work above off the event loop and calls `done` back on it."""

    def make(self, password: str, iterations: int,
             done: Callable[[Credentials | None], None]) -> None:
        """`done(None)` when the work failed (logged by the implementation)."""

    def check(self, password_hash: str, password: str, done: Callable[[bool], None]) -> None: ...


class InlinePasswords:
    """Does the work at once, on the caller's thread: for a hub with no loop (tests)."""

    def make(self, password: str, iterations: int,
             done: Callable[[Credentials | None], None]) -> None:
        done(make_credentials(password, iterations))

    def check(self, password_hash: str, password: str, done: Callable[[bool], None]) -> None:
        done(verify_password(password_hash, password))


class Registry(Protocol):
    """Where accounts and registered rooms are kept (the store); written as facts are
    applied, read once at start (`Hub.load_registry`)."""

    def save_account(self, account: Account) -> None: ...

    def drop_account(self, folded: str) -> None:
        """Forget the account's credentials but keep its name (`Account.dropped`)."""

    def save_room(self, record: RoomRecord) -> None: ...

    def drop_room(self, folded: str) -> None: ...


class NullRegistry:
    """Keeps nothing (a store that does not write, a hub in a test)."""

    def save_account(self, account: Account) -> None:
        return None

    def drop_account(self, folded: str) -> None:
        return None

    def save_room(self, record: RoomRecord) -> None:
        return None

    def drop_room(self, folded: str) -> None:
        return None


# -- brute force ------------------------------------------------------------------


@dataclass(slots=True)
class _Tries:
    failures: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0
    delay: float = 0.0


class Throttle:
    """Failed logins per key ("account:NAME", "host:ADDRESS"): past `login_attempts`
    within `login_window` seconds, attempts are refused until a delay passes; each
    failure after that doubles the delay (up to `login_delay_max`). Refused attempts do
    not extend it, so the right password works once the delay is over."""

    def __init__(self, settings: AccountsSection, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self._tries: dict[str, _Tries] = {}

    def wait(self, keys: Iterable[str]) -> float:
        """Seconds until an attempt for all of `keys` is allowed; 0 when it is now."""
        now = self.clock()
        waits = [t.blocked_until - now for k in keys if (t := self._tries.get(k)) is not None]
        return max([0.0, *waits])

    def failed(self, keys: Iterable[str]) -> None:
        s = self.settings
        now = self.clock()
        if len(self._tries) > 100_000:
            self._sweep(now)
        for key in keys:
            tries = self._tries.setdefault(key, _Tries())
            window = tries.failures
            window.append(now)
            while window and window[0] <= now - s.login_window:
                window.popleft()
            if len(window) >= s.login_attempts:
                tries.delay = (min(tries.delay * 2, s.login_delay_max) if tries.delay
                               else s.login_delay)
                tries.blocked_until = now + tries.delay

    def succeeded(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._tries.pop(key, None)

    def _sweep(self, now: float) -> None:
        window = self.settings.login_window
        for key in [k for k, t in self._tries.items()
                    if t.blocked_until < now and (not t.failures or t.failures[-1] < now - window)]:
            del self._tries[key]


class WorkBudget:
    """Password work (an argon2id hash made or checked) per address in the last
    minute, at most accounts.password_work_per_ip. The login throttle counts failures
    only, so without this one address could keep the password threads busy with
    logins that succeed (log in, log out, again), SET PASSWORD or REGISTER."""

    WINDOW = 60.0

    def __init__(self, settings: AccountsSection, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.clock = clock
        self._spent: dict[str, deque[float]] = {}

    def take(self, host: str) -> float:
        """Spend one unit for `host`: 0 when it may work now, else the seconds until it
        may (nothing is spent then)."""
        now = self.clock()
        if len(self._spent) > 100_000:
            self._sweep(now)
        spent = self._spent.setdefault(host, deque())
        while spent and spent[0] <= now - self.WINDOW:
            spent.popleft()
        if len(spent) >= self.settings.password_work_per_ip:
            return spent[0] + self.WINDOW - now
        spent.append(now)
        return 0.0

    def _sweep(self, now: float) -> None:
        for host in [h for h, spent in self._spent.items()
                     if not spent or spent[-1] <= now - self.WINDOW]:
            del self._spent[host]


def busy_text(wait: float) -> str:
    return ("Too many password checks and changes from your address; try again in "
            + seconds_text(max(1, math.ceil(wait))))


def throttle_keys(account: str, host: str) -> tuple[str, str]:
    return (f"account:{names.fold(account)}", f"host:{host}")


def throttled_text(wait: float) -> str:
    return ("Too many failed logins to this account or from your address; try again in "
            + seconds_text(max(1, math.ceil(wait))))


def seconds_text(seconds: float) -> str:
    return f"{seconds:g} second" + ("" if seconds == 1 else "s")


# -- checking and logging in ------------------------------------------------------


def find_account(hub: Hub, name: str) -> Account | None:
    return hub.accounts.get(names.fold(name))


def check_password(hub: Hub, user: User, name: str, password: str,
                   done: Callable[[Account | None, str], None]) -> None:
    """Check `password` for account `name` off the loop, within the brute-force limits,
    and call `done(account, "")` or `done(None, why)` in a response to `user`. The
    user's next commands wait for the answer; nothing is done if they have left."""
    keys = throttle_keys(name, user.host)
    account = find_account(hub, name)
    # A name that is no account is not logged: it may be a password typed in its place.
    shown = repr(account.name) if account is not None else "(unknown)"
    wait = hub.throttle.wait(keys)
    if wait > 0:
        log.warning("login to account %s from %s refused: too many failures", shown, user.host)
        done(None, throttled_text(wait))
        return
    if account is None:
        hub.throttle.failed(keys[1:])
        log.warning("failed login to an unknown account from %s", user.host)
        done(None, "Invalid account credentials")
        return

    busy = hub.work_budget.take(user.host)
    if busy > 0:
        log.warning("login to account %s from %s refused: too much password work",
                    shown, user.host)
        done(None, busy_text(busy))
        return

    def checked(ok: bool) -> None:
        if ok:
            hub.throttle.succeeded(keys[:1])
            done(account, "")
        else:
            hub.throttle.failed(keys)
            log.warning("failed login to account %r from %s", account.name, user.host)
            done(None, "Invalid account credentials")

    hub.hold(user)
    hub.passwords.check(account.password_hash, password,
                        lambda ok: hub.resume(user, lambda: checked(ok)))


def log_in(hub: Hub, user: User, account: Account) -> None:
    """Log `user` in: at once while they register (told 900 now, and the network when
    they arrive), through a fact once they have."""
    if user.registered:
        hub.emit(LoggedIn(user.uid, account.name))
    else:
        user.set_account(account.name)
        hub.reply(user, N.RPL_LOGGEDIN, f"{user.nick or '*'}!{user.user or '*'}@{user.host}",
                  account.name, f"You are now logged in as {account.name}")


def log_out(hub: Hub, user: User) -> None:
    if user.registered:
        hub.emit(LoggedIn(user.uid, ""))
    else:
        user.set_account("")


def nick_owner(hub: Hub, nick: str) -> Account | None:
    """The account a nick is registered as (an account's name is its nick)."""
    return hub.accounts.get(names.fold(nick))


def nick_refused(hub: Hub, user: User, nick: str) -> bool:
    """accounts.nick_protection = "strict": a registered nick is refused (433) to anyone
    not logged in to its account."""
    if hub.settings.accounts.nick_protection != "strict":
        return False
    owner = nick_owner(hub, nick)
    return owner is not None and names.fold(user.account) != owner.folded


def protect(hub: Hub, user: User) -> None:
    """Called when a local, registered `user` takes a nick or logs out: under
    "enforce", someone on a registered nick without its account is told, and renamed
    to a guest nick after accounts.login_grace seconds unless they log in or move."""
    s = hub.settings.accounts
    if s.nick_protection != "enforce":
        return
    owner = nick_owner(hub, user.nick)
    if owner is None or names.fold(user.account) == owner.folded:
        return
    nick = user.nick
    grace = s.login_grace
    # A change of nick or login makes a new source, and each one that may need
    # protecting calls this again: then this grace no longer applies (someone who left
    # the nick and came back gets a whole grace from their return).
    source = user.source
    hub.service_notice(user, "NickServ",
                       f"This nickname is registered. Log in within {seconds_text(grace)} "
                       f"(/msg NickServ IDENTIFY password) or you will be renamed.")

    def expire() -> None:
        if user not in hub.connections or user.source is not source:
            return
        owner_now = nick_owner(hub, nick)
        if owner_now is None or names.fold(user.account) == owner_now.folded:
            return
        hub.service_notice(user, "NickServ",
                           f"{nick} is a registered nickname and you did not log in to it "
                           f"within {seconds_text(grace)}, so you are renamed to a guest "
                           "nick.")
        hub.rename_guest(user)

    hub.later(grace, expire)


# -- reducers ---------------------------------------------------------------------


def _registered(hub: Hub, f: AccountRegistered) -> None:
    folded = names.fold(f.account)
    won = folded not in hub.accounts and folded not in hub.dropped
    if won:
        account = Account(f.account, f.password_hash, f.scram,
                          (f.certfp,) if f.certfp else (), f.time)
        hub.accounts[folded] = account
        hub.registry.save_account(account)
        user = hub.by_uid.get(f.uid)
        if user is not None:
            _set_login(hub, user, f.account)
    hub.settle(f.uid, "account:" + folded, won)


def _dropped(hub: Hub, f: AccountDropped) -> None:
    folded = names.fold(f.account)
    if hub.accounts.pop(folded, None) is None:
        return
    hub.dropped.add(folded)
    hub.registry.drop_account(folded)
    for user in list(hub.by_uid.values()):
        if user.account and names.fold(user.account) == folded:
            _set_login(hub, user, "")


def _password(hub: Hub, f: PasswordSet) -> None:
    account = hub.accounts.get(names.fold(f.account))
    if account is not None:
        account.password_hash, account.scram = f.password_hash, f.scram
        hub.registry.save_account(account)


def _certs(hub: Hub, f: CertsSet) -> None:
    account = hub.accounts.get(names.fold(f.account))
    if account is not None:
        account.certfps = tuple(f.certfps.split())
        hub.registry.save_account(account)


def _logged_in(hub: Hub, f: LoggedIn) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None or user.account == f.account:
        return
    if f.account and names.fold(f.account) not in hub.accounts:
        return  # dropped on the way
    _set_login(hub, user, f.account)


def _set_login(hub: Hub, user: User, account: str) -> None:
    """Change who `user` is logged in as; tell them (900/901) and those who asked
    (account-notify): room-mates, MONITOR watchers with extended-monitor, and the person
    themselves ("including themselves", after the 900 as Ergo sends it)."""
    before = user.source
    user.set_account(account)
    if not user.registered:
        return
    event = AccountChanged(before, account, hub.clock())
    told = hub.neighbours(user)
    told.update(u for u in hub.monitors.of(user.folded)
                if "extended-monitor" in u.caps and "account-notify" in u.caps)
    told.discard(user)
    hub.fanout(told, event)
    if not hub.is_local(user):
        return
    if account:
        hub.reply(user, N.RPL_LOGGEDIN, user.source.prefix, account,
                  f"You are now logged in as {account}")
    else:
        hub.reply(user, N.RPL_LOGGEDOUT, user.source.prefix, "You are now logged out")
    if "account-notify" in user.caps:
        hub.send(user, event)  # a plain session, which asks for nothing, has its 900
    if not account:
        protect(hub, user)


ACCOUNT_REDUCERS: dict[type, Callable[[Hub, Any], None]] = {
    AccountRegistered: _registered,
    AccountDropped: _dropped,
    PasswordSet: _password,
    CertsSet: _certs,
    LoggedIn: _logged_in,
}
