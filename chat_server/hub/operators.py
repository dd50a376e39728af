"""IRC operators: OPER, KILL, WALLOPS, REHASH, and INFO beside them.

Owns checking an OPER against the `[[opers]]` blocks (argon2id hashes, checked off the
loop like account passwords) and the
operator-only commands; what they change (user mode +o, a KILL, a WALLOPS) is emitted as
facts and applied in `hub/apply.py`, so every node of a cluster agrees who is an
operator. Registers into the one command table of `hub/table.py`. Must not import
the session, transport or store layers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from chat_server import __version__
from chat_server.hub.accounts import busy_text, throttled_text
from chat_server.hub.facts import OperUp, UserKilled, WallopsSent
from chat_server.hub.model import User
from chat_server.hub.table import command
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message
from chat_server.protocol.text import strip_controls

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

log = logging.getLogger("chat_server.accounts")

INFO_LINES = (
    f"roomchat {__version__}: a multi-room chat server speaking IRC and plain text",
    "on one port, with history kept in SQLite.",
    "Licensed under the MIT licence.",
)


def is_oper(user: User) -> bool:
    return "o" in user.modes


def _require_oper(hub: Hub, user: User) -> bool:
    """True for an operator; otherwise answers 481 and returns False."""
    if is_oper(user):
        return True
    hub.reply(user, N.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
    return False


@command("OPER", min_params=2, usage="OPER NAME PASSWORD",
         help="Become an IRC operator with a name and password of the server's [[opers]].")
def oper(hub: Hub, user: User, msg: Message) -> None:
    name, password = msg.params[0], msg.params[1]
    block = next((b for b in hub.settings.opers if b.name == name), None)
    # An unknown name and a wrong password get the same answer: a name is not revealed.
    if block is None:
        hub.reply(user, N.ERR_PASSWDMISMATCH, "Password incorrect")
        return
    if not names.mask_matches(names.normalize_mask(block.host), user.source.prefix):
        hub.reply(user, N.ERR_NOOPERHOST, "No O-lines for your host")
        return
    # The password is checked off the loop (argon2id: tens of milliseconds), within the
    # limits logins have: failures per operator name and per address, work per address.
    keys = (f"oper:{block.name}", f"host:{user.host}")
    wait = hub.throttle.wait(keys)
    if wait > 0:
        hub.reply(user, N.ERR_PASSWDMISMATCH, throttled_text(wait))
        return
    busy = hub.work_budget.take(user.host)
    if busy > 0:
        hub.reply(user, N.ERR_PASSWDMISMATCH, busy_text(busy))
        return

    def checked(ok: bool) -> None:
        if not ok:
            hub.throttle.failed(keys)
            log.warning("failed OPER %r from %s", block.name, user.host)
            hub.reply(user, N.ERR_PASSWDMISMATCH, "Password incorrect")
        elif is_oper(user):
            hub.reply(user, N.RPL_YOUREOPER, "You are now an IRC operator")
        else:
            hub.emit(OperUp(user.uid, block.name))

    hub.hold(user)
    hub.passwords.check(block.password, password,
                        lambda ok: hub.resume(user, lambda: checked(ok)))


@command("KILL", min_params=2, usage="KILL NICK :REASON",
         help="Disconnect someone from the network (operators).")
def kill(hub: Hub, user: User, msg: Message) -> None:
    if not _require_oper(hub, user):
        return
    target = hub.find_user(msg.params[0])
    if target is None:
        hub.reply(user, N.ERR_NOSUCHNICK, msg.params[0], "No such nick/channel")
        return
    reason = strip_controls(msg.params[1])[: names.KICKLEN]
    hub.emit(UserKilled(user.uid, target.uid, reason, hub.stamp(), hub.new_msgid()))


def kill_message(killer: str, reason: str) -> str:
    """What the victim and their room-mates are told."""
    return f"Killed ({killer} ({reason}))"


@command("WALLOPS", min_params=1, usage="WALLOPS :TEXT",
         help="Send a notice to everyone with user mode +w (operators).")
def wallops(hub: Hub, user: User, msg: Message) -> None:
    if not _require_oper(hub, user):
        return
    text = strip_controls(msg.params[0], keep_formatting=True)
    if text:
        hub.emit(WallopsSent(user.uid, text, hub.stamp()))


@command("REHASH", usage="REHASH",
         help="Read the configuration file again, as SIGHUP does (operators).")
def rehash(hub: Hub, user: User, msg: Message) -> None:
    if not _require_oper(hub, user):
        return
    hub.reply(user, N.RPL_REHASHING, "roomchat.toml", "Rehashing")
    if hub.rehash is not None:
        hub.rehash()


@command("INFO", usage="INFO", help="Show what this server is.")
def info(hub: Hub, user: User, msg: Message) -> None:
    for line in INFO_LINES:
        hub.reply(user, N.RPL_INFO, line)
    hub.reply(user, N.RPL_ENDOFINFO, "End of /INFO list")
