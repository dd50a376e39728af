"""The reducer: how each fact changes the hub, and who is told.

Runs on every node for every fact, in log order, so its outcome may depend only on the
fact and the state (never on the clock or on which node runs it); delivery to local
members happens here, and a fact's own person, when connected to this node, is
answered here too (their session renders it as the command's response). Must not
import the session, transport or store layers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chat_server.hub import arrivals, chanserv
from chat_server.hub.accounts import ACCOUNT_REDUCERS, protect
from chat_server.hub.events import (
    AwayChanged,
    Chat,
    Closing,
    Invited,
    Joined,
    Kicked,
    ModeChanged,
    Parted,
    ServerMessage,
    TopicChanged,
)
from chat_server.hub.facts import (
    MODE_SEP,
    AwaySet,
    InviteSent,
    NickSet,
    NodeDown,
    OperUp,
    RealnameSet,
    RoomJoined,
    RoomModeSet,
    RoomParted,
    Said,
    TaggedSaid,
    TopicSet,
    UserArrived,
    UserFlagsSet,
    UserKicked,
    UserKilled,
    UserLeft,
    UserModeSet,
    WallopsSent,
)
from chat_server.hub.history import private_key, room_key
from chat_server.hub.messaging import STATUSMSG
from chat_server.hub.model import Ban, Room, User
from chat_server.hub.operators import kill_message
from chat_server.hub.rooms import send_names_on_join, send_topic
from chat_server.protocol import names
from chat_server.protocol import numerics as N
from chat_server.protocol.message import Message

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

def _said(hub: Hub, f: Said | TaggedSaid) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None:
        return
    arrivals.settle_rooms(hub, user)  # nobody reads a newcomer before their arrival
    tags = f.tags if isinstance(f, TaggedSaid) else ""
    # A TAGMSG is only its tags: delivered, never kept.
    kept = f.command != "TAGMSG"
    if f.to_room:
        status = f.target[0] if f.target[0] in STATUSMSG else ""
        room = hub.rooms.get(f.target[len(status):])
        if room is None:
            return
        if status:
            _status_said(hub, user, room, status, f, tags)
            return
        event = Chat(user.source, f.command, room.name, f.text, f.msgid, f.time, True, tags)
        if kept:
            hub.record_chat(user, event, room_key(room.folded))
        hub.bus.publish(room, event, user)
        if "echo-message" in user.caps and user in room.members:
            hub.send(user, event)  # part of the sender's response (a labeled one too)
        return
    target = hub.by_uid.get(f.target)
    if target is None or not target.registered:
        return
    event = Chat(user.source, f.command, target.nick, f.text, f.msgid, f.time, False, tags)
    if kept:
        hub.record_chat(user, event, private_key(user.folded, user.account, target.folded,
                                                 target.account))
    if target is user:
        # To oneself: the message received, apart from the echo of one's response.
        hub.fanout((user,), event)
    else:
        hub.send(target, event)
    if "echo-message" in user.caps:
        hub.send(user, event)


def _status_said(hub: Hub, user: User, room: Room, status: str, f: Said | TaggedSaid,
                 tags: str) -> None:
    """STATUSMSG: to the members with the status or above ("+" includes "@"); not kept,
    since the room's history is read by every member."""
    letters = "o" if status == "@" else "ov"
    event = Chat(user.source, f.command, status + room.name, f.text, f.msgid, f.time, True,
                 tags)
    hub.fanout([m for m, s in room.members.items() if m is not user and set(s) & set(letters)],
               event)
    if "echo-message" in user.caps:
        hub.send(user, event)


def _realname(hub: Hub, f: RealnameSet) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None:
        return
    user.realname = f.realname
    line = ServerMessage(Message("SETNAME", (f.realname,), user.source.prefix))
    # setname: to room-mates and the person, and with extended-monitor to watchers,
    # only those who negotiated setname.
    told = {u for u in hub.neighbours(user) if "setname" in u.caps}
    told.update(u for u in hub.monitors.of(user.folded)
                if "extended-monitor" in u.caps and "setname" in u.caps and u is not user)
    hub.fanout(told, line)
    if "setname" in user.caps:
        hub.send(user, line)


