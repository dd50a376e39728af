"""ChanServ: registered rooms (REGISTER, INFO, OP, DEOP, AMODE, DROP, HELP).

A logged-in operator of a room registers it to their account, its founder. From then
on the room's topic, modes, key, limit and +b/+e/+I lists are copied into its
`RoomRecord` as they change and saved through the registry, so the room starts from
them when it is made again: after it emptied, or after a restart. The founder and
the accounts on its access list (AMODE) get their status on every join, and when
they log in while in the room; the founder and "o" accounts also join past the key,
the limit, +i and bans, as on Ergo. Nobody else is made an operator of a registered
room for joining it first.

Every change is a fact (`RoomRegistered`, `RoomDropped`, `RoomAccessSet`) applied by
the reducers here on every node; `hub/apply.py` calls the hooks below where rooms are
made, joined and changed, and `rooms.py` asks `kept_room` and `passes_restrictions`
before a join. Status ChanServ gives is shown as a MODE from ChanServ. Must not
import the session, transport or store layers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chat_server.hub.accounts import ACCOUNT_REDUCERS, RoomRecord
from chat_server.hub.events import ModeChanged
from chat_server.hub.facts import (
    AccountDropped,
    LoggedIn,
    RoomAccessSet,
    RoomDropped,
    RoomModeSet,
    RoomRegistered,
    encode_changes,
)
from chat_server.hub.model import Ban, Room, User
from chat_server.hub.table import command, service
from chat_server.protocol import names
from chat_server.protocol.message import Message

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub

SERVICE = "ChanServ"

# A RoomModeSet that ChanServ makes starts with this pseudo change, the service's
# nick its argument: the reducer shows the service as its source and does not need
# the person who asked to be in the room. Its sign is neither + nor -, so a node
# that does not know it skips it.
BY_SERVICE = "=S"

# Status changes in one MODE line ChanServ sends (ISUPPORT MODES).
_MODES_PER_LINE = 4


# -- what a record gives ------------------------------------------------------------


def is_founder(record: RoomRecord, account: str) -> bool:
    return bool(account) and names.fold(account) == names.fold(record.founder)


def status_for(record: RoomRecord, account: str) -> str:
    """The status letters `account` gets in the room: "o" for the founder, else its
    access list entry."""
    if not account:
        return ""
    if is_founder(record, account):
        return "o"
    return record.access.get(names.fold(account), "")


def _status_in(hub: Hub, folded: str, user: User) -> str:
    record = hub.room_records.get(folded)
    return "" if record is None else status_for(record, user.account)


def _room_from(record: RoomRecord, when: float) -> Room:
    return Room(
        record.name, record.folded, when, topic=record.topic,
        topic_setter=record.topic_setter, topic_time=record.topic_time,
        flags=set(record.flags), key=record.key, limit=record.limit,
        bans=[Ban(*entry) for entry in record.bans],
        excepts=[Ban(*entry) for entry in record.excepts],
        invexes=[Ban(*entry) for entry in record.invexes])


def _masks(entries: list[Ban]) -> tuple[tuple[str, str, float], ...]:
    return tuple((b.mask, b.setter, b.time) for b in entries)


def _copy(room: Room, record: RoomRecord) -> bool:
    """Make `record` hold the room's settings; whether anything changed."""
    kept = (room.topic, room.topic_setter, room.topic_time, "".join(sorted(room.flags)),
            room.key, room.limit, _masks(room.bans), _masks(room.excepts),
            _masks(room.invexes))
    if kept == (record.topic, record.topic_setter, record.topic_time, record.flags,
                record.key, record.limit, record.bans, record.excepts, record.invexes):
        return False
    (record.topic, record.topic_setter, record.topic_time, record.flags, record.key,
     record.limit, record.bans, record.excepts, record.invexes) = kept
    return True


# -- hooks for rooms.py and apply.py -------------------------------------------------


