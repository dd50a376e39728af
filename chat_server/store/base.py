"""What every store is: the hub's History and Registry, plus a lifecycle, health and admin.

Owns the meaning of every CHATHISTORY query, once, for all backends: `answer` turns a
Query into range scans over one target's entries ordered by (time_ms, seq), and a
backend only supplies those scans (`Scans`). So the memory and SQLite backends cannot
disagree about bounds, directions or limits. Also owns the bounded in-memory recent
lines per target (`RecentCache`) that replay on join reads without a query, and the
rows accounts and registered rooms are kept as (`account_row`, `room_row`), so both
backends keep exactly what the other would.
Must not import the session or transport layers; the hub's history seam is the contract.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import json
import os
import time
from abc import ABC, abstractmethod
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

from chat_server.config import HistorySection, StoreSection
from chat_server.hub.accounts import Account, RoomRecord, dropped_account
from chat_server.hub.history import (
    MESSAGE_KINDS,
    Answer,
    Entry,
    Query,
    Ref,
    RefKind,
    Sub,
    TargetActivity,
    account_party,
    dm_parties,
)
from chat_server.protocol.names import fold

DB_NAME = "roomchat.db"

# A position in one target's history: (time in integer milliseconds, seq). seq is a
# positive integer given in record order, so equal timestamps still order stably.
Key = tuple[int, int]
# Bigger than any real seq or millisecond time, and still a 64-bit SQLite integer.
MAX_SEQ = 1 << 62
LOWEST: Key = (-MAX_SEQ, 0)
HIGHEST: Key = (MAX_SEQ, 0)


# One account as the `accounts` table keeps it: folded name, name, argon2id hash, SCRAM
# credentials, certificate fingerprints (space-separated), registered time.
AccountRow = tuple[str, str, str, str, str, float]
# One registered room as the `rooms` table keeps it, in the order of its columns.
RoomRow = tuple[str, str, str, float, str, str, float, str, str, int, str, str, str, str]
# A registry write, as the store queues it: (table, folded name, the row or None to drop).
Change = tuple[str, str, AccountRow | RoomRow | None]
Registered = tuple[list[Account], list[RoomRecord]]


class StoreError(Exception):
    """The store cannot be used; the message names the path and the problem, in one line."""


def to_ms(seconds: float) -> int:
    """Times are kept as integer milliseconds: the precision of IRCv3 server-time."""
    return round(seconds * 1000)


def normalised(entry: Entry) -> Entry:
    """The entry with its time at millisecond precision, as every backend returns it."""
    exact = to_ms(entry.time) / 1000
    return entry if exact == entry.time else dataclasses.replace(entry, time=exact)


def data_dir(store: StoreSection, environ: Mapping[str, str] | None = None) -> Path:
    """[store] data_dir, else $XDG_DATA_HOME/roomchat, else ~/.local/share/roomchat."""
    env = os.environ if environ is None else environ
    if store.data_dir:
        return Path(store.data_dir).expanduser()
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base, "roomchat")


def account_row(account: Account) -> AccountRow:
    """The account as plain values, taken on the loop when its fact is applied, so the
    writer never reads an object the hub may change meanwhile."""
    return (account.folded, account.name, account.password_hash, account.scram,
            " ".join(account.certfps), account.registered)


def account_from_row(row: AccountRow) -> Account:
    _, name, password_hash, scram, certfps, registered = row
    return Account(name, password_hash, scram, tuple(certfps.split()), registered)


def _masks(masks: tuple[tuple[str, str, float], ...]) -> str:
    return json.dumps([list(item) for item in masks], ensure_ascii=False)


def _unmasks(text: str) -> tuple[tuple[str, str, float], ...]:
    return tuple((str(mask), str(setter), float(when))
                 for mask, setter, when in json.loads(text))


def room_row(record: RoomRecord) -> RoomRow:
    """The registered room as plain values (lists and access as JSON), taken on the loop."""
    return (record.folded, record.name, record.founder, record.registered, record.topic,
            record.topic_setter, record.topic_time, record.flags, record.key, record.limit,
            _masks(record.bans), _masks(record.excepts), _masks(record.invexes),
            json.dumps(record.access, ensure_ascii=False, sort_keys=True))


def room_from_row(row: RoomRow) -> RoomRecord:
    """The record again; ValueError (json's included) or TypeError for JSON that is not
    what `room_row` writes (a hand-edited row)."""
    (_, name, founder, registered, topic, topic_setter, topic_time, flags, key, limit,
     bans, excepts, invexes, access) = row
    levels = json.loads(access)
    if not isinstance(levels, dict):
        raise TypeError(f"the access list of {name} is not a JSON object")
    return RoomRecord(name, founder, registered, topic=topic, topic_setter=topic_setter,
                      topic_time=topic_time, flags=flags, key=key, limit=limit,
                      bans=_unmasks(bans), excepts=_unmasks(excepts),
                      invexes=_unmasks(invexes),
                      access={str(k): str(v) for k, v in levels.items()})


class Scans(Protocol):
    """The three reads a backend offers; `answer` builds every query from them."""

    def resolve(self, target: str, msgid: str) -> Key | None:
        """The key of the message with that msgid in that target, or None."""

    def scan(self, target: str, after: Key, before: Key, newest_first: bool, limit: int,
             kinds: frozenset[str]) -> list[Entry]:
        """Up to `limit` entries of those kinds with after < key < before, in scan order."""

    def latest(self, target: str, after_ms: int, before_ms: int,
               kinds: frozenset[str]) -> int | None:
        """The time of the newest entry of those kinds with after_ms < time < before_ms."""

    def conversations(self, party: str) -> list[str]:
        """The keys of the private conversations kept with `party` (a folded nick, or
        an account party: hub/history.py)."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Point:
    """A resolved reference, as the bounds it gives on each side."""

    lower: Key  # exclusive lower bound: entries after the reference
    upper: Key  # exclusive upper bound: entries before the reference
    order: Key  # where the reference itself sits, to tell BETWEEN's direction


def _point(scans: Scans, target: str, ref: Ref) -> _Point | None:
    if ref.kind is RefKind.MSGID:
        key = scans.resolve(target, ref.msgid)
        return None if key is None else _Point(key, key, key)
    if ref.kind is RefKind.TIMESTAMP:
        ms = to_ms(ref.time)
        # Strictly after a time: past every seq at that millisecond; before: below seq 1.
        return _Point((ms, MAX_SEQ), (ms, 0), (ms, 0))
    return None


def answer(query: Query, scans: Scans, max_limit: int) -> Answer:
    """The answer to `query` (IRCv3 draft/chathistory), entries always oldest first.

    References are exclusive except AROUND's; an unknown msgid (in that target) or a
    "*" where a point is needed gives an empty answer. The hub caps `limit`; it is
    guarded again with `max_limit`.
    """
    limit = min(query.limit, max_limit)
    if limit <= 0 or not query.kinds:
        return []
    if query.sub is Sub.TARGETS:
        return _targets(query, scans, limit)
    target, kinds = query.target, query.kinds
    if query.sub is Sub.LATEST and query.start.kind is RefKind.NONE:
        return scans.scan(target, LOWEST, HIGHEST, True, limit, kinds)[::-1]
    start = _point(scans, target, query.start)
    if start is None:
        return []
    if query.sub is Sub.LATEST:
        return scans.scan(target, start.lower, HIGHEST, True, limit, kinds)[::-1]
    if query.sub is Sub.BEFORE:
        return scans.scan(target, LOWEST, start.upper, True, limit, kinds)[::-1]
    if query.sub is Sub.AFTER:
        return scans.scan(target, start.lower, HIGHEST, False, limit, kinds)
    if query.sub is Sub.AROUND:
        return _around(query, scans, limit)
    end = _point(scans, target, query.end) if query.end is not None else None
    if end is None:
        return []
    if start.order <= end.order:
        return scans.scan(target, start.lower, end.upper, False, limit, kinds)
    return scans.scan(target, end.lower, start.upper, True, limit, kinds)[::-1]


def _around(query: Query, scans: Scans, limit: int) -> list[Entry]:
    """Half before (the referenced message included), half after; a short side's room
    goes to the other, so up to `limit` entries come back whenever that many exist."""
    ref = query.start
    if ref.kind is RefKind.MSGID:
        key = scans.resolve(query.target, ref.msgid)
        if key is None:
            return []
        upper, lower = (key[0], key[1] + 1), key
    else:
        # At a time: what is before it on one side, what is at or after it on the other.
        upper = lower = (to_ms(ref.time), 0)
    before = scans.scan(query.target, LOWEST, upper, True, limit, query.kinds)
    after = scans.scan(query.target, lower, HIGHEST, False, limit, query.kinds)
    b = min(len(before), limit - limit // 2)
    a = min(len(after), limit - b)
    b = min(len(before), limit - a)
    return before[:b][::-1] + after[:a]


# Later than any entry's time, in milliseconds.
_NEVER_MS = 1 << 62


def _targets(query: Query, scans: Scans, limit: int) -> list[TargetActivity]:
    """Targets whose latest entry is strictly between two times, by its time.

    As BETWEEN: counted from `start`'s side, so start later than end picks the most
    recently active; always returned oldest first (ties by key).
    """
    end = query.end
    if (query.start.kind is not RefKind.TIMESTAMP or end is None
            or end.kind is not RefKind.TIMESTAMP):
        return []
    a, b = to_ms(query.start.time), to_ms(end.time)
    low, high = min(a, b), max(a, b)
    keys = list(query.targets)
    for party in query.parties:
        keys += scans.conversations(party)
    found = []
    for target in dict.fromkeys(keys):
        # A target is in the window when its latest entry is: one with older entries
        # inside but newer ones past the end has moved on (as Ergo answers it).
        ms = scans.latest(target, low, _NEVER_MS, query.kinds)
        if ms is not None and ms < high:
            found.append((ms, target))
    found.sort()
    chosen = found[:limit] if a <= b else found[-limit:]
    return [TargetActivity(target, ms / 1000) for ms, target in chosen]


def purge_matcher(target: str | None, nick: str | None,
                  before: float | None) -> Callable[[Entry], bool]:
    """Which entries a purge removes: every criterion given must hold (at least one is).

    `nick` (folded) matches what that person said and both sides of their private
    conversations, those kept under the account of that name included.
    """
    if target is None and nick is None and before is None:
        raise ValueError("purge needs a target, a nick or a time")
    cutoff = None if before is None else to_ms(before)

    def gone(entry: Entry) -> bool:
        if target is not None and entry.target != target:
            return False
        if nick is not None:
            parties = dm_parties(entry.target)
            if fold(entry.nick) != nick and (
                    parties is None or (nick not in parties
                                        and account_party(nick) not in parties)):
                return False
        return cutoff is None or to_ms(entry.time) < cutoff

    return gone


class RecentCache:
    """The last lines of the most recently used targets, for replay without a query.

    Keeps messages only (MESSAGE_KINDS): replay on join shows nothing else, and the
    room events (a JOIN per member, a QUIT per room) would cost memory per person
    (~500 B each for 10,000 idle members) and push out the lines replay wants; event
    playback asks the store. Bounded twice: `per_target` messages each and
    `max_targets` targets, the least recently used dropped first. Touched only on
    the event loop.

    Also counts the msgids it holds, so that the check for an entry applied twice scans
    a target's lines only when its msgid is held at all: lines stamped in the same
    millisecond (a burst read in one turn) would otherwise each scan the whole deque.
    """

    def __init__(self, per_target: int, max_targets: int) -> None:
        self.per_target = per_target
        self.max_targets = max_targets
        self._lines: OrderedDict[str, deque[Entry]] = OrderedDict()
        self._held: dict[str, int] = {}

    def _deque(self, target: str) -> deque[Entry]:
        lines = self._lines.get(target)
        if lines is None:
            lines = self._lines[target] = deque(maxlen=self.per_target)
            while len(self._lines) > self.max_targets:
                self._release(self._lines.popitem(last=False)[1])
        else:
            self._lines.move_to_end(target)
        return lines

    def _hold(self, entries: Iterable[Entry]) -> None:
        held = self._held
        for entry in entries:
            held[entry.msgid] = held.get(entry.msgid, 0) + 1

    def _release(self, entries: Iterable[Entry]) -> None:
        held = self._held
        for entry in entries:
            left = held[entry.msgid] - 1
            if left:
                held[entry.msgid] = left
            else:
                del held[entry.msgid]

    def add(self, entry: Entry) -> None:
        if self.per_target and self.max_targets and entry.kind in MESSAGE_KINDS:
            lines = self._deque(entry.target)
            msgid = entry.msgid
            # An entry no newer than the last may be one applied again (a cluster log
            # read anew after a restart): kept once.
            held = self._held
            if msgid in held and lines and entry.time <= lines[-1].time and any(
                    e.msgid == msgid for e in lines):
                return
            if len(lines) == self.per_target:
                # The oldest line is about to fall off the deque (_release, inlined).
                oldest = lines[0].msgid
                left = held[oldest] - 1
                if left:
                    held[oldest] = left
                else:
                    del held[oldest]
            lines.append(entry)
            held[msgid] = held.get(msgid, 0) + 1

    def fill(self, target: str, entries: Iterable[Entry]) -> None:
        """Warm one target with entries older than any it holds, oldest first."""
        if self.per_target and self.max_targets:
            lines = self._deque(target)
            room = self.per_target - len(lines)
            if room > 0:
                older = [e for e in entries if e.kind in MESSAGE_KINDS][-room:]
                lines.extendleft(reversed(older))
                self._hold(older)

    def get(self, target: str, limit: int, kinds: frozenset[str]) -> list[Entry]:
        lines = self._lines.get(target)
        if lines is None or limit <= 0:
            return []
        self._lines.move_to_end(target)
        picked: list[Entry] = []
        for entry in reversed(lines):
            if entry.kind in kinds:
                picked.append(entry)
                if len(picked) == limit:
                    break
        return picked[::-1]

    def trim_before(self, cutoff_ms: int) -> None:
        """Drop entries older than retention keeps, from each deque's old end only: a
        pass costs the targets plus what goes, so it can run on the loop."""
        for target, lines in list(self._lines.items()):
            while lines and to_ms(lines[0].time) < cutoff_ms:
                self._release((lines.popleft(),))
            if not lines:
                del self._lines[target]

    def forget(self, keep: Callable[[Entry], bool]) -> None:
        """Drop the entries that retention or a purge removed from the store."""
        for target, lines in list(self._lines.items()):
            kept = [entry for entry in lines if keep(entry)]
            if len(kept) != len(lines):
                self._release(lines)
                lines.clear()
                lines.extend(kept)
                self._hold(kept)
            if not lines:
                del self._lines[target]


# Upper bounds (seconds) of the commit-latency buckets: a healthy commit of a batch takes
# a few milliseconds; the 50 ms commit interval is the line that matters.
COMMIT_BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5, 1.0, 2.5)


class CommitTimes:
    """How long the writer's transactions take, as a histogram of plain numbers.

    Written by the writer thread alone and read at scrape time: a scrape may see one
    commit half counted, never a torn number, and the writer takes no lock for it.
    """

    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(COMMIT_BUCKETS) + 1)  # the last one is +Inf
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        # The first bucket whose bound is >= seconds; past the last one, +Inf.
        self.buckets[bisect.bisect_left(COMMIT_BUCKETS, seconds)] += 1
        self.total += seconds
        self.count += 1


