"""Arrivals and departures in a room, read by plain-mode members once per tick.

Every arrival in a room of N used to cost each of its N members a line and a write of
its own: N² lines as a big room fills (docs/BENCHMARKS.md, P1). Members whose output
form says `coalesces` (plain mode's) read a room's comings and goings of one tick
(`limits.plain_join_coalesce`) as one `Comings` event instead; everyone else (IRC
clients, which need each JOIN) is told at once, as before.

Order stays the way a person reads it: before anything else is delivered in a room
(the bus asks `settle` first) or by someone whose arrival is pending (a private
message, a nick change: `settle_rooms`), the pending line goes out. A member who
arrived during the tick reads only what came after their own arrival, since their
welcome listed who was there. Someone who arrives and leaves within one tick is not
announced to plain members at all (nor one who leaves and comes back): they read the
room's net change. Never awaits: the tick is `hub.later`; without one (a hub driven by
plain calls) each change is delivered at once.
Must not import the session, transport or store layers.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from chat_server.hub.events import Comings, Joined, Parted, Quit
from chat_server.hub.fanout import walk
from chat_server.hub.model import Room, User

if TYPE_CHECKING:
    from chat_server.hub.hub import Hub


def announce(hub: Hub, room: Room, event: Joined | Parted | Quit, user: User) -> None:
    """`user` arrived in or left `room`: tell its members (but `user`), plain ones at
    the next tick."""
    tick = hub.settings.limits.plain_join_coalesce if hub.timed else 0.0
    if tick <= 0:
        hub.bus.publish(room, event, user)
        return
    if room.coalescing == len(room.members):
        # Everyone there reads arrivals per tick: nobody to tell now, nobody to walk.
        if len(room.members) > 1:
            _hold(hub, room, user, event, tick)
        return
    if walk(room.members, event, user, hold=True):
        _hold(hub, room, user, event, tick)


def announce_quit(hub: Hub, user: User, event: Quit) -> None:
    """`user` left the network: neighbours hear it once each, plain ones per room."""
    tick = hub.settings.limits.plain_join_coalesce if hub.timed else 0.0
    if tick <= 0:
        hub.fanout(hub.neighbours(user), event)
        return
    rooms = user.rooms.values()
    if all(room.coalescing == len(room.members) for room in rooms):
        # As in `announce`: only members who read per tick, so no neighbours to gather.
        for room in rooms:
            if len(room.members) > 1:
                _hold(hub, room, user, event, tick)
        return
    if walk(hub.neighbours(user), event, user, hold=True):
        for room in rooms:
            _hold(hub, room, user, event, tick)


def entered(room: Room, user: User) -> None:
    """`user` is now a member of `room`: count them if they read arrivals per tick."""
    if getattr(user.peer.form, "coalesces", False):
        room.coalescing += 1


def left(room: Room, user: User) -> None:
    """`user` is no longer a member of `room`."""
    if getattr(user.peer.form, "coalesces", False):
        room.coalescing -= 1


def _hold(hub: Hub, room: Room, user: User, event: Joined | Parted | Quit,
          tick: float) -> None:
    room.arrivals.append((user, event))
    if not room.arrivals_due:
        room.arrivals_due = True
        hub.later(tick, lambda: _due(hub, room))


def _due(hub: Hub, room: Room) -> None:
    room.arrivals_due = False
    settle(hub, room)


def settle(hub: Hub, room: Room) -> None:
    """Give plain members of `room` what is pending there, one line each."""
    entries = room.arrivals
    if not entries:
        return
    room.arrivals = []
    # Who arrived during the tick reads only what came after their own arrival.
    since: dict[User, int] = {}
    for i, (user, event) in enumerate(entries):
        if type(event) is Joined and user not in since:
            since[user] = i + 1
    when = entries[-1][1].time
    cache: dict[tuple[int, Hashable], bytes] = {}
    for member in room.members:
        peer = member.peer
        form = peer.form
        if not getattr(form, "coalesces", False):
            continue
        start = since.get(member, 0)
        key = (start, form)
        data = cache.get(key)
        if data is None:
            changes = net_changes(entries[start:])
            data = cache[key] = (peer.render(Comings(room.name, changes, when))
                                 if changes else b"")
        if data:
            peer.write(data)


def settle_rooms(hub: Hub, user: User) -> None:
    """Before something of `user`'s reaches anyone: their pending arrivals first."""
    for room in user.rooms.values():
        if room.arrivals:
            settle(hub, room)


def net_changes(entries: list[tuple[User, Joined | Parted | Quit]],
                ) -> tuple[Joined | Parted | Quit, ...]:
    """Each person's change over `entries`: there before and not after (their last
    departure), or not before and there after (their arrival); else nothing."""
    spans: dict[User, list[Joined | Parted | Quit]] = {}
    for user, event in entries:
        span = spans.get(user)
        if span is None:
            spans[user] = [event, event]
        else:
            span[1] = event
    return tuple(last for first, last in spans.values()
                 if (type(first) is Joined) == (type(last) is Joined))
