"""What the hub tells sessions: immutable events, rendered by each session's dialect.

Room events carry nothing that depends on who receives them, so one rendering per
output form serves every member (docs/ARCHITECTURE.md, Fan-out). Replies (`Reply`) are addressed
to one user and rendered for that user alone. Must not import the session, transport
or store layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto

from chat_server.protocol.message import Message


@dataclass(frozen=True, slots=True)
class Source:
    """Who did something, as others see them."""

    nick: str
    user: str
    host: str
    prefix: str  # nick!user@host, built once per nick change rather than per delivery
    # The account they are logged in to, or "" (account-tag, extended-join).
    account: str = ""


def make_source(nick: str, user: str, host: str, account: str = "") -> Source:
    return Source(nick, user, host, f"{nick}!{user}@{host}", account)


@dataclass(frozen=True, slots=True)
class Chat:
    """A PRIVMSG or NOTICE to a room or a person, stamped at the hub for history."""

    source: Source
    command: str  # "PRIVMSG" or "NOTICE"
    target: str  # room name or recipient nick, as displayed
    text: str
    msgid: str
    time: float  # seconds since the epoch, UTC
    to_room: bool
    # The sender's client-only tags ("+draft/reply=id;+x"), for message-tags
    # recipients; with command "TAGMSG" they are the whole message.
    client_tags: str = ""


@dataclass(frozen=True, slots=True)
class Joined:
    source: Source
    room: str
    time: float
    msgid: str = ""  # room events are kept in history too, under this id
    realname: str = ""  # for extended-join (the account is the source's)


@dataclass(frozen=True, slots=True)
class Parted:
    source: Source
    room: str
    reason: str
    time: float
    msgid: str = ""  # room events are kept in history too, under this id


@dataclass(frozen=True, slots=True)
class Quit:
    source: Source
    reason: str
    time: float
    msgid: str = ""  # room events are kept in history too, under this id


@dataclass(frozen=True, slots=True)
class NickChanged:
    source: Source  # the old identity
    new_nick: str
    time: float
    msgid: str = ""  # room events are kept in history too, under this id


@dataclass(frozen=True, slots=True)
class TopicChanged:
    source: Source
    room: str
    topic: str
    time: float
    msgid: str = ""  # room events are kept in history too, under this id


@dataclass(frozen=True, slots=True)
class Kicked:
    source: Source
    room: str
    nick: str
    reason: str
    time: float
    msgid: str = ""  # room events are kept in history too, under this id


@dataclass(frozen=True, slots=True)
class ModeChanged:
    """A mode change on a room or a user; `source` is None when the server made it."""

    source: Source | None
    target: str
    modes: str  # e.g. "+o-v"
    args: tuple[str, ...]
    time: float
    msgid: str = ""  # room events are kept in history too, under this id


@dataclass(frozen=True, slots=True)
class AwayChanged:
    """Sent to room-mates that asked for away-notify."""

    source: Source
    text: str  # empty: back
    time: float


@dataclass(frozen=True, slots=True)
class AccountChanged:
    """Someone logged in (`account`) or out (""): room-mates with account-notify see it,
    and so do they themselves."""

    source: Source  # as they were until now: its account is the one they leave
    account: str
    time: float


@dataclass(frozen=True, slots=True)
class Invited:
    source: Source
    nick: str
    room: str
    time: float


class PlaybackKind(Enum):
    """Why kept lines are being sent, which decides how they are framed."""

    CHATHISTORY = auto()  # the answer to a CHATHISTORY request (plain /history included)
    JOIN = auto()  # replay on join, for a client that cannot ask itself


@dataclass(frozen=True, slots=True)
class Playback:
    """Kept lines sent to one user, oldest first, each with its own time and msgid.

    `target` is the conversation as the user names it: the room, or the other party's
    nick for a private conversation.
    """

    kind: PlaybackKind
    target: str
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class TargetsPlayback:
    """A CHATHISTORY TARGETS answer: conversations and the time of their latest message."""

    rows: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class HistoryFailed:
    """A CHATHISTORY request refused (FAIL CHATHISTORY code context... :description)."""

    code: str
    context: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A numeric reply to one user; `params` follow the recipient's nick."""

    numeric: str
    params: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServerMessage:
    """A dialect-specific line with no numeric (CAP, PONG, PING); plain mode may skip it."""

    message: Message


@dataclass(frozen=True, slots=True)
class Closing:
    """The server is closing this connection; `reason` is said to the user (ERROR)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Comings:
    """A room's arrivals and departures of one tick, for members who read them together
    (plain mode): each person's net change, in order; `Joined`, `Parted` or `Quit`."""

    room: str
    changes: tuple[Joined | Parted | Quit, ...]
    time: float


@dataclass(frozen=True, slots=True)
class People:
    """Who is in a room, in brief, for a newcomer whose form lists only a few names on
    joining (plain mode's, `summarises`), sent instead of NAMES in a big room: the
    first members but the newcomer, and how many are there in all, newcomer included."""

    room: str
    nicks: tuple[str, ...]
    total: int


Event = (
    Chat | Joined | Parted | Quit | Comings | People | NickChanged | TopicChanged | Kicked
    | ModeChanged | AwayChanged | AccountChanged | Invited | Playback | TargetsPlayback
    | HistoryFailed | Reply
    | ServerMessage | Closing
)
