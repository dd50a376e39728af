"""The seam where room and private messages are handed to history.

The hub stamps each message (msgid, time) and records it here before delivery, so a
store can later keep and replay it. Until the store exists nothing is kept. Must not
import the session, transport or store layers.
"""

from __future__ import annotations

from typing import Protocol

from chat_server.hub.events import Chat


class History(Protocol):
    def record(self, event: Chat) -> None:
        """Accept a message; must not block the event loop."""


class NullHistory:
    """Keeps nothing: the default until a store is configured."""

    __slots__ = ()

    def record(self, event: Chat) -> None:
        return None
