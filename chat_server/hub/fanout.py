"""A room's delivery: render once per form, then hand the bytes to every member in C.

A message to a room of N costs N of something; the aim is that the something is not
a Python frame. The members are sorted once into groups of equal form, and for peers
that offer their output queue (`outbox`, hub/model.py) the group keeps the queues
themselves: a delivery is one `list.append` per member run by `map`, and one `wake`
call per group that schedules the queues' flush. The groups live on the room's
`Members` and are dropped by any change of membership or status, and by a member's
change of form (`regroup`). The first delivery after a change walks the members one
by one (`walk`, what every delivery did before); the second makes the groups again.
Peers with no queue (other nodes' people, a WebSocket that frames each write, a
socketless link) are written to one by one, as always.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable
from itertools import repeat

from chat_server.hub.events import Event
from chat_server.hub.model import Members, Peer, Room, User

# Runs an iterator to its end in C, keeping nothing.
_consume: Callable[[Iterable[None]], None] = deque[None](maxlen=0).extend


class Group:
    """Members of one form: the queues to append to, whose owners `wake` schedules;
    the rest written one by one."""

    __slots__ = ("owners", "peer", "queues", "slow", "wake")

    def __init__(self, peer: Peer, wake: Callable[[list[object]], None] | None) -> None:
        # Renders for the whole group: equal forms render alike.
        self.peer = peer
        self.wake = wake
        self.queues: dict[User, list[bytes]] = {}
        self.owners: list[object] = []
        self.slow: list[User] = []


def groups_of(members: Members) -> list[Group]:
    found: dict[tuple[Hashable, object], Group] = {}
    for user in members:
        peer = user.peer
        offer = getattr(peer, "outbox", None)
        box = offer() if offer is not None else None
        wake = box[2] if box is not None else None
        key = (peer.form, wake)
        group = found.get(key)
        if group is None:
            group = found[key] = Group(peer, wake)
        if box is None:
            group.slow.append(user)
        else:
            group.queues[user] = box[0]
            group.owners.append(box[1])
    return list(found.values())


def walk(users: Iterable[User], event: Event, skip: User | None = None,
         hold: bool = False) -> bool:
    """`event` to each of `users` but `skip`, rendered once per form as it is met.
    With `hold`, members whose form reads arrivals per tick (plain mode's, `coalesces`)
    get nothing now; returns whether there were any (hub/arrivals.py)."""
    cache: dict[object, bytes] = {}
    last_form: object = None
    data = b""
    held = False
    for user in users:
        if user is skip:
            continue
        peer = user.peer
        form = peer.form
        # Members mostly share a form: skip the lookup while it stays the same.
        if form is not last_form:
            found = cache.get(form)
            if found is None:
                if hold and getattr(form, "coalesces", False):
                    found = cache[form] = b""
                    held = True
                else:
                    found = cache[form] = peer.render(event)
            data = found
            last_form = form
        if data:
            peer.write(data)
    return held


# A room's groups once walked since its last change: made at its next delivery.
_WALKED: list[Group] = []


def deliver(room: Room, event: Event, skip: User | None = None) -> None:
    """`event` to every member of `room` but `skip`."""
    members = room.members
    groups = members.groups
    if groups is None:
        # The first delivery since a change walks the members: a room whose members
        # come and go between its lines (a join, one line, a quit) never pays for
        # groups it would not use again.
        members.groups = _WALKED
        walk(members, event, skip)
        return
    if groups is _WALKED:
        groups = members.groups = groups_of(members)
    for group in groups:
        data = group.peer.render(event)
        if not data:
            continue
        queues = group.queues
        if queues:
            _consume(map(list.append, queues.values(), repeat(data)))
            if skip is not None:
                # Its copy is the one just appended: take it back.
                own = queues.get(skip)
                if own is not None:
                    own.pop()
            if group.wake is not None:
                group.wake(group.owners)
        for user in group.slow:
            if user is not skip:
                user.peer.write(data)


def regroup(user: User) -> None:
    """`user` changed form (capabilities, timestamps): their rooms group anew."""
    for room in user.rooms.values():
        room.members.groups = None