def _arrived(hub: Hub, f: UserArrived) -> None:
    hub.arrive(f)


def _nick(hub: Hub, f: NickSet) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None or not user.registered:
        return
    holder = hub.users.get(names.fold(f.nick))
    if holder is not None and holder is not user:
        # Claimed by someone else first, in log order.
        if hub.is_local(user):
            hub.reply(user, N.ERR_NICKNAMEINUSE, f.nick, "Nickname is already in use")
        return
    if f.nick != user.nick:
        hub.change_nick(user, f.nick, f.time, f.msgid)
        if hub.is_local(user):
            protect(hub, user)


def _left(hub: Hub, f: UserLeft) -> None:
    user = hub.by_uid.get(f.uid)
    if user is not None:
        hub.quit_user(user, f.reason, f.time, f.msgid)


def _node_down(hub: Hub, f: NodeDown) -> None:
    gone = [u for u in hub.by_uid.values() if u.node == f.node]
    for user in gone:
        if user in hub.connections:
            # This node was declared down: its clients are told and let go.
            hub.connections.discard(user)
            hub.send(user, Closing(f.reason))
            user.peer.close(f.reason)
        hub.quit_user(user, f.reason, f.time, user.uid + "~")


def _joined(hub: Hub, f: RoomJoined) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None or not user.registered:
        return
    folded = names.fold(f.room)
    if folded in user.rooms:
        return
    room = hub.rooms.get(folded)
    if room is None:
        # The first one in runs the room, unless it is registered (hub/chanserv.py).
        room, status = chanserv.new_room(hub, f.room, folded, f.time)
        hub.rooms[folded] = room
    else:
        status = ""
    given = chanserv.join_status(hub, user, room)
    if user.invites:
        user.invites.pop(folded, None)
    room.members[user] = "".join(sorted(set(status + given))) if given else status
    arrivals.entered(room, user)
    user.rooms[folded] = room
    event = Joined(user.source, room.name, f.time, f.msgid, user.realname)
    hub.record_room(room, event.msgid, event.time, "JOIN", user.source.prefix, (room.name,))
    arrivals.announce(hub, room, event, user)
    hub.send(user, event)
    if given:
        chanserv.joined(hub, user, room, given, f.time)
    if user.away:
        # away-notify: "... as well as when a user joins and has an away message set".
        watchers = [m for m in room.members if m is not user and "away-notify" in m.caps]
        hub.fanout(watchers, AwayChanged(user.source, user.away, f.time))
    if hub.is_local(user):
        if room.topic:
            send_topic(hub, user, room)
        send_names_on_join(hub, user, room)
        hub.replay_on_join(user, room)


def _member(hub: Hub, uid: str, room_name: str) -> tuple[User, Room] | None:
    user = hub.by_uid.get(uid)
    if user is None:
        return None
    room = user.rooms.get(names.fold(room_name))
    return None if room is None else (user, room)


def _parted(hub: Hub, f: RoomParted) -> None:
    found = _member(hub, f.uid, f.room)
    if found is None:
        return
    user, room = found
    event = Parted(user.source, room.name, f.reason, f.time, f.msgid)
    params = (room.name, f.reason) if f.reason else (room.name,)
    hub.record_room(room, event.msgid, event.time, "PART", user.source.prefix, params)
    arrivals.announce(hub, room, event, user)
    hub.send(user, event)
    hub.remove_member(room, user)


def _kicked(hub: Hub, f: UserKicked) -> None:
    found = _member(hub, f.uid, f.room)
    target = hub.by_uid.get(f.target)
    if found is None or target is None:
        return
    user, room = found
    if target not in room.members:
        return
    event = Kicked(user.source, room.name, target.nick, f.reason, f.time, f.msgid)
    hub.record_room(room, event.msgid, event.time, "KICK", user.source.prefix,
                    (room.name, target.nick, f.reason))
    hub.bus.publish(room, event, user)
    hub.send(user, event)
    hub.remove_member(room, target)


