"""The in-memory store: history, accounts and registered rooms kept until the process
ends (tests, throwaway servers).

Answers every query exactly as the SQLite store does: both give `base.answer` the same
three scans over entries ordered by (time_ms, seq). Runs on the event loop, which is
fine for memory (no file, no waiting); answers are still delivered by a later callback,
as from SQLite, so the hub sees one behaviour. Accounts and rooms are kept as the rows
SQLite would write, so a value the hub changes later is not changed here. Must not
import the session or transport layers.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

from chat_server.config import HistorySection, StoreSection
from chat_server.hub.history import Answer, Entry, Query, dm_parties
from chat_server.store.base import (
    MAX_SEQ,
    AccountRow,
    Change,
    Key,
    Registered,
    RoomRow,
    Store,
    account_from_row,
    answer,
    normalised,
    purge_matcher,
    room_from_row,
    to_ms,
)


class _Target:
    """One target's entries, sorted by key, with its msgids."""

    __slots__ = ("entries", "keys", "msgids")

    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.entries: list[Entry] = []
        self.msgids: dict[str, Key] = {}

    def add(self, key: Key, entry: Entry) -> None:
        if not self.keys or key > self.keys[-1]:
            self.keys.append(key)
            self.entries.append(entry)
        else:  # a clock that stepped back: keep the order by time
            at = bisect.bisect(self.keys, key)
            self.keys.insert(at, key)
            self.entries.insert(at, entry)
        self.msgids.setdefault(entry.msgid, key)

    def drop_oldest(self, count: int) -> None:
        """Forget the first `count` entries (retention): cheap, they are at the front."""
        for key, entry in zip(self.keys[:count], self.entries[:count], strict=True):
            if self.msgids.get(entry.msgid) == key:
                del self.msgids[entry.msgid]
        del self.keys[:count]
        del self.entries[:count]

    def keep(self, wanted: Callable[[Key, Entry], bool]) -> int:
        pairs = [(k, e) for k, e in zip(self.keys, self.entries, strict=True) if wanted(k, e)]
        removed = len(self.keys) - len(pairs)
        if removed:
            self.keys = [k for k, _ in pairs]
            self.entries = [e for _, e in pairs]
            self.msgids = {}
            for key, entry in pairs:
                self.msgids.setdefault(entry.msgid, key)
        return removed


class MemoryStore(Store):
    """Everything in dictionaries and sorted lists; nothing survives a restart."""

    def __init__(self, store: StoreSection, history: HistorySection,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(store, history)
        self._targets: dict[str, _Target] = {}
        self._seq = itertools.count(1)
        self._prune_timer: asyncio.TimerHandle | None = None
        self._clock = clock
        self._accounts: dict[str, AccountRow] = {}
        self._rooms: dict[str, RoomRow] = {}

    def open(self) -> None:
        return None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        super().start(loop)
        if self.history.max_age or self.history.max_per_target:
            self._prune_timer = loop.call_later(self.settings.prune_interval, self._prune_tick)

    def _prune_tick(self) -> None:
        assert self.loop is not None
        self.prune(self._clock())
        self._prune_timer = self.loop.call_later(self.settings.prune_interval, self._prune_tick)

    def close(self) -> None:
        if self._prune_timer is not None:
            self._prune_timer.cancel()
            self._prune_timer = None

    # -- the hub's History ------------------------------------------------------

    def record(self, entry: Entry) -> None:
        entry = normalised(entry)
        self.recent_lines.add(entry)
        target = self._targets.get(entry.target)
        if target is None:
            target = self._targets[entry.target] = _Target()
        target.add((to_ms(entry.time), next(self._seq)), entry)

    def query(self, query: Query, done: Callable[[Answer], None]) -> None:
        loop = self.loop or asyncio.get_running_loop()
        loop.call_soon(done, answer(query, self, self.history.chathistory_max))

    # -- the hub's Registry -----------------------------------------------------

    def keep(self, change: Change) -> None:
        table, folded, row = change
        kept: dict[str, Any] = self._accounts if table == "accounts" else self._rooms
        if row is None:
            kept.pop(folded, None)
        else:
            kept[folded] = row

    def load_registry(self) -> Registered:
        return ([account_from_row(row) for row in self._accounts.values()],
                [room_from_row(row) for row in self._rooms.values()])

    # -- the scans `answer` is built from ----------------------------------------

    def resolve(self, target: str, msgid: str) -> Key | None:
        found = self._targets.get(target)
        return None if found is None else found.msgids.get(msgid)

    def scan(self, target: str, after: Key, before: Key, newest_first: bool, limit: int,
             kinds: frozenset[str]) -> list[Entry]:
        found = self._targets.get(target)
        if found is None:
            return []
        low = bisect.bisect_right(found.keys, after)
        high = bisect.bisect_left(found.keys, before)
        indices = range(high - 1, low - 1, -1) if newest_first else range(low, high)
        picked = (found.entries[i] for i in indices if found.entries[i].kind in kinds)
        return list(itertools.islice(picked, limit))

    def latest(self, target: str, after_ms: int, before_ms: int,
               kinds: frozenset[str]) -> int | None:
        newest = self.scan(target, (after_ms, MAX_SEQ), (before_ms, 0), True, 1, kinds)
        return to_ms(newest[0].time) if newest else None

    def conversations(self, party: str) -> list[str]:
        return [key for key in self._targets if party in (dm_parties(key) or ())]

    # -- admin ------------------------------------------------------------------

    def export(self, target: str) -> Iterator[Entry]:
        found = self._targets.get(target)
        return iter(list(found.entries) if found is not None else [])

    def _remove(self, gone: Callable[[Entry], bool]) -> int:
        removed = 0
        for key, target in list(self._targets.items()):
            removed += target.keep(lambda _k, e: not gone(e))
            if not target.keys:
                del self._targets[key]
        self.recent_lines.forget(lambda e: not gone(e))
        return removed

    def purge(self, *, target: str | None = None, nick: str | None = None,
              before: float | None = None) -> int:
        return self._remove(purge_matcher(target, nick, before))

    def prune(self, now: float) -> int:
        removed = 0
        if self.history.max_age:
            cutoff = to_ms(now - self.history.max_age * 86400)
            for key, target in list(self._targets.items()):
                old = bisect.bisect_left(target.keys, (cutoff, 0))
                target.drop_oldest(old)
                removed += old
                if not target.keys:
                    del self._targets[key]
            self.recent_lines.trim_before(cutoff)
        if self.history.max_per_target:
            cap = self.history.max_per_target
            for target in self._targets.values():
                excess = len(target.keys) - cap
                if excess > 0:
                    target.drop_oldest(excess)
                    removed += excess
        return removed
