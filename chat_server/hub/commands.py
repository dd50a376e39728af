"""The command table: one entry per command, shared by the IRC and plain dialects.

Each entry carries the checks every command needs (parameter count, allowed before
registration) so handlers stay short; handlers decide against the hub's state, answer
errors at once and emit facts for every change of shared state (applied by
`hub/apply.py`), never touching a connection. Plain-mode `/commands` are translated into these same
messages. Must not import the session, transport or store layers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chat_server import __version__
from chat_server.hub.facts import (
    AwaySet,
    InviteSent,
    NickSet,
    RealnameSet,
    RoomJoined,
    RoomModeSet,
    RoomParted,
    Said,
    TaggedSaid,
    TopicSet,
    UserFlagsSet,
    UserKicked,
    UserModeSet,
    encode_changes,
)
from chat_server.hub.model import Ban, Room, User, prefix_chars
from chat_server.hub.playback import Refused, parse_request
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import MAX_REST_BYTES, Message, format_tags, split_text
from chat_server.protocol.text import number, strip_controls

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

Handler = Callable[["Hub", User, Message], None]

VERSION = f"roomchat-{__version__}"
CAPABILITIES = (
    "away-notify",
    "batch",
    "cap-notify",
    "draft/chathistory",
    "draft/event-playback",
    "echo-message",
    "extended-monitor",
    "labeled-response",
    "message-tags",
    "multi-prefix",
    "server-time",
    "setname",
    "userhost-in-names",
)


@dataclass(frozen=True, slots=True)
class Command:
    handler: Handler
    min_params: int = 0
    before_registration: bool = False
    # Resets the idle time shown by WHOIS; PING/PONG and queries do not.
    counts_as_activity: bool = False
    usage: str = ""
    help: str = ""


COMMANDS: dict[str, Command] = {}


def command(
    name: str,
    *,
    min_params: int = 0,
    before_registration: bool = False,
    activity: bool = False,
    usage: str = "",
    help: str = "",
) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        COMMANDS[name] = Command(fn, min_params, before_registration, activity, usage, help)
        return fn

    return register


# -- registration ------------------------------------------------------------------


@command("CAP", min_params=1, before_registration=True,
         usage="CAP LS|LIST|REQ|END", help="Negotiate IRCv3 capabilities.")
def cap(hub: Hub, user: User, msg: Message) -> None:
    sub = msg.params[0].upper()
    label = user.label
    if sub == "LS":
        if not user.registered:
            user.cap_negotiating = True
        if (number(msg.param(1)) or 0) >= 302:
            user.caps = user.caps | {"cap-notify"}
        offered = " ".join(offered_caps(hub))
        sts = sts_policy(hub, user)
        if sts and msg.param(1).isdigit() and int(msg.param(1)) >= 302:
            # Only 302 clients may be sent values, and only they know STS.
            offered += f" sts={sts}"
        hub.send_line(user, "CAP", label, "LS", offered)
    elif sub == "LIST":
        hub.send_line(user, "CAP", label, "LIST", " ".join(sorted(user.caps)))
    elif sub == "REQ":
        if not user.registered:
            user.cap_negotiating = True
        wanted = msg.param(1)
        add: set[str] = set()
        remove: set[str] = set()
        ok = bool(wanted.split())
        for item in wanted.split():
            name = item[1:] if item.startswith("-") else item
            if name not in offered_caps(hub):
                ok = False
                break
            (remove if item.startswith("-") else add).add(name)
        if ok:
            user.caps = frozenset((user.caps | add) - remove)
            hub.send_line(user, "CAP", label, "ACK", wanted)
        else:
            hub.send_line(user, "CAP", label, "NAK", wanted)
    elif sub == "END":
        if not user.registered:
            user.cap_negotiating = False
            hub.try_register(user)
    else:
        hub.reply(user, N.ERR_INVALIDCAPCMD, sub, "Invalid CAP command")


def offered_caps(hub: Hub) -> tuple[str, ...]:
    """CAPABILITIES, but labeled-response only on a server of its own: in a cluster
    what a command's facts lead to comes back from the log after its answer was sent,
    so one labeled response could not hold it all."""
    if hub.clustered:
        return tuple(c for c in CAPABILITIES if c != "labeled-response")
    return CAPABILITIES


def sts_policy(hub: Hub, user: User) -> str:
    """The IRCv3 STS value for this connection, or "" when STS is off.

    "To enforce an STS upgrade policy, servers MUST send [port] to non-securely
    connected clients"; "servers MUST send [duration] to securely connected clients".
    Not in CAPABILITIES: "Clients MUST NOT request this capability", so REQ gets NAK.
    """
    s = hub.settings
    if not s.sts_port:
        return ""
    return f"duration={s.sts_duration}" if user.secure else f"port={s.sts_port}"


@command("PASS", min_params=1, before_registration=True,
         usage="PASS PASSWORD", help="Give the server password before registering.")
def pass_(hub: Hub, user: User, msg: Message) -> None:
    if user.registered:
        hub.reply(user, N.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    expected = hub.settings.password
    user.password_ok = not expected or msg.params[0] == expected


@command("NICK", before_registration=True, activity=True,
         usage="NICK NAME", help="Choose or change your nickname.")
def nick(hub: Hub, user: User, msg: Message) -> None:
    new = msg.param(0)
    if not new:
        hub.reply(user, N.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    if not names.is_valid_nick(new):
        hub.reply(user, N.ERR_ERRONEUSNICKNAME, new, "Erroneous nickname")
        return
    folded = names.fold(new)
    holder = hub.users.get(folded)
    if holder is not None and holder is not user:
        hub.reply(user, N.ERR_NICKNAMEINUSE, new, "Nickname is already in use")
        return
    if not user.registered:
        user.set_identity(new)
        hub.try_register(user)
    elif new != user.nick:
        hub.emit(NickSet(user.uid, new, hub.stamp(), hub.new_msgid()))


@command("USER", min_params=4, before_registration=True,
         usage="USER NAME 0 * :REAL NAME", help="Give your user name and real name.")
def user_(hub: Hub, user: User, msg: Message) -> None:
    if user.registered:
        hub.reply(user, N.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    if not msg.params[0] or not msg.params[3]:
        # Modern IRC, USER: an empty username SHOULD be refused "(even if an empty
        # parameter is provided)"; the realname is held to the same rule.
        hub.reply(user, N.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
        return
    # No ident lookup is done, so the user name carries the customary "~".
    user.user = "~" + names.sanitize_user(msg.params[0])
    user.realname = strip_controls(msg.params[3])[:REALNAME_LEN]
    user.set_identity(user.nick)
    hub.try_register(user)


@command("PING", before_registration=True, usage="PING TOKEN", help="Check the server answers.")
def ping(hub: Hub, user: User, msg: Message) -> None:
    if not msg.params:
        hub.reply(user, N.ERR_NOORIGIN, "No origin specified")
        return
    hub.send_line(user, "PONG", hub.settings.name, msg.params[0])


@command("PONG", before_registration=True)
def pong(hub: Hub, user: User, msg: Message) -> None:
    # Any line resets the connection's idle timer in the transport; nothing else to do.
    return None


@command("QUIT", before_registration=True, usage="QUIT [MESSAGE]", help="Leave the server.")
def quit_(hub: Hub, user: User, msg: Message) -> None:
    text = msg.param(0)
    reason = f"Quit: {text}" if text else "Quit"
    hub.disconnect(user, reason, tell_user=reason, log_reason="Quit")


# -- rooms -------------------------------------------------------------------------


def _split_targets(raw: str) -> list[str]:
    return [t for t in raw.split(",") if t]


@command("JOIN", min_params=1, activity=True,
         usage="JOIN #ROOM[,#ROOM] [KEY[,KEY]]", help="Join rooms (JOIN 0 leaves them all).")
def join(hub: Hub, user: User, msg: Message) -> None:
    if msg.params[0] == "0":
        for room in list(user.rooms.values()):
            _part(hub, user, room, "")
        return
    keys = msg.param(1).split(",")
    for i, name in enumerate(_split_targets(msg.params[0])):
        key = keys[i] if i < len(keys) else ""
        _join(hub, user, name, key)


def _join(hub: Hub, user: User, name: str, key: str) -> None:
    if not names.is_valid_room(name):
        hub.reply(user, N.ERR_BADCHANMASK, name, "Bad channel name")
        return
    folded = names.fold(name)
    if folded in user.rooms:
        return
    if len(user.rooms) >= hub.settings.limits.max_rooms_per_user:
        hub.reply(user, N.ERR_TOOMANYCHANNELS, name, "You have joined too many channels")
        return
    room = hub.rooms.get(folded)
    if room is not None:
        invited = user.invites is not None and user.invites.get(folded) == room.created
        if room.key and key != room.key and not invited:
            hub.reply(user, N.ERR_BADCHANNELKEY, room.name, "Cannot join channel (+k)")
            return
        if "i" in room.flags and not invited and not _matches(room.invexes, user):
            hub.reply(user, N.ERR_INVITEONLYCHAN, room.name, "Cannot join channel (+i)")
            return
        if room.limit and len(room.members) >= room.limit and not invited:
            hub.reply(user, N.ERR_CHANNELISFULL, room.name, "Cannot join channel (+l)")
            return
        if _banned(room, user) and not invited:
            hub.reply(user, N.ERR_BANNEDFROMCHAN, room.name, "Cannot join channel (+b)")
            return
    hub.emit(RoomJoined(user.uid, name, hub.stamp(), hub.new_msgid()))


def _matches(masks: list[Ban], user: User) -> bool:
    prefix = user.source.prefix
    return any(names.mask_matches(entry.mask, prefix) for entry in masks)


def _banned(room: Room, user: User) -> bool:
    """A ban matches and no ban exception (+e) does."""
    return _matches(room.bans, user) and not _matches(room.excepts, user)


def _part(hub: Hub, user: User, room: Room, reason: str) -> None:
    hub.emit(RoomParted(user.uid, room.name, reason, hub.stamp(), hub.new_msgid()))


def _member_room(hub: Hub, user: User, name: str) -> Room | None:
    """The room if it exists and `user` is in it; otherwise reply with why not."""
    room = hub.find_room(name)
    if room is None:
        hub.reply(user, N.ERR_NOSUCHCHANNEL, name, "No such channel")
        return None
    if user not in room.members:
        hub.reply(user, N.ERR_NOTONCHANNEL, room.name, "You're not on that channel")
        return None
    return room


@command("PART", min_params=1, activity=True,
         usage="PART #ROOM[,#ROOM] [REASON]", help="Leave rooms.")
def part(hub: Hub, user: User, msg: Message) -> None:
    reason = msg.param(1)[: names.KICKLEN]
    for name in _split_targets(msg.params[0]):
        room = _member_room(hub, user, name)
        if room is not None:
            _part(hub, user, room, reason)


def send_topic(hub: Hub, user: User, room: Room) -> None:
    hub.reply(user, N.RPL_TOPIC, room.name, room.topic)
    hub.reply(user, N.RPL_TOPICWHOTIME, room.name, room.topic_setter, str(int(room.topic_time)))


@command("TOPIC", min_params=1, usage="TOPIC #ROOM [TEXT]", help="Show or set a room's topic.")
def topic(hub: Hub, user: User, msg: Message) -> None:
    if len(msg.params) < 2:
        room = hub.find_room(msg.params[0])
        if room is None:
            hub.reply(user, N.ERR_NOSUCHCHANNEL, msg.params[0], "No such channel")
        elif room.topic:
            send_topic(hub, user, room)
        else:
            hub.reply(user, N.RPL_NOTOPIC, room.name, "No topic is set")
        return
    room = _member_room(hub, user, msg.params[0])
    if room is None:
        return
    if "t" in room.flags and not room.is_op(user):
        hub.reply(user, N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator")
        return
    user.last_active = hub.clock()
    text = strip_controls(msg.params[1], keep_formatting=True)[: names.TOPICLEN]
    hub.emit(TopicSet(user.uid, room.name, text, hub.stamp(), hub.new_msgid()))


def _names_entries(room: Room, viewer: User) -> list[str]:
    multi = "multi-prefix" in viewer.caps
    full = "userhost-in-names" in viewer.caps
    return [
        prefix_chars(status, multi) + (member.source.prefix if full else member.nick)
        for member, status in room.members.items()
    ]


def send_names(hub: Hub, user: User, room: Room, end: bool = True) -> None:
    # Pack names into lines that stay within 512 bytes at the receiver.
    symbol = "@" if "s" in room.flags else "="  # RFC 2812 3.2.5: "@" for secret
    head = len(f":{hub.settings.name} 353 {user.nick} {symbol} {room.name} :".encode()) + 2
    budget = MAX_REST_BYTES - head
    line: list[str] = []
    size = 0
    for entry in _names_entries(room, user):
        cost = len(entry.encode()) + 1
        if line and size + cost > budget:
            hub.reply(user, N.RPL_NAMREPLY, symbol, room.name, " ".join(line))
            line, size = [], 0
        line.append(entry)
        size += cost
    if line:
        hub.reply(user, N.RPL_NAMREPLY, symbol, room.name, " ".join(line))
    if end:
        hub.reply(user, N.RPL_ENDOFNAMES, room.name, "End of /NAMES list")


@command("NAMES", usage="NAMES #ROOM", help="List who is in a room.")
def names_(hub: Hub, user: User, msg: Message) -> None:
    target = msg.param(0)
    wanted = _split_targets(target)[: hub.settings.limits.max_targets]
    shown = [r for r in map(hub.find_room, wanted) if r is not None and not r.secret_to(user)]
    for room in shown:
        send_names(hub, user, room, end=False)
    # One 366 ends them all, naming what was asked.
    ended = shown[0].name if len(wanted) == 1 and shown else target or "*"
    hub.reply(user, N.RPL_ENDOFNAMES, ended, "End of /NAMES list")


def _threshold(get: Callable[[Room], float | None], op: str,
               n: float) -> Callable[[Room], bool]:
    def test(room: Room) -> bool:
        value = get(room)
        return value is not None and (value > n if op == ">" else value < n)
    return test


def _masked(mask: str, negate: bool) -> Callable[[Room], bool]:
    def test(room: Room) -> bool:
        return names.mask_matches(mask, room.name) != negate
    return test


def _list_filter(hub: Hub, items: list[str]) -> Callable[[Room], bool] | list[Room]:
    """LIST's parameter (ISUPPORT ELIST=CMNTU): room names give those rooms; masks
    (M), !masks (N), >n and <n people (U), C>m and C<m minutes since creation (C) and
    T>m and T<m minutes since the topic was set (T) filter every room, all at once."""
    now = hub.clock()
    tests: list[Callable[[Room], bool]] = []
    named: list[Room] = []
    for item in items:
        kind, op, value = "", item[:1], item[1:]
        if item[:2] in ("C<", "C>", "T<", "T>"):
            kind, op, value = item[0], item[1], item[2:]
        if op in ("<", ">") and value.isdigit():
            n = int(value)
            if kind == "C":
                tests.append(_threshold(lambda r: (now - r.created) / 60, op, n))
            elif kind == "T":
                tests.append(_threshold(
                    lambda r: (now - r.topic_time) / 60 if r.topic else None, op, n))
            else:
                tests.append(_threshold(lambda r: len(r.members), op, n))
        elif item.startswith("!"):
            tests.append(_masked(item[1:], True))
        elif any(ch in item for ch in "*?"):
            tests.append(_masked(item, False))
        else:
            found = hub.find_room(item)
            if found is not None:
                named.append(found)
    if not tests:
        return named
    return lambda room: all(test(room) for test in tests)


@command("LIST", usage="LIST [#ROOM|MASK|!MASK|>N|<N|C>MIN|C<MIN|T>MIN|T<MIN[,...]]",
         help="List rooms with people counts and topics, all or those matching.")
def list_(hub: Hub, user: User, msg: Message) -> None:
    hub.reply(user, N.RPL_LISTSTART, "Channel", "Users  Name")
    everything = sorted(hub.rooms.values(), key=lambda r: (-len(r.members), r.folded))
    if msg.param(0):
        chosen = _list_filter(hub, _split_targets(msg.params[0]))
        rooms = chosen if isinstance(chosen, list) else list(filter(chosen, everything))
    else:
        rooms = everything
    for room in rooms:
        if room.secret_to(user):
            continue
        modes, _ = room.mode_string(show_key=False)
        hub.reply(user, N.RPL_LIST, room.name, str(len(room.members)),
                  f"[{modes}] {room.topic}".rstrip())
    hub.reply(user, N.RPL_LISTEND, "End of /LIST")


@command("KICK", min_params=2, activity=True, usage="KICK #ROOM[,#ROOM] NICK[,NICK] [REASON]",
         help="Remove people from a room (operators); several rooms pair with the nicks.")
def kick(hub: Hub, user: User, msg: Message) -> None:
    rooms = _split_targets(msg.params[0])
    nicks = _split_targets(msg.params[1])[: hub.settings.limits.max_targets]
    if len(rooms) == 1:
        pairs = [(rooms[0], nick) for nick in nicks]
    elif len(rooms) == len(nicks):
        pairs = list(zip(rooms, nicks, strict=True))
    else:
        hub.reply(user, N.ERR_NEEDMOREPARAMS, "KICK", "Not enough parameters")
        return
    reason = (msg.param(2) or user.nick)[: names.KICKLEN]
    for name, nick in pairs:
        room = _member_room(hub, user, name)
        if room is None:
            continue
        if not room.is_op(user):
            hub.reply(user, N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator")
            continue
        target = hub.find_user(nick)
        if target is None or target not in room.members:
            hub.reply(user, N.ERR_USERNOTINCHANNEL, nick, room.name,
                      "They aren't on that channel")
            continue
        hub.emit(UserKicked(user.uid, room.name, target.uid, reason, hub.stamp(),
                            hub.new_msgid()))


@command("INVITE", activity=True, usage="INVITE NICK #ROOM",
         help="Invite someone into a room; without parameters, list your invitations.")
def invite(hub: Hub, user: User, msg: Message) -> None:
    if not msg.params:
        for folded, created in (user.invites or {}).items():
            room = hub.rooms.get(folded)
            if room is not None and room.created == created:
                hub.reply(user, N.RPL_INVITELIST, room.name)
        hub.reply(user, N.RPL_ENDOFINVITELIST, "End of /INVITE list")
        return
    if len(msg.params) < 2:
        hub.reply(user, N.ERR_NEEDMOREPARAMS, "INVITE", "Not enough parameters")
        return
    target = hub.find_user(msg.params[0])
    if target is None:
        hub.reply(user, N.ERR_NOSUCHNICK, msg.params[0], "No such nick/channel")
        return
    room = _member_room(hub, user, msg.params[1])
    if room is None:
        return
    if "i" in room.flags and not room.is_op(user):
        hub.reply(user, N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator")
        return
    if target in room.members:
        hub.reply(user, N.ERR_USERONCHANNEL, target.nick, room.name, "is already on channel")
        return
    hub.reply(user, N.RPL_INVITING, target.nick, room.name)
    hub.emit(InviteSent(user.uid, target.uid, room.name, hub.clock()))


# -- messages ----------------------------------------------------------------------


def _chat(hub: Hub, user: User, msg: Message) -> None:
    is_notice = msg.command == "NOTICE"
    if not msg.params or not msg.params[0]:
        if not is_notice:
            hub.reply(user, N.ERR_NORECIPIENT, f"No recipient given ({msg.command})")
        return
    # Client-only tags "MUST be relayed on PRIVMSG and NOTICE messages" (message tags).
    client = {key: value for key, value in msg.tags.items() if key.startswith("+")}
    tags = format_tags(client) if client else ""
    is_tagmsg = msg.command == "TAGMSG"
    text = msg.param(1)
    if is_tagmsg and not tags:
        return  # nothing to deliver
    if BOT_MODE in user.modes:
        # IRCv3 bot mode: what a +B user sends carries the `bot` tag (message-tags only).
        tags = f"bot;{tags}" if tags else "bot"
    if not text and not is_tagmsg:
        if not is_notice:
            hub.reply(user, N.ERR_NOTEXTTOSEND, "No text to send")
        return
    # One delivery per person or room, however the target list spells them.
    targets = list({names.fold(t): t for t in msg.params[0].split(",") if t}.values())
    if len(targets) > hub.settings.limits.max_targets:
        if not is_notice:
            hub.reply(user, N.ERR_TOOMANYTARGETS, targets[-1], "Too many targets")
        return
    for name in targets:
        # STATUSMSG: "@#room" reaches the room's operators, "+#room" voiced and up.
        status = name[0] if name[0] in STATUSMSG and name[1:2] in names.CHANTYPES else ""
        if status or name[0] in names.CHANTYPES:
            room = hub.find_room(name[len(status):])
            if room is None:
                if not is_notice:
                    hub.reply(user, N.ERR_NOSUCHCHANNEL, name, "No such channel")
                continue
            if not room.can_speak(user) or (room.status(user) == "" and _banned(room, user)):
                if not is_notice:
                    hub.reply(user, N.ERR_CANNOTSENDTOCHAN, room.name, "Cannot send to channel")
                continue
            for piece in _pieces(hub, user, msg.command, status + room.name, text):
                _said(hub, user, msg.command, status + room.folded, piece, True, tags)
        else:
            target = hub.find_user(name)
            if target is None:
                if not is_notice:
                    hub.reply(user, N.ERR_NOSUCHNICK, name, "No such nick/channel")
                continue
            for piece in _pieces(hub, user, msg.command, target.nick, text):
                _said(hub, user, msg.command, target.uid, piece, False, tags)
            if target.away and not is_notice and not is_tagmsg:
                hub.reply(user, N.RPL_AWAY, target.nick, target.away)


# Membership prefixes a message may be addressed to (ISUPPORT STATUSMSG).
STATUSMSG = "@+"


def _said(hub: Hub, user: User, command: str, target: str, text: str, to_room: bool,
          tags: str) -> None:
    if tags:
        hub.emit(TaggedSaid(user.uid, command, target, text, hub.new_msgid(), hub.stamp(),
                            to_room, tags))
    else:
        hub.emit(Said(user.uid, command, target, text, hub.new_msgid(), hub.stamp(), to_room))


def _pieces(hub: Hub, user: User, command: str, target: str, text: str) -> list[str]:
    """The text as lines each recipient gets within 512 bytes: an IRC client's message
    whose relayed line would pass it (the source the server adds does not fit) is cut
    at a character boundary, as one line, the way other servers do; a plain-mode
    person's long line is split, so that none of it is lost."""
    if not text:
        return [text]  # TAGMSG
    head = len(f":{user.source.prefix} {command} {target} :".encode()) + 2
    pieces = split_text(text, max(MAX_REST_BYTES - head, 64))
    return pieces if user.splits_text else pieces[:1]