def _topic(hub: Hub, f: TopicSet) -> None:
    found = _member(hub, f.uid, f.room)
    if found is None:
        return
    user, room = found
    room.topic = f.topic
    room.topic_setter = user.source.prefix
    room.topic_time = f.time
    event = TopicChanged(user.source, room.name, room.topic, room.topic_time, f.msgid)
    hub.record_room(room, event.msgid, event.time, "TOPIC", user.source.prefix,
                    (room.name, room.topic))
    hub.bus.publish(room, event, user)
    hub.send(user, event)
    chanserv.keep(hub, room)


def _room_modes(hub: Hub, f: RoomModeSet) -> None:
    items = f.changes.split(MODE_SEP)
    # ChanServ OP and DEOP: shown as the service's, for someone who may not be in it.
    by_service = chanserv.mode_service(items)
    found = _member(hub, f.uid, f.room) if not by_service else _service_acting(hub, f)
    if found is None:
        return
    user, room = found
    changes = ""
    out_args: list[str] = []
    for i in range(0, len(items) - 1, 2):
        code, arg = items[i], items[i + 1]
        if len(code) != 2 or code[0] not in "+-":
            continue
        shown = _apply_mode(hub, user, room, code[0] == "+", code[1], arg, f.time)
        if shown is not None:
            changes += code
            if shown:
                out_args.append(shown)
    if not changes:
        return
    modes = _compact(changes)
    source = hub.service_source(by_service) if by_service else user.source
    event = ModeChanged(source, room.name, modes, tuple(out_args), f.time, f.msgid)
    hub.record_room(room, event.msgid, event.time, "MODE", source.prefix,
                    (room.name, modes, *out_args))
    if user in room.members:
        hub.bus.publish(room, event, user)
        hub.send(user, event)
    else:
        hub.bus.publish(room, event)
    chanserv.keep(hub, room)


def _service_acting(hub: Hub, f: RoomModeSet) -> tuple[User, Room] | None:
    user = hub.by_uid.get(f.uid)
    room = hub.rooms.get(names.fold(f.room))
    return None if user is None or room is None else (user, room)


def _compact(changes: str) -> str:
    """'+o+v-k' -> '+ov-k'."""
    out, sign = "", ""
    for i in range(0, len(changes), 2):
        s, letter = changes[i], changes[i + 1]
        if s != sign:
            out += s
            sign = s
        out += letter
    return out


def _apply_mode(hub: Hub, user: User, room: Room, adding: bool, letter: str, arg: str,
                when: float) -> str | None:
    """One decided mode change; the argument to show, or None when nothing changed."""
    if letter in "imnst":
        if adding == (letter in room.flags):
            return None
        (room.flags.add if adding else room.flags.discard)(letter)
        return ""
    if letter in "ov":
        target = hub.by_uid.get(arg)
        if target is None or target not in room.members:
            return None
        status = room.members[target]
        if adding == (letter in status):
            return None
        room.members[target] = (
            "".join(sorted(set(status) | {letter})) if adding else status.replace(letter, "")
        )
        return target.nick
    if letter == "k":
        if adding:
            room.key = arg
            return arg
        if not room.key:
            return None
        room.key = ""
        return "*"
    if letter == "l":
        if not adding:
            if not room.limit:
                return None
            room.limit = 0
            return ""
        room.limit = int(arg) if arg.isdigit() else room.limit
        return arg
    if letter in "beI":
        masks = room.mask_list(letter)
        existing = next((b for b in masks if names.fold(b.mask) == names.fold(arg)), None)
        if adding:
            if existing is not None or len(masks) >= hub.settings.limits.max_bans:
                return None
            masks.append(Ban(arg, user.source.prefix, when))
            return arg
        if existing is None:
            return None
        masks.remove(existing)
        return existing.mask
    return None


