"""The SQLite store: one file, roomchat.db, in the data directory; the default backend.
History, accounts and registered rooms live in it side by side.

Owns the file, its schema version (PRAGMA user_version, moved forward by
store.migrations) and two threads, so no SQLite call ever runs on the event loop:

* the writer drains the queue `record` fills, in batched transactions (a commit every
  store.commit_interval seconds or store.commit_rows rows), applies retention every
  store.prune_interval seconds and runs admin jobs (purge). A failed write keeps its
  entries queued (within store.queue_max) and is retried; `healthy` says so meanwhile.
  Account and room writes (`keep`) ride in the same transactions, the last change of a
  name replacing earlier ones, so they are never dropped: there is at most one per name.
* the reader answers queries on its own connection. It first waits until the writer has
  committed every entry recorded before the query was asked (read-your-writes), waking
  the writer at once, and hands the answer to the loop with call_soon_threadsafe.

WAL with synchronous=NORMAL: a crash of the process loses nothing committed; a power
loss or kill -9 loses at most the last commit interval. [store] and [history] are read
where they are used, so a reload changing the batching, queue_max, prune_interval,
retention or chathistory_max takes effect; backend, data_dir, busy_timeout and the
memory_* sizes need a restart. Must not import the session or transport layers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

from chat_server.config import HistorySection, StoreSection
from chat_server.hub.history import MESSAGE_KINDS, Answer, Entry, Query, account_party, dm_parties
from chat_server.protocol.names import fold
from chat_server.store.base import (
    DB_NAME,
    HIGHEST,
    LOWEST,
    Change,
    Key,
    Registered,
    Store,
    StoreError,
    account_from_row,
    answer,
    data_dir,
    normalised,
    purge_matcher,
    room_from_row,
    to_ms,
)
from chat_server.store.migrations import MIGRATIONS

log = logging.getLogger("chat_server.store")

# While writes fail, the writer tries again this often rather than at every interval.
RETRY_SECONDS = 1.0
# A query waits at most this long for the writer before answering from what is there.
READ_WAIT_SECONDS = 5.0
# Retention deletes in slices so that the writer's own commits are never held up long.
PRUNE_SLICE = 10000

_COLUMNS = "target, msgid, time_ms, kind, source, params"
Row = tuple[str, str, int, str, str, str]

# The registry's tables and their columns, in the order of base.AccountRow and RoomRow.
REGISTRY_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ("folded", "name", "password_hash", "scram", "certfps", "registered"),
    "rooms": ("folded", "name", "founder", "registered", "topic", "topic_setter",
              "topic_time", "flags", "room_key", "user_limit", "bans", "excepts",
              "invexes", "access"),
}


def _upsert(table: str, columns: tuple[str, ...]) -> str:
    """An upsert on the folded name: the same fact written twice (a cluster log applied
    again, every node writing its own copy) leaves one row, the latest."""
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns[1:])
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            f"({', '.join('?' * len(columns))}) ON CONFLICT (folded) DO UPDATE SET {updates}")


_UPSERTS = {table: _upsert(table, columns) for table, columns in REGISTRY_COLUMNS.items()}
_DELETES = {table: f"DELETE FROM {table} WHERE folded = ?" for table in REGISTRY_COLUMNS}


def encode_params(params: tuple[str, ...]) -> str:
    """IRC parameters as one column: each after a LF, which no IRC parameter holds.

    Cheaper than JSON on the writer's hot path, and readable in the sqlite3 shell. A
    parameter that does hold a LF (no hub sends one) is kept as a JSON array instead.
    """
    encoded = "".join(["\n" + param for param in params])
    if encoded.count("\n") != len(params):
        return json.dumps(params, ensure_ascii=False)
    return encoded


def decode_params(text: str) -> tuple[str, ...]:
    if text.startswith("["):
        return tuple(json.loads(text))
    return tuple(text.split("\n")[1:])


def _entry(row: Row) -> Entry:
    target, msgid, time_ms, kind, source, params = row
    return Entry(target, msgid, time_ms / 1000, kind, source, decode_params(params))


@functools.lru_cache(maxsize=4096)
def _folded_nick(source: str) -> str:
    return fold(source.split("!", 1)[0])


def connect(path: Path, *, readonly: bool = False, busy_timeout: float = 5.0,
            ) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, NORMAL sync;
    `busy_timeout` seconds of waiting for another process's lock."""
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               isolation_level=None)
    else:
        conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {round(busy_timeout * 1000)}")
    if not readonly:
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def open_checked(path: Path, migrations: Sequence[str] = MIGRATIONS,
                 busy_timeout: float = 5.0) -> sqlite3.Connection:
    """Create the directory and file if missing, refuse what cannot be used, migrate.

    Raises StoreError with one line naming the path and the problem.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"history database {path}: cannot create {path.parent}: "
                         f"{exc.strerror or exc}") from None
    try:
        # Made by us, for the owner only: it keeps account password hashes. SQLite gives
        # its -wal and -shm files the database's permissions.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        conn = connect(path, busy_timeout=busy_timeout)
    except sqlite3.OperationalError as exc:
        raise StoreError(f"history database {path}: cannot open it: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"history database {path}: not a usable SQLite database "
                         f"({exc})") from None
    except OSError as exc:
        raise StoreError(f"history database {path}: cannot create it: "
                         f"{exc.strerror or exc}") from None
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(migrations):
            raise StoreError(
                f"history database {path}: schema version {version} is newer than this "
                f"roomchat knows ({len(migrations)}); run a newer roomchat or point "
                "[store] data_dir elsewhere")
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise StoreError(f"history database {path}: cannot switch it to WAL mode")
        for number in range(version, len(migrations)):
            try:
                # One transaction per step: a failed step leaves the previous version.
                conn.executescript(f"BEGIN IMMEDIATE; {migrations[number]};"
                                   f" PRAGMA user_version = {number + 1}; COMMIT;")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreError(f"history database {path}: cannot upgrade the schema "
                                 f"to version {number + 1}: {exc}") from None
            if number:
                log.info("history: upgraded %s to schema version %d", path, number + 1)
        private(path)
        return conn
    except StoreError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"history database {path}: not a usable SQLite database "
                         f"({exc})") from None


def private(path: Path) -> None:
    """Take away what other users may do with the database and its WAL: since schema 4
    it keeps account password hashes. The group keeps its access (a backup user)."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = file.stat().st_mode
            if mode & 0o007:
                file.chmod(mode & 0o770)
                log.warning("history: %s was open to every user on this machine; it keeps "
                            "account password hashes, so now only its owner and group may "
                            "read it", file)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("history: %s is open to every user on this machine and cannot be "
                        "made private (%s); it keeps account password hashes", file,
                        exc.strerror or exc)


