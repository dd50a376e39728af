"""The hub's state: users, rooms, membership, and the Peer seam to sessions.

A `Peer` is whatever carries events to a person (an IRC or plain-mode session); the
hub sees only `form`, `render`, `write` and `close`, never a socket. Must not import the
session, transport or store layers.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from chat_server.hub.events import Event, Joined, Parted, Quit, Source, make_source
from chat_server.protocol.message import Message
from chat_server.protocol.names import fold


class Peer(Protocol):
    """The hub's view of a connection."""

    @property
    def form(self) -> Hashable:
        """Equal forms render every room event to the same bytes (the fan-out cache key)."""

    def render(self, event: Event) -> bytes:
        """Bytes for this peer; empty when its dialect shows nothing for the event."""

    def write(self, data: bytes) -> None:
        """Queue bytes; never blocks, never raises."""

    # A peer may also offer `outbox() -> (queue, owner, wake) | None`: the list its
    # bytes wait in until the end of the loop turn, which a room's fan-out appends to
    # in bulk, and `wake([owner, ...])` to call once for all it appended to
    # (hub/fanout.py). Peers without one get `write` per delivery.

    def close(self, reason: str) -> None:
        """End the connection after what is queued; the hub has already forgotten the user."""


class Members(dict["User", str]):
    """A room's members and their status letters, in join order, and the room's
    fan-out groups (hub/fanout.py), which any change of membership or status drops:
    they are made again at the next delivery. Only changes are overridden, so reading
    stays a plain dict's."""

    __slots__ = ("groups",)

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[Any] | None = None

    def __setitem__(self, user: User, status: str) -> None:
        self.groups = None
        super().__setitem__(user, status)

    def __delitem__(self, user: User) -> None:
        self.groups = None
        super().__delitem__(user)

    def pop(self, user: User, *default: Any) -> Any:
        self.groups = None
        return super().pop(user, *default)

    def clear(self) -> None:
        self.groups = None
        super().clear()

    def popitem(self) -> tuple[User, str]:
        self.groups = None
        return super().popitem()

    def setdefault(self, user: User, status: str = "") -> str:
        self.groups = None
        return super().setdefault(user, status)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.groups = None
        super().update(*args, **kwargs)


class RemotePeer:
    """A person connected to another node: nothing is rendered or written here (that
    node delivers), so its members cost one skipped entry in a fan-out."""

    __slots__ = ()

    @property
    def form(self) -> Hashable:
        return self

    def render(self, event: Event) -> bytes:
        return b""

    def write(self, data: bytes) -> None:
        return None

    def close(self, reason: str) -> None:
        return None


REMOTE = RemotePeer()


# Shared by every user that has none: an empty set of its own costs 216 bytes each.
NO_FLAGS: frozenset[str] = frozenset()