def _user_mode(hub: Hub, f: UserModeSet) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None or f.invisible == ("i" in user.modes):
        return
    user.modes = user.modes | {"i"} if f.invisible else user.modes - {"i"}
    if user.registered:
        hub.invisible += 1 if f.invisible else -1
    if hub.is_local(user):
        hub.send(user, ModeChanged(user.source, user.nick, "+i" if f.invisible else "-i", (),
                                   hub.clock()))


def _away(hub: Hub, f: AwaySet) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None or user.away == f.text:
        return
    user.away = f.text
    watchers = {u for u in hub.neighbours(user) if "away-notify" in u.caps}
    # extended-monitor: those who MONITOR the nick are told as if they shared a room.
    watchers.update(u for u in hub.monitors.of(user.folded)
                    if "extended-monitor" in u.caps and "away-notify" in u.caps and u is not user)
    hub.fanout(watchers, AwayChanged(user.source, f.text, f.time))


def _invite(hub: Hub, f: InviteSent) -> None:
    found = _member(hub, f.uid, f.room)
    target = hub.by_uid.get(f.target)
    if found is None or target is None:
        return
    user, room = found
    invites = target.invites
    if invites is None:
        invites = target.invites = {}
    if len(invites) >= hub.settings.limits.max_rooms_per_user:
        del invites[next(iter(invites))]  # the oldest goes first
    invites.pop(room.folded, None)
    invites[room.folded] = room.created
    hub.send(target, Invited(user.source, target.nick, room.name, f.time))


def _oper_up(hub: Hub, f: OperUp) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None or not user.registered or "o" in user.modes:
        return
    user.modes = user.modes | {"o"}
    hub.operators += 1
    if hub.is_local(user):
        hub.reply(user, N.RPL_YOUREOPER, "You are now an IRC operator")
        hub.send(user, ModeChanged(user.source, user.nick, "+o", (), hub.clock()))


def _user_flags(hub: Hub, f: UserFlagsSet) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None:
        return
    added = "".join(ch for ch in f.adding if ch not in user.modes and ch != "o")
    removed = "".join(ch for ch in f.removing if ch in user.modes)
    if not added and not removed:
        return
    user.modes = (user.modes | set(added)) - set(removed)
    if "o" in removed and user.registered:
        hub.operators -= 1
    if hub.is_local(user):
        change = (f"+{added}" if added else "") + (f"-{removed}" if removed else "")
        hub.send(user, ModeChanged(user.source, user.nick, change, (), hub.clock()))


def _killed(hub: Hub, f: UserKilled) -> None:
    killer = hub.by_uid.get(f.uid)
    victim = hub.by_uid.get(f.target)
    if killer is None or victim is None or not victim.registered:
        return
    reason = kill_message(killer.nick, f.reason)
    if victim in hub.connections:
        hub.connections.discard(victim)
        hub.send(victim, Closing(reason))
        hub.flush(victim)
        victim.peer.close("Killed")  # the reason holds what the operator wrote: not logged
    hub.quit_user(victim, reason, f.time, f.msgid)


def _wallops(hub: Hub, f: WallopsSent) -> None:
    user = hub.by_uid.get(f.uid)
    if user is None:
        return
    line = ServerMessage(Message("WALLOPS", (f.text,), user.source.prefix))
    hub.fanout([u for u in hub.connections if u.registered and "w" in u.modes], line)


REDUCERS: dict[type, Callable[[Hub, Any], None]] = {
    Said: _said,
    TaggedSaid: _said,
    UserArrived: _arrived,
    NickSet: _nick,
    UserLeft: _left,
    NodeDown: _node_down,
    RoomJoined: _joined,
    RoomParted: _parted,
    UserKicked: _kicked,
    TopicSet: _topic,
    RoomModeSet: _room_modes,
    UserModeSet: _user_mode,
    AwaySet: _away,
    InviteSent: _invite,
    OperUp: _oper_up,
    UserFlagsSet: _user_flags,
    UserKilled: _killed,
    WallopsSent: _wallops,
    RealnameSet: _realname,
    **ACCOUNT_REDUCERS,
    **chanserv.CHANSERV_REDUCERS,
}
