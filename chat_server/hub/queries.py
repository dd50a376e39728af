"""Query-only commands: WHO (and WHOX), WHOIS, WHOWAS, ISON, USERHOST, MOTD, LUSERS,
VERSION, TIME, LINKS, HELP and HELPOP.

They read the hub's state or the command table and change nothing, so they emit no
facts. Registers into the one command table of `hub/table.py`. Must not import the session,
transport or store layers.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chat_server.hub.model import Room, User, prefix_chars
from chat_server.hub.table import BOT_MODE, COMMANDS, VERSION, command
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message
from chat_server.protocol.text import number

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub



# Command names per RPL_HELPTXT line of the index.
INDEX_PER_LINE = 8


def _help(hub: Hub, user: User, msg: Message) -> None:
    """The help of one command, from its entry in the table; the index without one."""
    subject = msg.param(0).upper()
    if not subject:
        documented = sorted(name for name, spec in COMMANDS.items() if spec.help)
        hub.reply(user, N.RPL_HELPSTART, "*", "roomchat commands (HELP COMMAND for one):")
        for i in range(0, len(documented), INDEX_PER_LINE):
            hub.reply(user, N.RPL_HELPTXT, "*", " ".join(documented[i:i + INDEX_PER_LINE]))
        hub.reply(user, N.RPL_ENDOFHELP, "*", "End of /HELP")
        return
    spec = COMMANDS.get(subject)
    if spec is None or not spec.help:
        hub.reply(user, N.ERR_HELPNOTFOUND, subject, "No help available on this topic")
        return
    hub.reply(user, N.RPL_HELPSTART, subject, f"** {spec.usage or subject} **")
    hub.reply(user, N.RPL_HELPTXT, subject, spec.help)
    hub.reply(user, N.RPL_ENDOFHELP, subject, "End of /HELP")


@command("HELP", usage="HELP [COMMAND]", help="Show the commands, or how to use one.")
def help_(hub: Hub, user: User, msg: Message) -> None:
    _help(hub, user, msg)


@command("HELPOP", usage="HELPOP [COMMAND]", help="The same as HELP.")
def helpop(hub: Hub, user: User, msg: Message) -> None:
    _help(hub, user, msg)


@command("LINKS", usage="LINKS", help="Show the servers of the network.")
def links(hub: Hub, user: User, msg: Message) -> None:
    name = hub.settings.name
    hub.reply(user, N.RPL_LINKS, name, name, f"0 {hub.settings.description}")
    hub.reply(user, N.RPL_ENDOFLINKS, "*", "End of /LINKS list")


def _who_flags(target: User, room: Room | None, multi: bool) -> str:
    flags = "G" if target.away else "H"
    if "o" in target.modes:
        flags += "*"
    if BOT_MODE in target.modes:
        flags += BOT_MODE
    if room is not None:
        flags += prefix_chars(room.status(target), multi)
    return flags


# WHOX (IRCv3): the fields a `%` request may ask for, in the one order replies use.
WHOX_FIELDS = "tcuihsnfdlaor"


def _whox_row(hub: Hub, target: User, channel: str, flags: str, fields: str,
              token: str) -> list[str]:
    """One RPL_WHOSPCRPL: the asked fields in WHOX order, whatever order they came in."""
    values = {
        "t": token or "0", "c": channel, "u": target.user, "i": target.host,
        "h": target.host, "s": hub.settings.name, "n": target.nick, "f": flags,
        "d": "0", "l": str(int(hub.clock() - target.last_active)),
        "a": target.account or "0",  # "`0` is used for [account] when the user is logged out"
        "o": "n/a", "r": target.realname,
    }
    return [values[f] for f in WHOX_FIELDS if f in fields]


@command("WHO", usage="WHO #ROOM|NICK [%FIELDS[,TOKEN]]",
         help="List people in a room, or matching a mask (WHOX fields: %tcuihsnfdlaor).")
def who(hub: Hub, user: User, msg: Message) -> None:
    mask = msg.param(0) or "*"
    multi = "multi-prefix" in user.caps
    server = hub.settings.name
    rows: list[tuple[str, User, Room | None]] = []
    room = hub.find_room(mask) if mask[0] in names.CHANTYPES else None
    if room is not None:
        if not room.secret_to(user):
            rows = [(room.name, m, room) for m in room.members]
    elif mask[0] not in names.CHANTYPES:
        exact = hub.find_user(mask)
        if exact is not None:
            rows = [("*", exact, None)]
        elif any(ch in mask for ch in "*?"):
            # +i hides a person from a mask, except from those who share a room with them.
            seen = hub.neighbours(user) | {user}
            matches = [
                u for u in hub.users.values()
                if names.mask_matches(mask, u.nick) and ("i" not in u.modes or u in seen)
            ]
            rows = [("*", u, None) for u in matches[:200]]
    fields, _, token = msg.param(1).partition(",")
    for channel, target, in_room in rows:
        flags = _who_flags(target, in_room, multi)
        if fields.startswith("%"):
            hub.reply(user, N.RPL_WHOSPCRPL,
                      *_whox_row(hub, target, channel, flags, fields[1:], token[:3]))
            continue
        hub.reply(user, N.RPL_WHOREPLY, channel, target.user, target.host, server, target.nick,
                  flags, f"0 {target.realname}")
    hub.reply(user, N.RPL_ENDOFWHO, mask, "End of WHO list")


@command("WHOIS", min_params=1, usage="WHOIS NICK", help="Show who someone is.")
def whois(hub: Hub, user: User, msg: Message) -> None:
    nick = msg.params[-1].split(",")[0]
    target = hub.find_user(nick)
    if target is None:
        hub.reply(user, N.ERR_NOSUCHNICK, nick, "No such nick/channel")
        hub.reply(user, N.RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    hub.reply(user, N.RPL_WHOISUSER, target.nick, target.user, target.host, "*", target.realname)
    rooms = [
        prefix_chars(room.status(target), False) + room.name
        for room in target.rooms.values()
        if not room.secret_to(user)
    ]
    if rooms:
        hub.reply(user, N.RPL_WHOISCHANNELS, target.nick, " ".join(rooms))
    hub.reply(user, N.RPL_WHOISSERVER, target.nick, hub.settings.name, hub.settings.network)
    if target.away:
        hub.reply(user, N.RPL_AWAY, target.nick, target.away)
    if "o" in target.modes:
        hub.reply(user, N.RPL_WHOISOPERATOR, target.nick, "is an IRC operator")
    if BOT_MODE in target.modes:
        hub.reply(user, N.RPL_WHOISBOT, target.nick, "is a bot")
    if target.secure:
        hub.reply(user, N.RPL_WHOISSECURE, target.nick, "is using a secure connection")
    if target.account:
        hub.reply(user, N.RPL_WHOISACCOUNT, target.nick, target.account, "is logged in as")
    if target.certfp and target is user:
        hub.reply(user, N.RPL_WHOISCERTFP, target.nick,
                  f"has client certificate fingerprint {target.certfp}")
    now = hub.clock()
    hub.reply(user, N.RPL_WHOISIDLE, target.nick, str(int(now - target.last_active)),
              str(int(target.signon)), "seconds idle, signon time")
    hub.reply(user, N.RPL_ENDOFWHOIS, target.nick, "End of /WHOIS list")


@command("WHOWAS", min_params=1, usage="WHOWAS NICK [COUNT]", help="Show who used a nickname.")
def whowas(hub: Hub, user: User, msg: Message) -> None:
    nick = msg.params[0]
    folded = names.fold(nick)
    count = number(msg.param(1)) or 10
    found = [e for e in reversed(hub.whowas) if names.fold(e.nick) == folded][:count]
    if not found:
        hub.reply(user, N.ERR_WASNOSUCHNICK, nick, "There was no such nickname")
    for e in found:
        hub.reply(user, N.RPL_WHOWASUSER, e.nick, e.user, e.host, "*", e.realname)
        hub.reply(user, N.RPL_WHOISSERVER, e.nick, hub.settings.name,
                  time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(e.time)))
    hub.reply(user, N.RPL_ENDOFWHOWAS, nick, "End of WHOWAS")


@command("ISON", min_params=1, usage="ISON NICK [NICK ...]", help="Which of these are online.")
def ison(hub: Hub, user: User, msg: Message) -> None:
    wanted = " ".join(msg.params).split()
    online = [u.nick for u in map(hub.find_user, wanted) if u is not None]
    hub.reply(user, N.RPL_ISON, " ".join(online))


@command("USERHOST", min_params=1, usage="USERHOST NICK [NICK ...]", help="user@host of nicks.")
def userhost(hub: Hub, user: User, msg: Message) -> None:
    replies = []
    for nick in msg.params[:5]:
        target = hub.find_user(nick)
        if target is not None:
            state = "-" if target.away else "+"
            replies.append(f"{target.nick}={state}{target.user}@{target.host}")
    hub.reply(user, N.RPL_USERHOST, " ".join(replies))


@command("MOTD", usage="MOTD", help="Show the message of the day.")
def motd(hub: Hub, user: User, msg: Message) -> None:
    hub.send_motd(user)


@command("LUSERS", usage="LUSERS", help="Count users and rooms.")
def lusers(hub: Hub, user: User, msg: Message) -> None:
    hub.send_lusers(user)


@command("VERSION", usage="VERSION", help="Show the server's version.")
def version(hub: Hub, user: User, msg: Message) -> None:
    hub.reply(user, N.RPL_VERSION, VERSION, hub.settings.name, "roomchat")
    hub.send_isupport(user)


@command("TIME", usage="TIME", help="Show the server's time.")
def time_(hub: Hub, user: User, msg: Message) -> None:
    now = hub.clock()
    hub.reply(user, N.RPL_TIME, hub.settings.name, str(int(now)), "0",
              time.strftime("%A %B %d %Y -- %H:%M:%S +00:00", time.gmtime(now)))
