"""SASL login (IRCv3 sasl-3.1 and 3.2): the AUTHENTICATE command with PLAIN,
SCRAM-SHA-256 and EXTERNAL.

One exchange per connection lives in `User.sasl` (an `Exchange`) from
`AUTHENTICATE <mechanism>` until it succeeds, fails or is aborted. PLAIN's password
goes to `check_password` (argon2 off the loop, within the brute-force limits; the
person's next commands wait for it). SCRAM's server side is HMACs over the stored
credentials, so it runs here, on the loop, with the same limits. EXTERNAL compares the
TLS client certificate's fingerprint with the account's. Nothing here logs or echoes
what a client sent: a failure says why in words of its own. Registers into the one
command table of `hub/table.py`. Must not import the session, transport or store
layers.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scramp import ScramException, ScramMechanism
from scramp.core import ScramServer

from chat_server.hub.accounts import (
    SASL_MECHANISMS,
    Account,
    check_password,
    find_account,
    log_in,
    scram_auth_info,
    throttle_keys,
    throttled_text,
)
from chat_server.hub.model import User
from chat_server.hub.table import command
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message
from chat_server.protocol.sasl import (
    Malformed,
    ResponseReader,
    TooLong,
    decode_plain,
    encode_response,
)

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

log = logging.getLogger("chat_server.accounts")

_SCRAM = ScramMechanism("SCRAM-SHA-256")
# Keys this process's stand-in credentials for names that are no account, so that
# SCRAM for an unknown name runs like SCRAM with a wrong password (names stay private).
_UNKNOWN_KEY = os.urandom(32)

FAILED = "SASL authentication failed"


@dataclass(slots=True)
class Exchange:
    """A SASL exchange waiting for the client's next response."""

    mechanism: str
    reader: ResponseReader
    # SCRAM-SHA-256: the conversation, the name it is for and that name's account
    # (None when there is none: the exchange runs on and fails at the proof).
    scram: ScramServer | None = None
    name: str = ""
    account: Account | None = None
    # The server-final message has been sent: the client's empty response ends it.
    proved: bool = False


@command("AUTHENTICATE", min_params=1, before_registration=True,
         usage="AUTHENTICATE MECHANISM|DATA|*",
         help="Log in with SASL: PLAIN, SCRAM-SHA-256 or EXTERNAL; * aborts.")
def authenticate(hub: Hub, user: User, msg: Message) -> None:
    param = msg.params[0]
    if user.account:
        # sasl-3.2 lets a server refuse to change accounts: 907 says so.
        user.sasl = None
        hub.reply(user, N.ERR_SASLALREADY, f"You are already logged in as {user.account}")
        return
    if param == "*":
        user.sasl = None
        hub.reply(user, N.ERR_SASLABORTED, "SASL authentication aborted")
        return
    exchange = user.sasl
    if not isinstance(exchange, Exchange):
        _start(hub, user, param)
        return
    try:
        data = exchange.reader.add(param)
    except TooLong:
        user.sasl = None
        hub.reply(user, N.ERR_SASLTOOLONG, "SASL message too long")
        return
    except Malformed as exc:
        # A response past accounts.sasl_max_bytes fails like Ergo's (904), where one
        # line over 400 bytes is the spec's 905.
        user.sasl = None
        hub.reply(user, N.ERR_SASLFAIL, f"{FAILED}: {exc}")
        return
    if data is None:
        return  # a full chunk: more follows
    if exchange.mechanism == "PLAIN":
        _plain(hub, user, data)
    elif exchange.mechanism == "EXTERNAL":
        _external(hub, user, data)
    else:
        _scram(hub, user, exchange, data)


def abort(hub: Hub, user: User) -> None:
    """The client registers in the middle of an exchange: sasl-3.1 says to abort it
    (906) and register them without an account."""
    if user.sasl is not None:
        user.sasl = None
        hub.reply(user, N.ERR_SASLABORTED, "SASL authentication aborted by registration")


def _start(hub: Hub, user: User, mechanism: str) -> None:
    mechanism = mechanism.upper()
    if mechanism not in SASL_MECHANISMS:
        hub.reply(user, N.RPL_SASLMECHS, ",".join(SASL_MECHANISMS),
                  "are available SASL mechanisms")
        hub.reply(user, N.ERR_SASLFAIL, f"{FAILED}: unknown mechanism")
        return
    user.sasl = Exchange(mechanism, ResponseReader(hub.settings.accounts.sasl_max_bytes))
    # All three are client-first: an empty challenge asks for the first response.
    hub.send_line(user, "AUTHENTICATE", "+")


def _succeeded(hub: Hub, user: User, account: Account) -> None:
    user.sasl = None
    log_in(hub, user, account)
    hub.reply(user, N.RPL_SASLSUCCESS, "SASL authentication successful")


def _failed(hub: Hub, user: User, why: str) -> None:
    user.sasl = None
    hub.reply(user, N.ERR_SASLFAIL, f"{FAILED}: {why}")