class Store(ABC):
    """The hub's History and Registry with a lifecycle: open (may raise StoreError),
    load_registry, start(loop), close (commits everything queued). Health for logs and
    checks; admin reads and deletes (export, purge, prune) block, so they are for the
    CLI, tests and threads, never for the event loop."""

    path: Path | None = None

    def __init__(self, store: StoreSection, history: HistorySection) -> None:
        self.settings = store
        self.history = history
        per_target = history.memory_per_target
        if history.max_per_target:
            per_target = min(per_target, history.max_per_target)
        self.recent_lines = RecentCache(per_target, history.memory_targets)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.commit_times = CommitTimes()

    # -- lifecycle --------------------------------------------------------------

    @abstractmethod
    def open(self) -> None:
        """Make the store usable (create, check, migrate, warm); StoreError if it cannot."""

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Learn the loop that `query` callbacks run on; start background work."""
        self.loop = loop

    @abstractmethod
    def close(self) -> None:
        """Write everything recorded so far, then stop; blocks, so not on the loop."""

    # -- health -----------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """False while writes fail (the entries stay queued, within a bound)."""
        return not self.last_error

    @property
    def last_error(self) -> str:
        """Why the last write failed, while it is still failing; '' when all is well."""
        return ""

    @property
    def queue_depth(self) -> int:
        """Entries recorded but not yet written."""
        return 0

    # -- the hub's History ------------------------------------------------------

    @abstractmethod
    def record(self, entry: Entry) -> None: ...

    def recent(self, target: str, limit: int, kinds: frozenset[str] = MESSAGE_KINDS,
               ) -> list[Entry]:
        return self.recent_lines.get(target, limit, kinds)

    @abstractmethod
    def query(self, query: Query, done: Callable[[Answer], None]) -> None: ...

    # -- the hub's Registry -----------------------------------------------------
    # Called on the loop as facts are applied: each turns its value into a row at once
    # and queues it (`keep`); nothing here waits for a disk.

    def save_account(self, account: Account) -> None:
        self.keep(("accounts", account.folded, account_row(account)))

    def drop_account(self, folded: str) -> None:
        # The name stays, without credentials (`Account.dropped`).
        self.keep(("accounts", folded, account_row(dropped_account(folded, time.time()))))

    def save_room(self, record: RoomRecord) -> None:
        self.keep(("rooms", record.folded, room_row(record)))

    def drop_room(self, folded: str) -> None:
        self.keep(("rooms", folded, None))

    @abstractmethod
    def keep(self, change: Change) -> None:
        """Write (or, with no row, delete) one account or room, later; the last change
        of a name wins."""

    @abstractmethod
    def load_registry(self) -> Registered:
        """Every account and registered room kept, for `Hub.load_registry`. Blocks: run
        it in a thread, after `open` and before any connection."""

    # -- admin ------------------------------------------------------------------

    @abstractmethod
    def export(self, target: str) -> Iterator[Entry]:
        """Every entry of `target` (all kinds), oldest first."""

    @abstractmethod
    def purge(self, *, target: str | None = None, nick: str | None = None,
              before: float | None = None) -> int:
        """Delete a target's entries, or what a folded nick said and its private
        conversations, or everything older than `before` (seconds); how many went."""

    @abstractmethod
    def prune(self, now: float) -> int:
        """Apply [history] max_age and max_per_target now; how many entries went."""


class NullStore(Store):
    """[store] backend = "none": keeps nothing, answers every query with nothing; no
    account or registered room outlives the process (the hub holds them meanwhile)."""

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def record(self, entry: Entry) -> None:
        return None

    def recent(self, target: str, limit: int, kinds: frozenset[str] = MESSAGE_KINDS,
               ) -> list[Entry]:
        return []

    def query(self, query: Query, done: Callable[[Answer], None]) -> None:
        (self.loop or asyncio.get_running_loop()).call_soon(done, [])

    def keep(self, change: Change) -> None:
        return None

    def load_registry(self) -> Registered:
        return [], []

    def export(self, target: str) -> Iterator[Entry]:
        return iter(())

    def purge(self, *, target: str | None = None, nick: str | None = None,
              before: float | None = None) -> int:
        return 0

    def prune(self, now: float) -> int:
        return 0


# Kinds whose last parameter is their text; the others carry it elsewhere or not at all.
_TEXT_LAST = frozenset({"PRIVMSG", "NOTICE", "TOPIC", "PART", "KICK"})


def export_record(entry: Entry) -> dict[str, str]:
    """One exported line: msgid, time (ISO 8601 UTC, milliseconds), nick, kind, text."""
    ms = to_ms(entry.time)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
    if entry.kind in _TEXT_LAST:
        text = entry.params[-1] if len(entry.params) > 1 else ""
    elif entry.kind in ("QUIT", "NICK"):
        text = entry.params[0] if entry.params else ""
    else:  # JOIN has none; a MODE's text is its changes
        text = " ".join(entry.params[1:])
    return {"msgid": entry.msgid, "time": f"{stamp}.{ms % 1000:03d}Z", "nick": entry.nick,
            "kind": entry.kind, "text": text}