def kept_room(hub: Hub, folded: str) -> Room | None:
    """A registered room nobody is in, as its record would make it: a join to it is
    checked against its key, limit, +i and bans as if it were there."""
    record = hub.room_records.get(folded)
    return None if record is None else _room_from(record, 0.0)


def passes_restrictions(hub: Hub, user: User, folded: str) -> bool:
    """The founder and accounts given "o" join past the key, limit, +i and bans."""
    return "o" in _status_in(hub, folded, user)


def new_room(hub: Hub, name: str, folded: str, when: float) -> tuple[Room, str]:
    """The room a first join makes, and the status of the one who made it: a
    registered room starts from its record and gives them only what the record gives
    their account; any other starts with the defaults, its first member an operator."""
    record = hub.room_records.get(folded)
    if record is None:
        return Room(name, folded, when), "o"
    return _room_from(record, when), ""


def join_status(hub: Hub, user: User, room: Room) -> str:
    """What a registered room's record gives `user` on joining it."""
    return _status_in(hub, room.folded, user)


def joined(hub: Hub, user: User, room: Room, given: str, when: float) -> None:
    """After a join that gave `user` status from the record: the room's other members
    see ChanServ give it (the joiner sees it in NAMES)."""
    _announce(hub, room, "+", [(user, given)], when, skip=user)


def keep(hub: Hub, room: Room) -> None:
    """After a room's topic or modes changed: a registered room's record follows."""
    record = hub.room_records.get(room.folded)
    if record is not None and _copy(room, record):
        hub.registry.save_room(record)


def mode_service(items: list[str]) -> str:
    """The service a RoomModeSet's split changes say made them, or ""."""
    return items[1] if len(items) > 1 and items[0] == BY_SERVICE else ""


def _announce(hub: Hub, room: Room, sign: str, changes: list[tuple[User, str]],
              when: float, skip: User | None = None) -> None:
    """Show status that ChanServ gave (+) or took (-) as MODE lines from it. Not kept
    in history: each follows from a fact that is (a join) or from the access list."""
    pairs = [(letter, member.nick) for member, letters in changes for letter in letters]
    source = hub.service_source(SERVICE)
    for i in range(0, len(pairs), _MODES_PER_LINE):
        chunk = pairs[i:i + _MODES_PER_LINE]
        event = ModeChanged(source, room.name, sign + "".join(letter for letter, _ in chunk),
                            tuple(nick for _, nick in chunk), when)
        hub.bus.publish(room, event, skip)


def _change_status(hub: Hub, room: Room, members: list[User], gained: str, lost: str,
                   when: float) -> None:
    """Give `gained` and take `lost` status letters to and from `members`."""
    given: list[tuple[User, str]] = []
    taken: list[tuple[User, str]] = []
    for member in members:
        status = room.members[member]
        new = "".join(ch for ch in gained if ch not in status)
        old = "".join(ch for ch in lost if ch in status and ch not in gained)
        if new:
            given.append((member, new))
        if old:
            taken.append((member, old))
        room.members[member] = "".join(sorted((set(status) | set(new)) - set(old)))
    if given:
        _announce(hub, room, "+", given, when)
    if taken:
        _announce(hub, room, "-", taken, when)


# -- reducers ------------------------------------------------------------------------


def _registered(hub: Hub, f: RoomRegistered) -> None:
    folded = names.fold(f.room)
    founder = hub.accounts.get(names.fold(f.founder))
    won = folded not in hub.room_records and founder is not None
    if won and founder is not None:
        room = hub.rooms.get(folded)
        record = RoomRecord(room.name if room is not None else f.room, founder.name, f.time)
        if room is not None:
            _copy(room, record)
        hub.room_records[folded] = record
        hub.registry.save_room(record)
    hub.settle(f.uid, "room:" + folded, won)


def _forget(hub: Hub, folded: str) -> None:
    if hub.room_records.pop(folded, None) is not None:
        hub.registry.drop_room(folded)


