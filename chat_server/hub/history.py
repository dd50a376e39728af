"""The seam between the hub and whatever keeps history: what is kept, and how it is asked.

The hub stamps every message and room event (msgid, time) and hands it here before
delivery; a store keeps it off the event loop and answers queries later. Everything
here is synchronous from the hub's side and never blocks: `record` only queues, `recent`
reads memory, and `query` hands its answer back on the event loop through a callback.
Must not import the session, transport or store layers (the store implements this).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from chat_server.protocol.names import fold

# What a client without draft/event-playback may see: messages only.
MESSAGE_KINDS: frozenset[str] = frozenset({"PRIVMSG", "NOTICE"})
# Room events kept for draft/event-playback, beside the messages.
EVENT_KINDS: frozenset[str] = frozenset(
    {"JOIN", "PART", "QUIT", "KICK", "NICK", "TOPIC", "MODE"}
)
ALL_KINDS: frozenset[str] = MESSAGE_KINDS | EVENT_KINDS


def room_key(folded_room: str) -> str:
    """A room's history is kept under its folded name (always starting with a CHANTYPE)."""
    return folded_room


# Marks a party of a private conversation that is an account rather than a nick: no
# folded nick starts with it (protocol/names.py), so "~alice" is never a nick.
ACCOUNT_MARK = "~"


def account_party(folded_account: str) -> str:
    """An account as one side of a private conversation."""
    return ACCOUNT_MARK + folded_account


def party_account(party: str) -> str:
    """The folded account of an account party; "" for a nick."""
    return party[1:] if party.startswith(ACCOUNT_MARK) else ""


def dm_key(party_a: str, party_b: str) -> str:
    """A private conversation is kept once, readable by both parties.

    A party is a folded nick or an `account_party`. Neither contains a space nor starts
    with a CHANTYPE, so the key can collide neither with another pair nor with a room.
    """
    return " ".join(sorted((party_a, party_b)))


def private_key(folded_a: str, account_a: str, folded_b: str, account_b: str) -> str:
    """Where a private conversation between two people is kept: under their two
    accounts when both are logged in, so that it follows them to other nicks and
    connections; under their two folded nicks otherwise. Accounts are given as held
    (`User.account`), "" for someone not logged in."""
    if account_a and account_b:
        return dm_key(account_party(fold(account_a)), account_party(fold(account_b)))
    return dm_key(folded_a, folded_b)


def dm_parties(key: str) -> tuple[str, str] | None:
    """The two parties (folded nicks or account parties) of a private conversation's
    key; None for a room key."""
    a, sep, b = key.partition(" ")
    return (a, b) if sep else None


@dataclass(frozen=True, slots=True)
class Entry:
    """One kept line: a message or a room event, as it was relayed."""

    target: str  # the storage key: room_key() or dm_key()
    msgid: str
    time: float  # seconds since the epoch, UTC, at millisecond precision
    kind: str  # the IRC command: one of ALL_KINDS
    source: str  # nick!user@host of whoever did it (the server's name for server MODEs)
    params: tuple[str, ...]  # the IRC parameters as relayed, e.g. ("#lobby", "hello")

    @property
    def nick(self) -> str:
        return self.source.split("!", 1)[0]


class RefKind(Enum):
    MSGID = "msgid"  # msgid=… : a message by its id
    TIMESTAMP = "timestamp"  # timestamp=… : a point in time
    NONE = "*"  # "*": no bound (LATEST only)


@dataclass(frozen=True, slots=True)
class Ref:
    """A CHATHISTORY message reference; `time` is seconds for TIMESTAMP refs."""

    kind: RefKind
    msgid: str = ""
    time: float = 0.0


class Sub(Enum):
    """The CHATHISTORY subcommands, as the store answers them."""

    LATEST = "LATEST"  # the newest `limit`, after `start` when it is not "*"
    BEFORE = "BEFORE"  # the newest `limit` strictly before `start`
    AFTER = "AFTER"  # the oldest `limit` strictly after `start`
    AROUND = "AROUND"  # about limit/2 each side of `start` (the reference itself included)
    BETWEEN = "BETWEEN"  # strictly between `start` and `end`, from `start`'s side
    TARGETS = "TARGETS"  # which of `targets` had messages strictly between two times


@dataclass(frozen=True, slots=True)
class Query:
    """One history question; the store filters in its query, so `limit` rows are rows
    the asker may see (nothing is dropped after the query and pages never shrink).

    The hub checks who may read `target` before asking. For TARGETS, `targets` lists
    the keys the asker may read and `start`/`end` are TIMESTAMP refs; `parties` (the
    asker's folded nick, and their `account_party` when logged in) adds every private
    conversation kept with them, so partners who are offline, unknown to the hub, are
    found too.
    """

    sub: Sub
    target: str
    start: Ref
    limit: int
    kinds: frozenset[str] = MESSAGE_KINDS
    end: Ref | None = None
    targets: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TargetActivity:
    """A TARGETS answer row: the key and the time of its latest message in the window."""

    target: str
    time: float


Answer = list[Entry] | list[TargetActivity]
"""Entries oldest first (for every subcommand), or TARGETS rows oldest first."""


class History(Protocol):
    def record(self, entry: Entry) -> None:
        """Accept an entry; queues only, never blocks the event loop."""

    def recent(self, target: str, limit: int, kinds: frozenset[str] = MESSAGE_KINDS,
               ) -> list[Entry]:
        """The last `limit` entries of `target` of those kinds, oldest first, from memory.

        For replay on join: no query, no waiting. May hold fewer than exist on disk
        (a bounded number per target), never more.
        """

    def query(self, query: Query, done: Callable[[Answer], None]) -> None:
        """Answer off the loop; `done` is then called on the event loop.

        The answer includes every entry recorded before this call (read-your-writes).
        On a failure `done` gets an empty answer and the store logs why.
        """


class NullHistory:
    """Keeps nothing: history turned off."""

    __slots__ = ()

    def record(self, entry: Entry) -> None:
        return None

    def recent(self, target: str, limit: int, kinds: frozenset[str] = MESSAGE_KINDS,
               ) -> list[Entry]:
        return []

    def query(self, query: Query, done: Callable[[Answer], None]) -> None:
        done([])
