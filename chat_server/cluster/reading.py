"""History for a worker that does not write the machine's store.

With --workers, one worker writes the SQLite file from the applied log; the others keep
their recent lines in memory from the same log and read the file (WAL lets readers in
other processes), so a query may miss at most the writer's last commit interval.
"""

from __future__ import annotations

from collections.abc import Callable

from chat_server.hub.history import MESSAGE_KINDS, Answer, Entry, Query
from chat_server.store.base import Store, normalised


class ReadingHistory:
    __slots__ = ("store",)

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, entry: Entry) -> None:
        self.store.recent_lines.add(normalised(entry))

    def recent(self, target: str, limit: int, kinds: frozenset[str] = MESSAGE_KINDS,
               ) -> list[Entry]:
        return self.store.recent(target, limit, kinds)

    def query(self, query: Query, done: Callable[[Answer], None]) -> None:
        self.store.query(query, done)
