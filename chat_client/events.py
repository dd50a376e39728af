"""What the client protocol tells the rest of the client: one frozen value per happening.

Owns the event vocabulary between `protocol` (which produces events from IRC lines)
and `state` (which applies them). Plain values only: must not import the protocol,
the state, asyncio or prompt_toolkit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class MessageKind(enum.Enum):
    """How a chat message was sent, which decides how it is shown."""

    PRIVMSG = "privmsg"  # an ordinary line of chat
    ACTION = "action"  # CTCP ACTION, shown as "* nick does something"
    NOTICE = "notice"  # a NOTICE: never answered automatically, shown with dashes


@dataclass(frozen=True, slots=True)
class Registered:
    """The server accepted us (001); `nick` is the nick it gave us."""

    nick: str
    server: str


@dataclass(frozen=True, slots=True)
class CapsEnabled:
    """Capability negotiation ended with these capabilities acknowledged."""

    caps: frozenset[str]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A PRIVMSG or NOTICE. `buffer` is the room, or the other party of a private talk."""

    buffer: str
    sender: str
    text: str
    kind: MessageKind
    time: datetime
    own: bool  # sent by us (an echo, or a local echo when echo-message is off)
    history: bool = False  # part of a chathistory batch rather than said just now
    private: bool = False  # a private message rather than a room message
    msgid: str | None = None


class HistoryPurpose(enum.Enum):
    """Why history was asked for, which decides where it goes and whether it is news."""

    LATEST = "latest"  # the newest lines of a room just joined: context, not news
    OLDER = "older"  # a page before the oldest line shown (paging back): not news
    MISSED = "missed"  # what was said while we were disconnected: news, counts as unread


@dataclass(frozen=True, slots=True)
class HistoryBatch:
    """A chathistory batch has ended (or the request failed, `error` set).

    `messages` are oldest first. `target` is the room or nick the history is of.
    """

    target: str
    purpose: HistoryPurpose
    messages: tuple[ChatMessage, ...]
    error: str = ""


@dataclass(frozen=True, slots=True)
class Joined:
    room: str
    nick: str
    own: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class Parted:
    room: str
    nick: str
    reason: str
    own: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class Kicked:
    room: str
    nick: str
    by: str
    reason: str
    own: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class Quit:
    nick: str
    reason: str
    time: datetime


@dataclass(frozen=True, slots=True)
class NickChanged:
    old: str
    new: str
    own: bool
    time: datetime


@dataclass(frozen=True, slots=True)
class TopicChanged:
    """A topic was set (`by` given) or reported on join (`by` None)."""

    room: str
    topic: str
    by: str | None
    time: datetime


@dataclass(frozen=True, slots=True)
class Names:
    """The complete member list of a room (sent after 366 ends a NAMES reply)."""

    room: str
    nicks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AwayChanged:
    """Someone (or we, `own`) went away (`message` set) or came back (`message` None)."""

    nick: str
    message: str | None
    own: bool


@dataclass(frozen=True, slots=True)
class ListEntry:
    room: str
    users: int
    topic: str


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """Logged in to `account` (900), or out of it (901, `account` None)."""

    account: str | None
    text: str


@dataclass(frozen=True, slots=True)
class LoginHint:
    """NickServ says `nick` is registered and we are not logged in to it."""

    nick: str


@dataclass(frozen=True, slots=True)
class ServerText:
    """Text for the user from the server: MOTD, numerics we do not model, errors.

    `buffer` names the buffer it belongs to, or None for the server buffer.
    """

    text: str
    error: bool = False
    buffer: str | None = None


@dataclass(frozen=True, slots=True)
class LagMeasured:
    seconds: float


Event = (
    Registered
    | CapsEnabled
    | ChatMessage
    | HistoryBatch
    | Joined
    | Parted
    | Kicked
    | Quit
    | NickChanged
    | TopicChanged
    | Names
    | AwayChanged
    | ListEntry
    | ServerText
    | LagMeasured
    | AccountChanged
    | LoginHint
)