@command("PRIVMSG", activity=True,
         usage="PRIVMSG TARGET[,TARGET] :TEXT", help="Send a message to rooms or people.")
def privmsg(hub: Hub, user: User, msg: Message) -> None:
    _chat(hub, user, msg)


@command("TAGMSG", activity=True, usage="@+TAG=VALUE TAGMSG TARGET[,TARGET]",
         help="Send only client tags (typing notices, reactions) to message-tags clients.")
def tagmsg(hub: Hub, user: User, msg: Message) -> None:
    _chat(hub, user, msg)


@command("NOTICE", activity=True,
         usage="NOTICE TARGET[,TARGET] :TEXT", help="Send a notice (never answered automatically).")
def notice(hub: Hub, user: User, msg: Message) -> None:
    _chat(hub, user, msg)


# -- people ------------------------------------------------------------------------


@command("SETNAME", min_params=1, usage="SETNAME :REAL NAME", help="Change your real name.")
def setname(hub: Hub, user: User, msg: Message) -> None:
    realname = strip_controls(msg.params[0])
    if not realname or len(realname) > REALNAME_LEN:
        hub.send_line(user, "FAIL", "SETNAME", "INVALID_REALNAME",
                      f"Real name must be 1 to {REALNAME_LEN} characters")
        return
    if realname != user.realname:
        hub.emit(RealnameSet(user.uid, realname))


