"""Plain-mode state that several modules read: stages, the output forms, and how a
typed room name is completed.

Pure values. Must not import the session, rendering or command modules of this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from typing import ClassVar

from chat_server.protocol.names import CHANTYPES


class Stage(Enum):
    NICK = auto()  # at the nickname prompt: a line is a nickname to try
    PASSWORD = auto()  # a registered nickname was picked: a line is its password
    JOINING = auto()  # registered, the first join on its way: its answer is the welcome
    CHAT = auto()  # registered: a line is said in the current room or run as a /command
    CLOSED = auto()  # the hub has let go of this user; later lines are ignored


@dataclass(frozen=True, slots=True, eq=False)
class PlainForm:
    """What changes how a room event reads for a plain client (one instance per kind)."""

    timestamps: bool
    # A room's arrivals and departures reach plain members once per tick, as one line
    # (hub/arrivals.py).
    coalesces: ClassVar[bool] = True
    # Joining a room bigger than limits.plain_welcome_names, it is told `People` (a few
    # names and a count), not the whole NAMES list (hub/rooms.py `send_people`).
    summarises: ClassVar[bool] = True


# Shared by every plain session, so all of them get one rendering per room event.
FORMS = {on: PlainForm(on) for on in (False, True)}


def room_name(text: str) -> str:
    """"Room names may be given with or without the leading #" (docs/PLAIN-MODE.md)."""
    return text if text[:1] in CHANTYPES else "#" + text