class User:
    """One connection's person, registered or not; `folded` is the only lookup key."""

    __slots__ = (
        "account",
        "away",
        "cap_negotiating",
        "caps",
        "certfp",
        "folded",
        "held",
        "host",
        "invites",
        "last_active",
        "modes",
        "nick",
        "node",
        "password_ok",
        "peer",
        "pending",
        "realname",
        "registered",
        "response",
        "rooms",
        "sasl",
        "secure",
        "signon",
        "source",
        "splits_text",
        "uid",
        "user",
    )

    def __init__(self, peer: Peer, host: str, now: float, uid: str = "", node: str = "",
                 ) -> None:
        self.peer = peer
        # Network-wide name ("node:n") and the node the person is connected to.
        self.uid = uid
        self.node = node
        # While a command or an applied fact of this person runs: what they are told,
        # rendered at once by their session afterwards (Hub.flush).
        self.response: list[Event] | None = None
        # Facts of theirs not yet back from the log, and the lines that wait for them
        # (made when the first line has to wait: most people never need one).
        self.pending = 0
        self.held: list[Message] | None = None
        self.host = host
        # Connected over TLS, and the SHA-256 of its client certificate (WHOIS).
        self.secure = False
        self.certfp = ""
        self.nick = ""
        self.folded = ""
        self.user = ""
        # The account logged in to (its name as registered), or "".
        self.account = ""
        # A SASL exchange in progress (hub/sasl.py), or None.
        self.sasl: object | None = None
        self.realname = ""
        self.registered = False
        self.cap_negotiating = False
        self.password_ok = False
        self.caps = NO_FLAGS
        # A message longer than one relayed IRC line is split into several lines (plain
        # mode, whose lines may be far longer than IRC's) rather than cut short.
        self.splits_text = False
        self.modes = NO_FLAGS
        self.away = ""
        self.rooms: dict[str, Room] = {}
        # Invitations held by this person (not by its nick, which someone else may take
        # next): folded room name -> that room's creation time, so that an invite to a
        # room does not open a later room of the same name. Made on the first invite.
        self.invites: dict[str, float] | None = None
        self.signon = now
        self.last_active = now
        self.source = make_source("*", "*", host)

    def set_identity(self, nick: str, user: str | None = None) -> None:
        if nick != self.nick or not self.folded:
            folded = fold(nick)
            # One string for both when folding changes nothing (a nick in lower case),
            # and the same one as long as the nick stays: the hub's indexes key on it.
            self.folded = nick if folded == nick else folded
        self.nick = nick
        if user is not None:
            self.user = user
        self.source = make_source(self.nick, self.user or "*", self.host, self.account)

    def set_account(self, account: str) -> None:
        self.account = account
        self.source = make_source(self.nick, self.user or "*", self.host, account)

    @property
    def label(self) -> str:
        """The nick as numerics address it: "*" until one is chosen."""
        return self.nick or "*"


@dataclass(frozen=True, slots=True)
class Ban:
    mask: str
    setter: str
    time: float


@dataclass(slots=True)
class Room:
    name: str
    folded: str
    created: float
    # Member -> its status letters ("o", "v", "ov"); insertion order is join order.
    members: Members = field(default_factory=Members)
    topic: str = ""
    topic_setter: str = ""
    topic_time: float = 0.0
    # Flag modes among "imnst"; a new room starts +nt like most networks.
    flags: set[str] = field(default_factory=lambda: {"n", "t"})
    key: str = ""
    limit: int = 0
    bans: list[Ban] = field(default_factory=list)
    # +e: who a ban does not apply to; +I: who may join while +i without an invite.
    excepts: list[Ban] = field(default_factory=list)
    invexes: list[Ban] = field(default_factory=list)
    # Arrivals and departures that plain-mode members have not read yet, in order, and
    # whether a timer to announce them is on its way (hub/arrivals.py).
    arrivals: list[tuple[User, Joined | Parted | Quit]] = field(default_factory=list)
    arrivals_due: bool = False
    # How many members read those per tick (their form `coalesces`): when all of them
    # do, an arrival walks nobody (hub/arrivals.py).
    coalescing: int = 0

    def mask_list(self, letter: str) -> list[Ban]:
        """The list a list mode letter (b, e, I) keeps."""
        return self.bans if letter == "b" else self.excepts if letter == "e" else self.invexes

    def status(self, user: User) -> str:
        return self.members.get(user, "")

    def is_op(self, user: User) -> bool:
        return "o" in self.members.get(user, "")

    def secret_to(self, user: User) -> bool:
        """+s: the room is left out of LIST, NAMES, WHO and WHOIS for non-members."""
        return "s" in self.flags and user not in self.members

    def can_speak(self, user: User) -> bool:
        status = self.members.get(user)
        if status is None:
            return "n" not in self.flags
        return bool(status) or "m" not in self.flags

    def mode_string(self, show_key: bool) -> tuple[str, list[str]]:
        letters = "+" + "".join(sorted(self.flags))
        args: list[str] = []
        if self.key:
            letters += "k"
            args.append(self.key if show_key else "*")
        if self.limit:
            letters += "l"
            args.append(str(self.limit))
        return letters, args


def prefix_chars(status: str, multi: bool) -> str:
    """Membership prefixes for NAMES/WHO: "@+" with multi-prefix, else the highest."""
    chars = ("@" if "o" in status else "") + ("+" if "v" in status else "")
    return chars if multi else chars[:1]


__all__ = ["REMOTE", "Ban", "Peer", "RemotePeer", "Room", "Source", "User", "prefix_chars"]
