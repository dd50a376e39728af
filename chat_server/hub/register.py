"""Account registration: the IRCv3 `draft/account-registration` commands REGISTER and
VERIFY, and `create_account`, the one way an account is made (NickServ REGISTER uses
it too).

As in Ergo's default, an account is named after the nick that registers it, so the
cap's value is only `before-connect`: REGISTER may come before the welcome, once there
is a nick. No e-mail is asked for or sent, so nothing is ever waiting for VERIFY.
Making the credentials is CPU work that runs off the loop (`Hub.passwords`); the name
is checked again when they come back, and the first AccountRegistered for a name in
log order wins. Registers into the one command table of `hub/table.py`. Must not
import the session, transport or store layers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from chat_server.hub.accounts import Credentials, busy_text, find_account
from chat_server.hub.facts import AccountRegistered
from chat_server.hub.model import User
from chat_server.hub.table import SERVICES, command
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

log = logging.getLogger("chat_server.accounts")

# What `create_account` answers: ("SUCCESS", text) or (a FAIL code of the spec, text).
Answer = Callable[[str, str], None]


def refusal(hub: Hub, user: User, name: str, password: str) -> tuple[str, str] | None:
    """Why `user` may not register account `name` with `password` now, as the spec's
    FAIL code and a sentence for a person; None when they may."""
    s = hub.settings.accounts
    if s.registration != "open":
        # The spec has no code for "closed"; its "temporarily unavailable" is the one
        # a client treats as "not now, not your fault".
        return "TEMPORARILY_UNAVAILABLE", "Account registration is closed on this server"
    if user.account:
        return "ALREADY_AUTHENTICATED", f"You are already logged in as {user.account}"
    if not names.is_valid_nick(name) or names.fold(name) in SERVICES:
        return "BAD_ACCOUNT_NAME", f"{name} cannot be an account name"
    if is_guest_nick(hub, name):
        return "BAD_ACCOUNT_NAME", (f"{name} is a guest nickname and cannot be registered; "
                                    "choose another nickname first")
    return password_refusal(hub, password) or taken(hub, user, name)


def password_refusal(hub: Hub, password: str) -> tuple[str, str] | None:
    """Why `password` may not be an account's, as a FAIL code and a sentence; None when
    it may. As in Ergo, no spaces nor control characters: NickServ IDENTIFY and a
    netcat /login take the password as one word, and it must work there too."""
    s = hub.settings.accounts
    if len(password) < s.min_password:
        return "WEAK_PASSWORD", (f"Passwords must be at least {s.min_password} characters "
                                 "long; choose a longer one")
    if len(password.encode()) > s.max_password:
        return "UNACCEPTABLE_PASSWORD", f"Passwords may be at most {s.max_password} bytes long"
    if any(ch.isspace() or not ch.isprintable() for ch in password):
        return "UNACCEPTABLE_PASSWORD", "Passwords may not contain spaces or control characters"
    return None


def taken(hub: Hub, user: User, name: str) -> tuple[str, str] | None:
    """ACCOUNT_EXISTS when `name` is registered, was registered and dropped (its
    private history is still kept under it), or is the nick of someone else online (a
    person may not register a nick out from under its holder)."""
    if find_account(hub, name) is not None:
        return "ACCOUNT_EXISTS", f"The account {name} is already registered"
    if names.fold(name) in hub.dropped:
        return "ACCOUNT_EXISTS", (f"The account {name} was registered before and dropped; "
                                  "its name cannot be registered again")
    holder = hub.users.get(names.fold(name))
    if holder is not None and holder is not user:
        return "ACCOUNT_EXISTS", f"The nickname {name} is in use by someone else"
    return None


def is_guest_nick(hub: Hub, nick: str) -> bool:
    """A nick of the form nick protection renames people to (guest_prefix and digits):
    registering one would leave the next person renamed onto a registered nick."""
    prefix = re.escape(names.fold(hub.settings.accounts.guest_prefix))
    return re.fullmatch(prefix + r"[0-9]+", names.fold(nick)) is not None


def create_account(hub: Hub, user: User, name: str, password: str, answer: Answer) -> None:
    """Register account `name` (the user's nick) with `password` and log `user` in to
    it; `answer` is called once, in a response to `user`, with the outcome."""
    refused = refusal(hub, user, name, password)
    if refused is not None:
        answer(*refused)
        return
    busy = hub.work_budget.take(user.host)
    if busy > 0:
        answer("TEMPORARILY_UNAVAILABLE", busy_text(busy))
        return
    folded = names.fold(name)

    def made(creds: Credentials | None) -> None:
        if creds is None:
            answer("TEMPORARILY_UNAVAILABLE", "The account could not be made; try again later")
            return
        # The credentials took a while: the name may have gone meanwhile.
        again = (refusal(hub, user, name, password) if names.fold(user.nick) == folded
                 else ("ACCOUNT_NAME_MUST_BE_NICK", "Your nickname changed meanwhile"))
        if again is not None:
            answer(*again)
            return

        def settled(won: bool) -> None:
            if user not in hub.connections:
                return
            if not won:
                answer("ACCOUNT_EXISTS", f"The account {name} is already registered")
                return
            log.info("account %s registered from %s", name, user.host)
            if not user.registered:
                # The reducer only notes the login of a connection still registering.
                hub.reply(user, N.RPL_LOGGEDIN, f"{user.nick}!{user.user or '*'}@{user.host}",
                          name, f"You are now logged in as {name}")
            answer("SUCCESS", f"Account {name} created; you are logged in to it")

        hub.wait_for(user.uid, "account:" + folded, settled)
        hub.emit(AccountRegistered(user.uid, name, creds.password_hash, creds.scram,
                                   user.certfp, hub.stamp()))

    hub.hold(user)
    hub.passwords.make(password, hub.settings.accounts.scram_iterations,
                       lambda creds: hub.resume(user, lambda: made(creds)))


@command("REGISTER", min_params=3, before_registration=True,
         usage="REGISTER <ACCOUNT|*> <EMAIL|*> <PASSWORD>",
         help="Register an account named after your nick (account *), and log in to it.")
def register(hub: Hub, user: User, msg: Message) -> None:
    wanted, password = msg.params[0], msg.params[2]  # the e-mail is not used

    def fail(code: str, text: str, account: str = "") -> None:
        hub.send_line(user, "FAIL", "REGISTER", code, account or wanted, text)

    if not user.registered and not hub.settings.accounts.register_before_connect:
        hub.send_line(user, "FAIL", "REGISTER", "COMPLETE_CONNECTION_REQUIRED", wanted,
                      "Finish connecting (NICK, USER, CAP END) before registering")
        return
    if not user.registered and hub.settings.password and not user.password_ok:
        # Early registration must not get round the server password (the spec's server
        # considerations); before-connect is offered, so not COMPLETE_CONNECTION_REQUIRED.
        hub.send_line(user, "FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE", wanted,
                      "Give the server password (PASS) before registering an account")
        return
    if not user.nick:
        hub.send_line(user, "FAIL", "REGISTER", "NEED_NICK", "*",
                      "Choose a nickname first (NICK): the account is named after it")
        return
    name = user.nick if wanted == "*" else wanted
    if names.fold(name) != user.folded:
        if names.is_valid_nick(name):
            fail("ACCOUNT_NAME_MUST_BE_NICK",
                 f"The account name must be your nickname, {user.nick} (or *)")
        else:
            fail("BAD_ACCOUNT_NAME", f"{name} cannot be an account name")
        return

    def answered(code: str, text: str) -> None:
        if code == "SUCCESS":
            hub.send_line(user, "REGISTER", "SUCCESS", name, text)
        else:
            fail(code, text, name)

    create_account(hub, user, user.nick, password, answered)


@command("VERIFY", min_params=2, before_registration=True, usage="VERIFY <ACCOUNT> <CODE>",
         help="Complete a registration that asked for a code (this server never asks).")
def verify(hub: Hub, user: User, msg: Message) -> None:
    account = msg.params[0]
    if user.account:
        hub.send_line(user, "FAIL", "VERIFY", "ALREADY_AUTHENTICATED", account,
                      f"You are already logged in as {user.account}")
        return
    hub.send_line(user, "FAIL", "VERIFY", "INVALID_CODE", account,
                  "No registration is waiting for a code: this server does not send any, "
                  "REGISTER alone makes the account")