# Longest real name kept (USER and SETNAME).
REALNAME_LEN = 100


@command("AWAY", usage="AWAY [TEXT]", help="Mark yourself away, or back without text.")
def away(hub: Hub, user: User, msg: Message) -> None:
    text = strip_controls(msg.param(0), keep_formatting=True)[: names.AWAYLEN]
    if text == user.away:
        # Repeating the same state tells nobody anything new.
        hub.reply(user, N.RPL_NOWAWAY if text else N.RPL_UNAWAY,
                  "You have been marked as being away" if text
                  else "You are no longer marked as being away")
        return
    if text:
        hub.reply(user, N.RPL_NOWAWAY, "You have been marked as being away")
    else:
        hub.reply(user, N.RPL_UNAWAY, "You are no longer marked as being away")
    hub.emit(AwaySet(user.uid, text, hub.clock()))


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
        "a": "0",  # no accounts
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


# -- modes -------------------------------------------------------------------------


@command("MODE", min_params=1, usage="MODE TARGET [+|-MODES [ARGS]]",
         help="Show or change modes of a room (+o +v +t +n +m +i +s +k +l +b) or yourself "
              "(+i +w +B -o).")
def mode(hub: Hub, user: User, msg: Message) -> None:
    target = msg.params[0]
    if target[0] in names.CHANTYPES:
        _room_mode(hub, user, msg)
        return
    other = hub.find_user(target)
    if other is None:
        hub.reply(user, N.ERR_NOSUCHNICK, target, "No such nick/channel")
        return
    if other is not user:
        hub.reply(user, N.ERR_USERSDONTMATCH, "Can't change mode for other users")
        return
    if len(msg.params) < 2:
        hub.reply(user, N.RPL_UMODEIS, "+" + "".join(sorted(user.modes)))
        return
    sign, unknown = "+", False
    wanted = set(user.modes)
    for ch in msg.params[1]:
        if ch in "+-":
            sign = ch
        elif ch in USER_MODES:
            # +o only comes from OPER; anyone may drop it.
            if ch != "o" or sign == "-":
                (wanted.add if sign == "+" else wanted.discard)(ch)
        else:
            unknown = True
    if unknown:
        hub.reply(user, N.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
    if ("i" in wanted) != ("i" in user.modes):
        hub.emit(UserModeSet(user.uid, "i" in wanted))
    adding = "".join(sorted(wanted - user.modes - {"i"}))
    removing = "".join(sorted(user.modes - wanted - {"i"}))
    if adding or removing:
        hub.emit(UserFlagsSet(user.uid, adding, removing))


# B: a bot (ISUPPORT BOT); i: invisible; o: IRC operator (OPER); w: receives WALLOPS.
BOT_MODE = "B"
USER_MODES = "Biow"


_PARAM_MODES = {"o", "v", "b", "e", "I", "k", "l"}
# List modes: the numerics that show each list, and its end.
_MASK_LISTS = {
    "b": (N.RPL_BANLIST, N.RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (N.RPL_EXCEPTLIST, N.RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (N.RPL_INVEXLIST, N.RPL_ENDOFINVEXLIST, "End of Channel Invite Exception List"),
}
_FLAG_MODES = {"i", "m", "n", "s", "t"}
MAX_MODE_PARAMS = 4


def _room_mode(hub: Hub, user: User, msg: Message) -> None:
    room = hub.find_room(msg.params[0])
    if room is None:
        hub.reply(user, N.ERR_NOSUCHCHANNEL, msg.params[0], "No such channel")
        return
    if len(msg.params) < 2:
        modes, args = room.mode_string(show_key=user in room.members)
        hub.reply(user, N.RPL_CHANNELMODEIS, room.name, modes, *args)
        hub.reply(user, N.RPL_CREATIONTIME, room.name, str(int(room.created)))
        return
    spec, args = msg.params[1], list(msg.params[2:])
    listed = _MASK_LISTS.get(spec.strip("+"))
    if listed is not None and not args:
        row, end, text = listed
        for entry in room.mask_list(spec.strip("+")):
            hub.reply(user, row, room.name, entry.mask, entry.setter, str(int(entry.time)))
        hub.reply(user, end, room.name, text)
        return
    if not room.is_op(user):
        hub.reply(user, N.ERR_CHANOPRIVSNEEDED, room.name, "You're not channel operator")
        return
    sign = "+"
    changes: list[tuple[str, str]] = []
    used = 0
    for letter in spec:
        if letter in "+-":
            sign = letter
            continue
        if letter in _FLAG_MODES:
            changes.append((sign + letter, ""))
            continue
        if letter not in _PARAM_MODES:
            hub.reply(user, N.ERR_UNKNOWNMODE, letter, "is unknown mode char to me")
            continue
        takes_arg = letter in "ovbeIk" or (letter == "l" and sign == "+")
        arg = ""
        if takes_arg:
            if not args or used >= MAX_MODE_PARAMS:
                if letter != "k" or sign == "+":
                    hub.reply(user, N.ERR_NEEDMOREPARAMS, "MODE", "Not enough parameters")
                    continue
            else:
                arg = args.pop(0)
                used += 1
        decided = _decide_param_mode(hub, user, room, sign, letter, arg)
        if decided is not None:
            changes.append((sign + letter, decided))
    if changes:
        hub.emit(RoomModeSet(user.uid, room.name, encode_changes(changes), hub.stamp(),
                             hub.new_msgid()))


def _decide_param_mode(
    hub: Hub, user: User, room: Room, sign: str, letter: str, arg: str
) -> str | None:
    """Check one parameter mode against the room; the argument the fact carries (a uid
    for +o/+v), or None, after saying why, when it cannot be made."""
    adding = sign == "+"
    if letter in "ov":
        target = hub.find_user(arg)
        if target is None:
            hub.reply(user, N.ERR_NOSUCHNICK, arg, "No such nick/channel")
            return None
        if target not in room.members:
            hub.reply(user, N.ERR_USERNOTINCHANNEL, target.nick, room.name,
                      "They aren't on that channel")
            return None
        return target.uid
    if letter == "k":
        if adding and (not arg or any(ch in arg for ch in " ,:") or len(arg) > 32):
            hub.reply(user, N.ERR_INVALIDKEY, room.name, "Key is not well-formed")
            return None
        return arg if adding else ""
    if letter == "l":
        if not adding:
            return ""
        limit = number(arg)
        if not limit:
            hub.reply(user, N.ERR_INVALIDMODEPARAM, room.name, "l", arg, "Invalid limit")
            return None
        return str(limit)
    # b, e or I
    mask = names.normalize_mask(strip_controls(arg).replace(" ", ""))
    masks = room.mask_list(letter)
    if adding:
        exists = any(names.fold(b.mask) == names.fold(mask) for b in masks)
        if not exists and len(masks) >= hub.settings.limits.max_bans:
            hub.reply(user, N.ERR_BANLISTFULL, room.name, mask, "Channel ban list is full")
            return None
    return mask


# -- history -----------------------------------------------------------------------


@command("CHATHISTORY",
         usage="CHATHISTORY LATEST|BEFORE|AFTER|AROUND|BETWEEN|TARGETS ...",
         help="Ask for kept messages of a room you are in or a private conversation.")
def chathistory(hub: Hub, user: User, msg: Message) -> None:
    # Every malformed request gets FAIL CHATHISTORY (the spec's standard replies), so
    # the table's parameter count check is not used here.
    try:
        request = parse_request(msg.params, hub.settings.history.chathistory_max)
        hub.ask_history(user, request)
    except Refused as refused:
        hub.history_failed(user, refused)


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