class SqlScans:
    """The scans `base.answer` needs, as indexed SQL on one connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _kinds(kinds: frozenset[str]) -> tuple[str, list[str]]:
        ordered = sorted(kinds)
        return ",".join("?" * len(ordered)), ordered

    def resolve(self, target: str, msgid: str) -> Key | None:
        row = self.conn.execute(
            "SELECT time_ms, seq FROM entries WHERE msgid = ? AND target = ? "
            "ORDER BY seq LIMIT 1", (msgid, target)).fetchone()
        return None if row is None else (row[0], row[1])

    def scan(self, target: str, after: Key, before: Key, newest_first: bool, limit: int,
             kinds: frozenset[str]) -> list[Entry]:
        marks, kind_list = self._kinds(kinds)
        order = "DESC" if newest_first else "ASC"
        # The plain range on time_ms lets the index bound the scan; the OR settles seq.
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM entries WHERE target = ?"
            " AND time_ms >= ? AND (time_ms > ? OR seq > ?)"
            " AND time_ms <= ? AND (time_ms < ? OR seq < ?)"
            f" AND kind IN ({marks}) ORDER BY time_ms {order}, seq {order} LIMIT ?",
            (target, after[0], after[0], after[1], before[0], before[0], before[1],
             *kind_list, limit)).fetchall()
        return [_entry(row) for row in rows]

    def latest(self, target: str, after_ms: int, before_ms: int,
               kinds: frozenset[str]) -> int | None:
        marks, kind_list = self._kinds(kinds)
        row = self.conn.execute(
            "SELECT time_ms FROM entries WHERE target = ? AND time_ms > ? AND time_ms < ?"
            f" AND kind IN ({marks}) ORDER BY time_ms DESC, seq DESC LIMIT 1",
            (target, after_ms, before_ms, *kind_list)).fetchone()
        return None if row is None else int(row[0])

    def conversations(self, party: str) -> list[str]:
        return [key for (key,) in self.conn.execute(
            "SELECT target FROM conversations WHERE party = ?", (party,))]


def insert(conn: sqlite3.Connection, entries: Sequence[Entry],
           changes: Iterable[Change] = ()) -> None:
    """Write entries, in order, and registry changes in one transaction; note new
    private conversations."""
    conn.execute("BEGIN")
    try:
        for table, folded, row in changes:
            if row is None:
                conn.execute(_DELETES[table], (folded,))
            else:
                conn.execute(_UPSERTS[table], row)
        conn.executemany(
            "INSERT OR IGNORE INTO entries"
            " (target, time_ms, msgid, kind, source, nick, params)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(e.target, to_ms(e.time), e.msgid, e.kind, e.source, _folded_nick(e.source),
              encode_params(e.params)) for e in entries])
        private = {e.target: parties for e in entries if (parties := dm_parties(e.target))}
        if private:
            conn.executemany(
                "INSERT OR IGNORE INTO conversations (party, target) VALUES (?, ?)",
                [(party, key) for key, parties in private.items() for party in parties])
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def coalesced(changes: Iterable[Change]) -> dict[tuple[str, str], Change]:
    """The last change of each (table, name), which is all that needs writing."""
    return {change[:2]: change for change in changes}


def forget_empty_conversations(conn: sqlite3.Connection) -> None:
    """Conversations with no entry left are forgotten, under both parties."""
    conn.execute("DELETE FROM conversations WHERE NOT EXISTS "
                 "(SELECT 1 FROM entries WHERE entries.target = conversations.target)")


class SqliteStore(Store):
    """History in roomchat.db under the data directory, written and read off the loop."""

    def __init__(self, store: StoreSection, history: HistorySection, *,
                 path: Path | None = None, migrations: Sequence[str] = MIGRATIONS,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(store, history)
        self.db: Path = path if path is not None else data_dir(store) / DB_NAME
        self.path = self.db
        self._migrations = migrations
        self._clock = clock
        self._seq = 0  # entries recorded by this process, in order
        self._pending: deque[tuple[int, Entry]] = deque()  # filled on the loop
        self._changes: deque[Change] = deque()  # registry writes, filled on the loop
        self._wake = threading.Event()
        self._state = threading.Condition()  # guards the fields below
        self._committed = 0
        self._error = ""
        self._writer_done = False
        self._jobs: deque[tuple[Callable[[sqlite3.Connection], int], Future[int]]] = deque()
        self._reads: queue.SimpleQueue[tuple[Query, int, Callable[[Answer], None]] | None]
        self._reads = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._closed = False

    # -- lifecycle --------------------------------------------------------------

    def open(self) -> None:
        """Check and migrate the file, warm the recent lines; no connection is kept
        (threads open their own in `start`, after a daemon has forked)."""
        conn = open_checked(self.db, self._migrations, self.settings.busy_timeout)
        try:
            self._warm(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"history database {self.db}: cannot read it ({exc})") from None
        finally:
            conn.close()

    def _warm(self, conn: sqlite3.Connection) -> None:
        """The latest lines of the most recently active targets, so that replay on join
        after a restart needs no query. Reads at most memory_targets x per_target rows
        to find them."""
        cache = self.recent_lines
        if not cache.per_target or not cache.max_targets:
            return
        order: dict[str, None] = {}
        rows = conn.execute("SELECT target FROM entries ORDER BY seq DESC LIMIT ?",
                            (cache.max_targets * cache.per_target,))
        for (target,) in rows:
            order.setdefault(target)
            if len(order) == cache.max_targets:
                break
        scans = SqlScans(conn)
        # Least recent first, so that the most recent end up last to be evicted.
        for target in reversed(order):
            newest = scans.scan(target, LOWEST, HIGHEST, True, cache.per_target, MESSAGE_KINDS)
            cache.fill(target, newest[::-1])

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        super().start(loop)
        if self._threads:
            return
        for name, run in (("history-writer", self._write_loop),
                          ("history-reader", self._read_loop)):
            thread = threading.Thread(target=run, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Commit everything recorded, stop both threads. Blocks: call it off the loop."""
        if self._closed:
            return
        self._closed = True
        if not self._threads:
            if self._pending or self._changes:
                try:
                    conn = connect(self.db, busy_timeout=self.settings.busy_timeout)
                    try:
                        insert(conn, [entry for _, entry in self._pending],
                               coalesced(self._changes).values())
                    finally:
                        conn.close()
                except sqlite3.Error as exc:
                    log.error("history: %d entries and %d account or room changes could "
                              "not be written to %s and are lost: %s", len(self._pending),
                              len(self._changes), self.db, exc)
                self._pending.clear()
                self._changes.clear()
            return
        self._stopping = True
        self._wake.set()
        self._threads[0].join()
        self._reads.put(None)
        self._threads[1].join()

    # -- health -----------------------------------------------------------------

    @property
    def last_error(self) -> str:
        with self._state:
            return self._error

    @property
    def queue_depth(self) -> int:
        with self._state:
            return self._seq - self._committed

    # -- the hub's History ------------------------------------------------------

    def record(self, entry: Entry) -> None:
        entry = normalised(entry)
        self.recent_lines.add(entry)
        self._seq += 1
        self._pending.append((self._seq, entry))
        if len(self._pending) >= self.settings.commit_rows:
            self._wake.set()

    def query(self, query: Query, done: Callable[[Answer], None]) -> None:
        self._reads.put((query, self._seq, done))

    # -- the hub's Registry -----------------------------------------------------

    def keep(self, change: Change) -> None:
        # Committed by the writer within store.commit_interval, like an entry.
        self._changes.append(change)

    def load_registry(self) -> Registered:
        try:
            conn = connect(self.db, busy_timeout=self.settings.busy_timeout)
            conn.execute("PRAGMA query_only = ON")
        except sqlite3.Error as exc:
            raise StoreError(f"history database {self.db}: cannot open it: {exc}") from None
        try:
            columns = REGISTRY_COLUMNS
            accounts = [account_from_row(row) for row in conn.execute(
                f"SELECT {', '.join(columns['accounts'])} FROM accounts")]
            rooms = []
            for row in conn.execute(f"SELECT {', '.join(columns['rooms'])} FROM rooms"):
                try:
                    rooms.append(room_from_row(row))
                except (ValueError, TypeError) as exc:
                    raise StoreError(f"history database {self.db}: registered room "
                                     f"{row[1]!r} does not read: {exc}") from None
            return accounts, rooms
        except sqlite3.Error as exc:
            raise StoreError(f"history database {self.db}: cannot read accounts and "
                             f"rooms: {exc}") from None
        finally:
            conn.close()

    # -- the writer thread ------------------------------------------------------

    def _write_loop(self) -> None:
        conn: sqlite3.Connection | None = None
        held: deque[tuple[int, Entry]] = deque()
        changes: dict[tuple[str, str], Change] = {}  # kept while writes fail
        dirty: set[str] | None = None  # targets written since the last pass; None: all
        next_prune = time.monotonic() + self.settings.prune_interval
        failing_since: float | None = None
        written_while_failing = lost = 0
        while True:
            self._wake.wait(RETRY_SECONDS if failing_since else self.settings.commit_interval)
            self._wake.clear()
            stopping = self._stopping
            while self._pending:
                held.append(self._pending.popleft())
            while self._changes:
                change = self._changes.popleft()
                changes[change[:2]] = change
            # Bounded while writes fail; a burst while they succeed is written, not dropped.
            excess = len(held) - self.settings.queue_max if failing_since else 0
            if excess > 0:
                for _ in range(excess):
                    held.popleft()
                lost += excess
                log.error("history: dropped the %d oldest unwritten entries: more than "
                          "store.queue_max (%d) waiting while writes fail",
                          excess, self.settings.queue_max)
            try:
                if conn is None:
                    conn = connect(self.db, busy_timeout=self.settings.busy_timeout)
                while held or changes:
                    size = min(len(held), self.settings.commit_rows)
                    batch = [held.popleft() for _ in range(size)]
                    began = time.perf_counter()
                    try:
                        insert(conn, [entry for _, entry in batch], changes.values())
                    except sqlite3.Error:
                        held.extendleft(reversed(batch))
                        raise
                    changes.clear()
                    self.commit_times.observe(time.perf_counter() - began)
                    # Read each time: a reload may set [history] max_per_target.
                    if dirty is not None and self.history.max_per_target:
                        dirty.update(entry.target for _, entry in batch)
                    if failing_since is not None:
                        written_while_failing += len(batch)
                    if batch:
                        with self._state:
                            self._committed = batch[-1][0]
                            self._state.notify_all()
            except sqlite3.Error as exc:
                with self._state:
                    first = not self._error
                    self._error = str(exc)
                    self._state.notify_all()
                if first:
                    failing_since = time.monotonic()
                    log.error("history: cannot write %d entries to %s: %s; keeping them "
                              "queued (at most %d) and retrying every %.0f s", len(held),
                              self.db, exc, self.settings.queue_max, RETRY_SECONDS)
            else:
                if failing_since is not None:
                    log.warning("history: writing to %s again after %.1f s: %d entries "
                                "written, %d lost", self.db,
                                time.monotonic() - failing_since, written_while_failing, lost)
                    failing_since = None
                    written_while_failing = lost = 0
                    with self._state:
                        self._error = ""
            if conn is not None and failing_since is None:
                self._run_jobs(conn)
                if time.monotonic() >= next_prune:
                    self._prune_pass(conn, dirty)
                    dirty = set()
                    next_prune = time.monotonic() + self.settings.prune_interval
            if stopping and not self._pending and not self._changes:
                if held or changes:
                    log.error("history: %d entries and %d account or room changes could "
                              "not be written to %s and are lost", len(held), len(changes),
                              self.db)
                break
        if conn is not None:
            conn.close()
        with self._state:
            self._writer_done = True
            self._state.notify_all()
        for _, future in self._jobs:
            future.set_exception(StoreError("history: the store is closed"))

    def _run_jobs(self, conn: sqlite3.Connection) -> None:
        while self._jobs:
            job, future = self._jobs.popleft()
            try:
                future.set_result(job(conn))
            except sqlite3.Error as exc:
                future.set_exception(StoreError(f"history database {self.db}: {exc}"))

    def _prune_pass(self, conn: sqlite3.Connection, dirty: set[str] | None) -> None:
        try:
            removed = self._prune(conn, self._clock(), dirty)
        except sqlite3.Error as exc:
            log.error("history: retention pass on %s failed: %s", self.db, exc)
            return
        if removed:
            log.info("history: retention removed %d entries", removed)

    def _prune(self, conn: sqlite3.Connection, now: float, dirty: set[str] | None) -> int:
        """Delete what [history] max_age and max_per_target no longer keep."""
        removed = 0
        if self.history.max_age:
            cutoff = to_ms(now - self.history.max_age * 86400)
            while True:
                count = conn.execute(
                    "DELETE FROM entries WHERE seq IN (SELECT seq FROM entries "
                    "WHERE time_ms < ? LIMIT ?)", (cutoff, PRUNE_SLICE)).rowcount
                removed += count
                if count < PRUNE_SLICE:
                    break
            if removed:
                self._on_loop(self.recent_lines.trim_before, cutoff)
        cap = self.history.max_per_target
        if cap:
            targets = dirty if dirty is not None else [
                row[0] for row in conn.execute("SELECT DISTINCT target FROM entries")]
            for target in targets:
                (count,) = conn.execute("SELECT COUNT(*) FROM entries WHERE target = ?",
                                        (target,)).fetchone()
                if count > cap:
                    removed += conn.execute(
                        "DELETE FROM entries WHERE seq IN (SELECT seq FROM entries "
                        "WHERE target = ? ORDER BY time_ms, seq LIMIT ?)",
                        (target, count - cap)).rowcount
        if removed:
            forget_empty_conversations(conn)
        return removed

    def _on_loop(self, callback: Callable[..., object], *args: object) -> None:
        """Run `callback` on the event loop (answers and the recent lines live there)."""
        if self.loop is None:
            callback(*args)
            return
        # A closed loop raises RuntimeError: nobody is waiting for an answer any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(callback, *args)

    def _job(self, job: Callable[[sqlite3.Connection], int]) -> int:
        """Run `job` on the writer's connection, or on a fresh one when not started."""
        if not self._threads or self._closed:
            conn = open_checked(self.db, self._migrations, self.settings.busy_timeout)
            try:
                return job(conn)
            except sqlite3.Error as exc:
                raise StoreError(f"history database {self.db}: {exc}") from None
            finally:
                conn.close()
        future: Future[int] = Future()
        self._jobs.append((job, future))
        self._wake.set()
        return future.result()

    # -- the reader thread ------------------------------------------------------

    def _read_loop(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            item = self._reads.get()
            if item is None:
                break
            query, upto, done = item
            self._wait_for_writer(upto)
            result: Answer = []
            try:
                if conn is None:
                    conn = connect(self.db, busy_timeout=self.settings.busy_timeout)
                    conn.execute("PRAGMA query_only = ON")
                # One read transaction: the msgid and the rows it bounds agree.
                conn.execute("BEGIN")
                try:
                    result = answer(query, SqlScans(conn), self.history.chathistory_max)
                finally:
                    conn.execute("COMMIT")
            except sqlite3.Error as exc:
                log.error("history: a %s query on %s failed: %s", query.sub.value,
                          self.db, exc)
            self._on_loop(done, result)
        if conn is not None:
            conn.close()

    def _wait_for_writer(self, upto: int) -> None:
        """Read-your-writes: wait until entry `upto` is committed, hurrying the writer."""
        deadline = time.monotonic() + READ_WAIT_SECONDS
        with self._state:
            while self._committed < upto and not self._error and not self._writer_done:
                self._wake.set()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning("history: answering a query before the writer caught up")
                    return
                self._state.wait(remaining)

    # -- admin ------------------------------------------------------------------

    def export(self, target: str) -> Iterator[Entry]:
        conn = connect(self.db, readonly=True, busy_timeout=self.settings.busy_timeout)
        try:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE target = ? "
                                "ORDER BY time_ms, seq", (target,))
            while batch := rows.fetchmany(1000):
                yield from (_entry(row) for row in batch)
        finally:
            conn.close()

    def purge(self, *, target: str | None = None, nick: str | None = None,
              before: float | None = None) -> int:
        gone = purge_matcher(target, nick, before)

        def job(conn: sqlite3.Connection) -> int:
            where: list[str] = []
            args: list[object] = []
            if target is not None:
                where.append("target = ?")
                args.append(target)
            if nick is not None:
                scans = SqlScans(conn)
                conversations = (scans.conversations(nick)
                                 + scans.conversations(account_party(nick)))
                marks = ",".join("?" * len(conversations))
                where.append(f"(nick = ? OR target IN ({marks}))")
                args += [nick, *conversations]
            if before is not None:
                where.append("time_ms < ?")
                args.append(to_ms(before))
            conn.execute("BEGIN IMMEDIATE")
            try:
                removed = conn.execute(f"DELETE FROM entries WHERE {' AND '.join(where)}",
                                       args).rowcount
                forget_empty_conversations(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return int(removed)

        removed = self._job(job)
        self._on_loop(self.recent_lines.forget, lambda e: not gone(e))
        return removed

    def prune(self, now: float) -> int:
        return self._job(lambda conn: self._prune(conn, now, None))
