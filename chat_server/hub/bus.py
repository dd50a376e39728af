"""The seam for room delivery between server processes.

Today one process holds every room, so the local bus hands events straight to the
hub's fan-out. A broker-backed bus (Redis pub/sub, NATS) would publish the same
events to other processes, which fan them out to their own members. Must not import
the session, transport or store layers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from chat_server.hub.events import Event
from chat_server.hub.model import Room, User

FanOut = Callable[[Iterable[User], Event, User | None], None]


class Bus(Protocol):
    def publish(self, room: Room, event: Event, skip: User | None = None) -> None:
        """Deliver `event` to every member of `room` (but `skip`), wherever they are."""


class LocalBus:
    """All members are in this process."""

    __slots__ = ("_fanout",)

    def __init__(self, fanout: FanOut) -> None:
        self._fanout = fanout

    def publish(self, room: Room, event: Event, skip: User | None = None) -> None:
        self._fanout(room.members, event, skip)