def _dropped(hub: Hub, f: RoomDropped) -> None:
    _forget(hub, names.fold(f.room))


def _access(hub: Hub, f: RoomAccessSet) -> None:
    record = hub.room_records.get(names.fold(f.room))
    if record is None:
        return
    account = names.fold(f.account)
    status = "".join(ch for ch in f.status if ch in "ov")
    if record.access.get(account, "") == status:
        return
    before = status_for(record, f.account)
    if status:
        record.access[account] = status
    else:
        del record.access[account]
    hub.registry.save_room(record)
    after = status_for(record, f.account)
    room = hub.rooms.get(record.folded)
    if room is None or before == after:
        return
    # As on Ergo, the change reaches those of the account who are in the room now.
    members = [m for m in room.members if m.account and names.fold(m.account) == account]
    _change_status(hub, room, members, after, before, hub.stamp())


def _logged_in(hub: Hub, f: LoggedIn) -> None:
    ACCOUNT_REDUCERS[LoggedIn](hub, f)
    user = hub.by_uid.get(f.uid)
    if user is None or not user.account or user.account != f.account:
        return
    # Logged in while in registered rooms (NickServ IDENTIFY after joining): the
    # status the rooms give the account arrives now, as it would have on joining.
    for room in list(user.rooms.values()):
        given = join_status(hub, user, room)
        if given:
            _change_status(hub, room, [user], given, "", hub.stamp())


def _account_dropped(hub: Hub, f: AccountDropped) -> None:
    """A dropped account's rooms are dropped with it, and it leaves every access list
    (so that an account registered later under the name gets none of it)."""
    ACCOUNT_REDUCERS[AccountDropped](hub, f)
    account = names.fold(f.account)
    for record in list(hub.room_records.values()):
        if is_founder(record, account):
            _forget(hub, record.folded)
        elif record.access.pop(account, None) is not None:
            hub.registry.save_room(record)


CHANSERV_REDUCERS: dict[type, Callable[[Hub, Any], None]] = {
    RoomRegistered: _registered,
    RoomDropped: _dropped,
    RoomAccessSet: _access,
    LoggedIn: _logged_in,
    AccountDropped: _account_dropped,
}


# -- the service ---------------------------------------------------------------------


def _notice(hub: Hub, user: User, text: str) -> None:
    hub.service_notice(user, SERVICE, text)


def _record(hub: Hub, user: User, name: str) -> RoomRecord | None:
    """The room's record; otherwise say why there is none."""
    if not names.is_valid_room(name):
        _notice(hub, user, f"{name} is not a valid room name")
        return None
    record = hub.room_records.get(names.fold(name))
    if record is None:
        _notice(hub, user, f"{name} is not registered")
    return record


def _logged_in_or_say(hub: Hub, user: User) -> bool:
    if not user.account:
        _notice(hub, user, "You are not logged in to an account "
                           "(/msg NickServ IDENTIFY password)")
        return False
    return True


def _register(hub: Hub, user: User, args: list[str]) -> None:
    if not _logged_in_or_say(hub, user):
        return
    name = args[0]
    room = hub.find_room(name)
    if room is None:
        _notice(hub, user, f"No such room {name}")
        return
    if not room.is_op(user):
        _notice(hub, user, f"You must be an operator of {room.name} to register it")
        return
    record = hub.room_records.get(room.folded)
    if record is not None:
        _notice(hub, user, f"{room.name} is already registered (founder: {record.founder})")
        return
    most = hub.settings.accounts.max_rooms_per_account
    if sum(is_founder(r, user.account) for r in hub.room_records.values()) >= most:
        _notice(hub, user, f"Your account has registered {most} rooms, the most it may; "
                           f"drop one first (/msg ChanServ DROP #room)")
        return
    account, shown = user.account, room.name

    def settled(won: bool) -> None:
        _notice(hub, user, f"{shown} is now registered to your account {account}" if won
                else f"{shown} was registered by someone else first")

    hub.wait_for(user.uid, "room:" + room.folded, settled)
    hub.emit(RoomRegistered(user.uid, room.name, account, hub.stamp()))


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def _info(hub: Hub, user: User, args: list[str]) -> None:
    if not args:
        # As on Ergo: without a room, the rooms one's own account founded.
        if not _logged_in_or_say(hub, user):
            return
        mine = sorted(r.name for r in hub.room_records.values()
                      if is_founder(r, user.account))
        _notice(hub, user, f"Rooms registered to {user.account}: "
                           f"{', '.join(mine) if mine else 'none'}")
        return
    record = _record(hub, user, args[0])
    if record is None:
        return
    count = len(record.access)
    _notice(hub, user, f"{record.name} is registered")
    _notice(hub, user, f"Founder: {record.founder}")
    _notice(hub, user, f"Registered: {_when(record.registered)}")
    _notice(hub, user, f"Access list: {count} account{'' if count == 1 else 's'}")