# -- PLAIN ------------------------------------------------------------------------


def _plain(hub: Hub, user: User, data: bytes) -> None:
    try:
        authzid, authcid, password = decode_plain(data)
    except Malformed:
        _failed(hub, user, "invalid PLAIN message")
        return
    if authzid and names.fold(authzid) != names.fold(authcid):
        _failed(hub, user, "the authorization identity must be the account logged in to")
        return
    user.sasl = None

    def done(account: Account | None, why: str) -> None:
        if account is None:
            _failed(hub, user, why)
        else:
            _succeeded(hub, user, account)

    check_password(hub, user, authcid, password, done)


# -- EXTERNAL ---------------------------------------------------------------------


def _external(hub: Hub, user: User, data: bytes) -> None:
    certfp = user.certfp.lower()
    if not certfp:
        _failed(hub, user, "you are not connected with a client certificate")
        return
    try:
        authzid = data.decode("utf-8")
    except UnicodeDecodeError:
        _failed(hub, user, "invalid authorization identity")
        return
    if authzid:
        account = find_account(hub, authzid)
        if account is not None and certfp not in _fingerprints(account):
            account = None
    else:
        account = next((a for a in hub.accounts.values() if certfp in _fingerprints(a)), None)
    if account is None:
        named = find_account(hub, authzid) if authzid else None
        log.warning("failed certificate login%s from %s",
                    f" to account {_shown(named)}" if authzid else "", user.host)
        _failed(hub, user, "your client certificate is not one of the account's")
        return
    _succeeded(hub, user, account)


def _shown(account: Account | None) -> str:
    """An account as a log line names it. A name that is no account is not logged,
    as in `check_password`: it may be a password typed in its place."""
    return repr(account.name) if account is not None else "(unknown)"


def _fingerprints(account: Account) -> set[str]:
    return {fp.lower() for fp in account.certfps}


# -- SCRAM-SHA-256 ----------------------------------------------------------------


def _scram(hub: Hub, user: User, exchange: Exchange, data: bytes) -> None:
    if exchange.proved:
        # RFC 4422: after the server's final message the client's response is empty.
        if data or exchange.account is None:
            _failed(hub, user, "unexpected response after the server's final message")
            return
        hub.throttle.succeeded(throttle_keys(exchange.name, user.host)[:1])
        _succeeded(hub, user, exchange.account)
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        _failed(hub, user, "invalid SCRAM message")
        return
    if exchange.scram is None:
        _scram_first(hub, user, exchange, text)
    else:
        _scram_final(hub, user, exchange, text)


def _scram_first(hub: Hub, user: User, exchange: Exchange, text: str) -> None:
    def auth_fn(name: str) -> tuple[bytes, bytes, bytes, int]:
        exchange.name = name
        exchange.account = find_account(hub, name)
        info = scram_auth_info(exchange.account.scram) if exchange.account else None
        if info is None:
            exchange.account = None
            return _unknown_credentials(name, hub.settings.accounts.scram_iterations)
        return info

    server = _SCRAM.make_server(auth_fn)
    try:
        server.set_client_first(text)
    except ScramException:
        # scramp also refuses an authorization identity in the GS2 header.
        _failed(hub, user, "invalid SCRAM client-first message")
        return
    wait = hub.throttle.wait(throttle_keys(exchange.name, user.host))
    if wait > 0:
        log.warning("login to account %s from %s refused: too many failures",
                    _shown(exchange.account), user.host)
        _failed(hub, user, throttled_text(wait))
        return
    exchange.scram = server
    for chunk in encode_response(server.get_server_first().encode("utf-8")):
        hub.send_line(user, "AUTHENTICATE", chunk)


def _scram_final(hub: Hub, user: User, exchange: Exchange, text: str) -> None:
    server = exchange.scram
    assert server is not None
    keys = throttle_keys(exchange.name, user.host)
    try:
        server.set_client_final(text)
    except ScramException:
        if exchange.account is None:
            hub.throttle.failed(keys[1:])
            log.warning("failed login to an unknown account from %s", user.host)
        else:
            hub.throttle.failed(keys)
            log.warning("failed login to account %r from %s", exchange.account.name, user.host)
        _failed(hub, user, "Invalid account credentials")
        return
    exchange.proved = True
    for chunk in encode_response(server.get_server_final().encode("utf-8")):
        hub.send_line(user, "AUTHENTICATE", chunk)


def _unknown_credentials(name: str, iterations: int) -> tuple[bytes, bytes, bytes, int]:
    """Credentials no password matches, the same for a name at every attempt."""
    def derive(label: bytes) -> bytes:
        return hmac.new(_UNKNOWN_KEY, label + names.fold(name).encode(), hashlib.sha256).digest()

    return derive(b"salt")[:16], derive(b"stored"), derive(b"server"), iterations
