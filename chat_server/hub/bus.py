"""The seam for room delivery to this process's members.

Processes of one network do not exchange events: they share facts through the
cluster log (docs/ARCHITECTURE.md) and each applies them, delivering to its own
members here; members on other nodes render to nothing. Must not import the
session, transport or store layers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from chat_server.hub.events import Event
from chat_server.hub.model import Room, User

# Delivers to a room's members on this node (hub/fanout.py's `deliver`).
Deliver = Callable[[Room, Event, User | None], None]


class Bus(Protocol):
    def publish(self, room: Room, event: Event, skip: User | None = None) -> None:
        """Deliver `event` to every member of `room` (but `skip`), wherever they are."""


class LocalBus:
    """All members are in this process."""

    __slots__ = ("_deliver", "_settle")

    def __init__(self, deliver: Deliver, settle: Callable[[Room], None] | None = None) -> None:
        self._deliver = deliver
        # Announces a room's pending arrivals (hub/arrivals.py) before anything else
        # said there, so nobody reads a newcomer's words before their arrival.
        self._settle = settle

    def publish(self, room: Room, event: Event, skip: User | None = None) -> None:
        if room.arrivals and self._settle is not None:
            self._settle(room)
        self._deliver(room, event, skip)