def _op(hub: Hub, user: User, args: list[str], adding: bool) -> None:
    record = _record(hub, user, args[0])
    if record is None or not _logged_in_or_say(hub, user):
        return
    if "o" not in status_for(record, user.account):
        _notice(hub, user, f"Only the founder of {record.name} and accounts with +o on "
                           f"its access list may do that")
        return
    room = hub.find_room(record.name)
    if room is None:
        _notice(hub, user, f"Nobody is in {record.name}")
        return
    target = hub.find_user(args[1]) if len(args) > 1 else user
    if target is None:
        _notice(hub, user, f"No such nick {args[1]}")
        return
    if target not in room.members:
        _notice(hub, user, f"{target.nick} is not in {room.name}")
        return
    if room.is_op(target) == adding:
        _notice(hub, user, f"{target.nick} is {'already' if adding else 'not'} an operator "
                           f"of {room.name}")
        return
    change = ("+o" if adding else "-o", target.uid)
    hub.emit(RoomModeSet(user.uid, room.name, encode_changes([(BY_SERVICE, SERVICE), change]),
                         hub.stamp(), hub.new_msgid()))
    _notice(hub, user, f"{target.nick} is {'now' if adding else 'no longer'} an operator "
                       f"of {room.name}")


def _account_label(hub: Hub, folded: str) -> str:
    account = hub.accounts.get(folded)
    return account.name if account is not None else folded


def _amode(hub: Hub, user: User, args: list[str]) -> None:
    record = _record(hub, user, args[0])
    if record is None:
        return
    if len(args) == 1:
        _list_access(hub, user, record)
        return
    change = args[1]
    if change not in ("+o", "-o", "+v", "-v"):
        _notice(hub, user, f"Invalid access change {change}: use +o, -o, +v or -v "
                           f"and an account")
        return
    if len(args) < 3:
        _notice(hub, user, f"Usage: AMODE {record.name} {change} ACCOUNT")
        return
    if not _logged_in_or_say(hub, user):
        return
    if not is_founder(record, user.account):
        _notice(hub, user, f"Only the founder of {record.name} ({record.founder}) may "
                           f"change its access list")
        return
    folded = names.fold(args[2])
    account = hub.accounts.get(folded)
    if change[0] == "+" and account is None:
        _notice(hub, user, f"No such account {args[2]}")
        return
    label = account.name if account is not None else args[2]
    old = record.access.get(folded, "")
    letter = change[1]
    new = letter if change[0] == "+" else "" if old == letter else old
    if new == old:
        _notice(hub, user, f"{label} already gets +{old} in {record.name}" if old
                else f"{label} is not on the access list of {record.name}")
        return
    hub.emit(RoomAccessSet(user.uid, record.name, label, new))
    _notice(hub, user, f"{label} now gets +{new} in {record.name}" if new
            else f"{label} is no longer on the access list of {record.name}")


