"""Rooms and modes: JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE and MODE.

Owns who may join or act in a room (keys, +i and invite exceptions, limits, bans and
ban exceptions, operator status), the NAMES and TOPIC replies `hub/apply.py` also sends
on a join, and the parsing of room and user mode changes. Every change is emitted as
a fact and applied in `hub/apply.py`. Registers into the one command table of
`hub/table.py`. Must not import the session, transport or store layers.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import TYPE_CHECKING

from chat_server.hub import chanserv
from chat_server.hub.events import People
from chat_server.hub.facts import (
    InviteSent,
    RoomJoined,
    RoomModeSet,
    RoomParted,
    TopicSet,
    UserFlagsSet,
    UserKicked,
    UserModeSet,
    encode_changes,
)
from chat_server.hub.model import Ban, Room, User, prefix_chars
from chat_server.hub.table import command
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import MAX_REST_BYTES, Message
from chat_server.protocol.text import number, strip_controls

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub


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
    # A registered room nobody is in keeps its key, limit, +i and bans; its founder
    # and "o" accounts pass them (hub/chanserv.py).
    room = hub.rooms.get(folded) or chanserv.kept_room(hub, folded)
    if room is not None and not chanserv.passes_restrictions(hub, user, folded):
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
        if banned(room, user) and not invited:
            hub.reply(user, N.ERR_BANNEDFROMCHAN, room.name, "Cannot join channel (+b)")
            return
    hub.emit(RoomJoined(user.uid, name, hub.stamp(), hub.new_msgid()))


def _matches(masks: list[Ban], user: User) -> bool:
    prefix = user.source.prefix
    return any(names.mask_matches(entry.mask, prefix) for entry in masks)


def banned(room: Room, user: User) -> bool:
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


def send_names_on_join(hub: Hub, user: User, room: Room) -> None:
    """Who is there, for `user` who just joined `room`: NAMES, except for a form that
    `summarises` (plain mode's) in a room past `limits.plain_welcome_names`, which gets
    `People`: a few names and a count. Its user would read only those, and building a
    room's whole NAMES for each arrival is work that grows with the room (a room of
    2,000 filling is 2,000² names); /who (NAMES) still lists everyone."""
    most = hub.settings.limits.plain_welcome_names
    if len(room.members) - 1 <= most or not getattr(user.peer.form, "summarises", False):
        send_names(hub, user, room)
        return
    # The newcomer is the last member in; the first ones are those there longest.
    first = tuple(islice((m.nick for m in room.members if m is not user), max(most, 1)))
    hub.send(user, People(room.name, first, len(room.members)))


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


# B: a bot (BOT_MODE); i: invisible; o: IRC operator (OPER); w: receives WALLOPS.
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

