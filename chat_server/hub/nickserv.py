"""NickServ, the built-in service for accounts: REGISTER, IDENTIFY, INFO, GHOST, DROP,
SET PASSWORD, CERT and HELP, said to it (PRIVMSG NickServ, or the NS and NICKSERV
commands) and answered in NOTICEs from it.

What is said to NickServ may hold a password, so it reaches only this module: never
history, an echo, another person or a log (the SERVICES route of `hub/table.py`). Every
change is a fact (`hub/facts.py`), applied by the reducers of `hub/accounts.py`;
password work runs off the loop (`Hub.passwords`). Registers into the command table
of `hub/table.py`. Must not import the session, transport or store layers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from chat_server.hub.accounts import (
    Account,
    Credentials,
    busy_text,
    check_password,
    find_account,
    log_in,
)
from chat_server.hub.facts import AccountDropped, CertsSet, PasswordSet, UserKilled
from chat_server.hub.model import User
from chat_server.hub.register import create_account, password_refusal
from chat_server.hub.table import command, service
from chat_server.protocol import names
from chat_server.protocol.message import Message

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

NICKSERV = "NickServ"

Subcommand = Callable[["Hub", User, list[str]], None]

# Subcommand name -> (handler, usage, what it does), in the order HELP lists them.
_SUBCOMMANDS: dict[str, tuple[Subcommand, str, str]] = {}


def _sub(name: str, usage: str, text: str) -> Callable[[Subcommand], Subcommand]:
    def add(fn: Subcommand) -> Subcommand:
        _SUBCOMMANDS[name] = (fn, usage, text)
        return fn

    return add


def _tell(hub: Hub, user: User, text: str) -> None:
    hub.service_notice(user, NICKSERV, text)


def _usage(hub: Hub, user: User, name: str) -> None:
    _tell(hub, user, f"Usage: {_SUBCOMMANDS[name][1]}")


def _logged_in(hub: Hub, user: User) -> Account | None:
    """The account `user` is logged in to; told to log in first when there is none."""
    account = find_account(hub, user.account) if user.account else None
    if account is None:
        _tell(hub, user, "You are not logged in (IDENTIFY first)")
    return account


@service(NICKSERV)
def nickserv(hub: Hub, user: User, text: str) -> None:
    words = text.split()
    if not words:
        _tell(hub, user, "Say HELP for the commands of NickServ")
        return
    found = _SUBCOMMANDS.get(words[0].upper())
    if found is None:
        _tell(hub, user, f"Unknown command {words[0][:30]}; say HELP for the commands "
                         "of NickServ")
        return
    found[0](hub, user, words[1:])


@command("NS", usage="NS COMMAND [ARGUMENTS]", help="Say something to NickServ (NS HELP).")
def ns(hub: Hub, user: User, msg: Message) -> None:
    nickserv(hub, user, " ".join(msg.params))


@command("NICKSERV", usage="NICKSERV COMMAND [ARGUMENTS]",
         help="Say something to NickServ (NICKSERV HELP).")
def nickserv_command(hub: Hub, user: User, msg: Message) -> None:
    nickserv(hub, user, " ".join(msg.params))


@_sub("HELP", "HELP [COMMAND]", "Show the commands, or how to use one.")
def _help(hub: Hub, user: User, args: list[str]) -> None:
    if args:
        found = _SUBCOMMANDS.get(args[0].upper())
        if found is None:
            _tell(hub, user, f"No such command: {args[0][:30]}")
        else:
            _tell(hub, user, f"{found[1]}: {found[2]}")
        return
    _tell(hub, user, "NickServ keeps accounts; an account is named after the nick that "
                     "registers it. Commands:")
    for usage, text in ((u, t) for _, u, t in _SUBCOMMANDS.values()):
        _tell(hub, user, f"  {usage}: {text}")


@_sub("REGISTER", "REGISTER PASSWORD [EMAIL]",
      "Register your current nick as an account and log in to it.")
def _register(hub: Hub, user: User, args: list[str]) -> None:
    if not 1 <= len(args) <= 2:
        _usage(hub, user, "REGISTER")
        return

    def answered(code: str, text: str) -> None:
        _tell(hub, user, text)

    create_account(hub, user, user.nick, args[0], answered)


@_sub("IDENTIFY", "IDENTIFY [ACCOUNT] PASSWORD",
      "Log in to an account (by default the one named after your nick).")
def _identify(hub: Hub, user: User, args: list[str]) -> None:
    if len(args) == 1:
        name, password = user.nick, args[0]
    elif len(args) == 2:
        name, password = args
    else:
        _usage(hub, user, "IDENTIFY")
        return
    if user.account:
        _tell(hub, user, f"You are already logged in as {user.account}")
        return

    def done(account: Account | None, why: str) -> None:
        if account is None:
            _tell(hub, user, why)
            return
        log_in(hub, user, account)
        _tell(hub, user, f"You are now logged in as {account.name}")

    check_password(hub, user, name, password, done)


@_sub("INFO", "INFO [ACCOUNT]", "Show when an account was registered and who uses it now.")
def _info(hub: Hub, user: User, args: list[str]) -> None:
    if len(args) > 1:
        _usage(hub, user, "INFO")
        return
    name = args[0] if args else (user.account or user.nick)
    account = find_account(hub, name)
    if account is None:
        _tell(hub, user, f"{name[:names.NICKLEN]} is not a registered account")
        return
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(account.registered))
    _tell(hub, user, f"Account {account.name}, registered {when}")
    online = sorted(u.nick for u in hub.users.values()
                    if u.account and names.fold(u.account) == account.folded)
    if online:
        _tell(hub, user, f"Logged in now as: {', '.join(online)}")
    else:
        _tell(hub, user, "Nobody is logged in to it now")
    holder = hub.users.get(account.folded)
    if holder is not None and names.fold(holder.account) != account.folded:
        _tell(hub, user, f"The nick {holder.nick} is in use by someone not logged in to it")


@_sub("GHOST", "GHOST NICK",
      "Disconnect whoever uses your account's nick, or a session logged in to your account.")
def _ghost(hub: Hub, user: User, args: list[str]) -> None:
    if len(args) != 1:
        _usage(hub, user, "GHOST")
        return
    target = hub.find_user(args[0])
    if target is None:
        _tell(hub, user, f"Nobody is using the nick {args[0][:names.NICKLEN]}")
        return
    if target is user:
        _tell(hub, user, "You cannot GHOST yourself (QUIT instead)")
        return
    account = _logged_in(hub, user)
    if account is None:
        return
    # Ergo's rule: the nick is the account's, or the session is logged in to it.
    if target.folded != account.folded and names.fold(target.account) != account.folded:
        _tell(hub, user, f"The nick {target.nick} is not yours to GHOST")
        return
    _tell(hub, user, f"Disconnecting {target.nick}")
    hub.emit(UserKilled(user.uid, target.uid, f"GHOST command used by {user.nick}",
                        hub.stamp(), hub.new_msgid()))


@_sub("DROP", "DROP PASSWORD",
      "Delete your account for good; its nick is no longer protected (nor can it be "
      "registered again).")
def _drop(hub: Hub, user: User, args: list[str]) -> None:
    if len(args) != 1:
        _usage(hub, user, "DROP")
        return
    account = _logged_in(hub, user)
    if account is None:
        return

    def done(checked: Account | None, why: str) -> None:
        if checked is None:
            _tell(hub, user, why)
            return
        _tell(hub, user, f"The account {checked.name} is dropped; its nick is free for "
                         "anyone to use, but cannot be registered again")
        hub.emit(AccountDropped(user.uid, checked.name))

    check_password(hub, user, account.name, args[0], done)


@_sub("SET", "SET PASSWORD NEWPASSWORD", "Change your account's password.")
def _set(hub: Hub, user: User, args: list[str]) -> None:
    if len(args) != 2 or args[0].upper() != "PASSWORD":
        _usage(hub, user, "SET")
        return
    account = _logged_in(hub, user)
    if account is None:
        return
    password = args[1]
    refused = password_refusal(hub, password)
    if refused is not None:
        _tell(hub, user, refused[1])
        return
    busy = hub.work_budget.take(user.host)
    if busy > 0:
        _tell(hub, user, busy_text(busy))
        return
    name = account.name

    def made(creds: Credentials | None) -> None:
        if creds is None:
            _tell(hub, user, "The password could not be changed; try again later")
            return
        if find_account(hub, name) is None:
            _tell(hub, user, f"The account {name} no longer exists")
            return
        hub.emit(PasswordSet(user.uid, name, creds.password_hash, creds.scram))
        _tell(hub, user, f"The password of {name} is changed")

    hub.hold(user)
    hub.passwords.make(password, hub.settings.accounts.scram_iterations,
                       lambda creds: hub.resume(user, lambda: made(creds)))


# A client certificate's SHA-256 fingerprint, as the server computes it (lowercase hex).
_CERTFP = re.compile(r"[0-9a-f]{64}")


@_sub("CERT", "CERT ADD [FINGERPRINT] | CERT DEL FINGERPRINT | CERT LIST",
      "Manage the client certificates that log in to your account (SASL EXTERNAL); ADD "
      "alone adds the one you are connected with.")
def _cert(hub: Hub, user: User, args: list[str]) -> None:
    sub = args[0].upper() if args else ""
    arguments = {"ADD": (1, 2), "DEL": (2,), "LIST": (1,)}.get(sub, ())
    if len(args) not in arguments:
        _usage(hub, user, "CERT")
        return
    account = _logged_in(hub, user)
    if account is None:
        return
    if sub == "LIST":
        if not account.certfps:
            _tell(hub, user, f"No client certificate logs in to {account.name}")
        for fp in account.certfps:
            _tell(hub, user, f"Certificate: {fp}")
        return
    if len(args) == 2:
        fp = args[1].lower().replace(":", "")
    elif user.certfp:
        fp = user.certfp
    else:
        _tell(hub, user, "You are not connected with a client certificate; give its "
                         "SHA-256 fingerprint")
        return
    if not _CERTFP.fullmatch(fp):
        _tell(hub, user, "A fingerprint is the certificate's SHA-256 in hex (64 digits)")
        return
    certs = list(account.certfps)
    if sub == "DEL":
        if fp not in certs:
            _tell(hub, user, f"That certificate does not log in to {account.name}")
            return
        certs.remove(fp)
        _tell(hub, user, f"Certificate {fp} no longer logs in to {account.name}")
    else:
        if fp in certs:
            _tell(hub, user, f"That certificate already logs in to {account.name}")
            return
        if any(fp in other.certfps for other in hub.accounts.values()):
            _tell(hub, user, "That certificate logs in to another account")
            return
        limit = hub.settings.accounts.max_certs
        if len(certs) >= limit:
            _tell(hub, user, f"An account may have at most {limit} certificates; DEL one "
                             "first")
            return
        certs.append(fp)
        _tell(hub, user, f"Certificate {fp} now logs in to {account.name}")
    hub.emit(CertsSet(user.uid, account.name, " ".join(certs)))