def _list_access(hub: Hub, user: User, record: RoomRecord) -> None:
    room = hub.rooms.get(record.folded)
    if not (status_for(record, user.account) or (room is not None and room.is_op(user))):
        _notice(hub, user, f"Only the founder, its access list and operators of "
                           f"{record.name} may see its access list")
        return
    entries = sorted((_account_label(hub, a), s) for a, s in record.access.items())
    _notice(hub, user, f"Access list of {record.name}: {len(entries)} account"
                       f"{'' if len(entries) == 1 else 's'} (founder {record.founder} "
                       f"gets +o)")
    for label, status in entries:
        _notice(hub, user, f"{label} gets +{status}")


def _drop(hub: Hub, user: User, args: list[str]) -> None:
    record = _record(hub, user, args[0])
    if record is None or not _logged_in_or_say(hub, user):
        return
    if not is_founder(record, user.account):
        _notice(hub, user, f"Only the founder of {record.name} ({record.founder}) may "
                           f"drop it")
        return
    hub.emit(RoomDropped(user.uid, record.name))
    _notice(hub, user, f"{record.name} is no longer registered; its settings are forgotten")


Sub = Callable[["Hub", User, list[str]], None]

# name -> (handler, least arguments, usage, what it does)
_COMMANDS: dict[str, tuple[Sub, int, str, str]] = {
    "REGISTER": (_register, 1, "REGISTER #room",
                 "Register a room you are an operator of to your account: it keeps its "
                 "topic, modes, key, limit and bans, and you get +o on joining it."),
    "INFO": (_info, 0, "INFO [#room]",
             "Who founded a registered room, when, and how long its access list is; "
             "without a room, the rooms your account founded."),
    "OP": (lambda hub, user, args: _op(hub, user, args, True), 1, "OP #room [nick]",
           "Make yourself or someone in the room an operator (founder and +o access)."),
    "DEOP": (lambda hub, user, args: _op(hub, user, args, False), 1, "DEOP #room [nick]",
             "Take operator status from yourself or someone (founder and +o access)."),
    "AMODE": (_amode, 1, "AMODE #room [+o|-o|+v|-v ACCOUNT]",
              "Show the access list, or (the founder) give or take the status an "
              "account gets on joining."),
    "DROP": (_drop, 1, "DROP #room",
             "Unregister a room you founded; its kept settings are forgotten."),
    "HELP": (lambda hub, user, args: _help(hub, user, args), 0, "HELP [command]",
             "This help."),
}


def _help(hub: Hub, user: User, args: list[str]) -> None:
    if args:
        found = _COMMANDS.get(args[0].upper())
        if found is None:
            _notice(hub, user, f"No help for {args[0]}: no such command")
            return
        _, _, usage, text = found
        _notice(hub, user, f"Usage: {usage}")
        _notice(hub, user, text)
        return
    _notice(hub, user, "ChanServ keeps registered rooms. Commands "
                       "(/msg ChanServ COMMAND ...):")
    for _, _, usage, text in _COMMANDS.values():
        _notice(hub, user, f"{usage}: {text}")


@service(SERVICE)
def chanserv(hub: Hub, user: User, text: str) -> None:
    words = text.split()
    if not words:
        _help(hub, user, [])
        return
    name, args = words[0].upper(), words[1:]
    found = _COMMANDS.get(name)
    if found is None:
        _notice(hub, user, f"Unknown command {words[0]}; /msg ChanServ HELP lists them")
        return
    handler, least, usage, _ = found
    if len(args) < least:
        _notice(hub, user, f"Usage: {usage}")
        return
    handler(hub, user, args)


@command("CS", usage="CS COMMAND [ARGS]",
         help="Talk to ChanServ (registered rooms); CS HELP lists its commands.")
@command("CHANSERV", usage="CHANSERV COMMAND [ARGS]",
         help="Talk to ChanServ (registered rooms); CHANSERV HELP lists its commands.")
def cs(hub: Hub, user: User, msg: Message) -> None:
    chanserv(hub, user, " ".join(msg.params))
