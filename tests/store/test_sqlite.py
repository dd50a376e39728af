"""The SQLite store as a file: migrations, refusals, durability, read-your-writes,
warm recent lines, and what it does while writes fail."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest
from store.storehelpers import MakeStore, ask, entry, store_config

from chat_server.hub.history import Entry, Query, Ref, RefKind, Sub
from chat_server.store import SqliteStore, StoreError
from chat_server.store.migrations import MIGRATIONS

T0 = 1_700_000_000.0
STAR = Ref(RefKind.NONE)


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "roomchat.db"


def test_a_new_database_is_made_in_wal_mode_at_the_current_version(
    make_store: MakeStore, tmp_path: Path,
) -> None:
    make_store("sqlite")
    conn = sqlite3.connect(db_path(tmp_path))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_an_older_database_is_upgraded_and_keeps_its_entries(tmp_path: Path) -> None:
    config = store_config(tmp_path)
    old = SqliteStore(config.store, config.history)
    old.open()
    old.record(entry(1, T0))
    old.close()
    later = [*MIGRATIONS, "CREATE INDEX entries_by_kind ON entries (kind)"]
    new = SqliteStore(config.store, config.history, migrations=later)
    new.open()
    conn = sqlite3.connect(db_path(tmp_path))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(later)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'entries_by_kind'"
                        ).fetchone() is not None
    conn.close()
    assert [e.msgid for e in new.export("#room")] == ["m1"]


def test_a_newer_database_is_refused_with_its_path_and_versions(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    config = store_config(tmp_path)
    with pytest.raises(StoreError) as refused:
        SqliteStore(config.store, config.history).open()
    message = str(refused.value)
    assert str(path) in message and "99" in message and "newer" in message
    assert "\n" not in message


def test_a_corrupt_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = db_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database, just some text\n" * 100)
    config = store_config(tmp_path)
    with pytest.raises(StoreError) as refused:
        SqliteStore(config.store, config.history).open()
    assert str(path) in str(refused.value) and "not a usable SQLite database" in str(refused.value)
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was


def test_a_data_dir_that_cannot_be_made_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    config = store_config(tmp_path, store_data_dir=str(tmp_path / "file" / "sub"))
    with pytest.raises(StoreError) as refused:
        SqliteStore(config.store, config.history).open()
    assert str(tmp_path / "file" / "sub") in str(refused.value)
    assert "cannot create" in str(refused.value)


async def test_close_commits_everything_recorded(tmp_path: Path) -> None:
    # Commits would come only after 10 s or 100000 rows: close() must not wait for either.
    config = store_config(tmp_path, store_commit_interval=10.0, store_commit_rows=100000)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.start(asyncio.get_running_loop())
    for n in range(1, 2001):
        store.record(entry(n, T0 + n))
    await asyncio.wait_for(asyncio.to_thread(store.close), 5)
    again = SqliteStore(config.store, config.history)
    again.open()
    assert [e.msgid for e in again.export("#room")] == [f"m{n}" for n in range(1, 2001)]


async def test_a_query_sees_everything_recorded_before_it(tmp_path: Path) -> None:
    config = store_config(tmp_path, store_commit_interval=10.0, store_commit_rows=100000)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.start(asyncio.get_running_loop())
    try:
        for n in range(1, 301):
            store.record(entry(n, T0 + n))
        answer = await ask(store, Query(Sub.LATEST, "#room", STAR, 1000), timeout=3)
        assert len(answer) == 300
        store.record(entry(301, T0 + 301))
        answer = await ask(store, Query(Sub.LATEST, "#room", STAR, 1), timeout=3)
        assert [e.msgid for e in answer] == ["m301"]
    finally:
        await asyncio.to_thread(store.close)


async def test_recent_lines_are_warm_after_a_restart(tmp_path: Path) -> None:
    config = store_config(tmp_path, history_memory_per_target=5, history_memory_targets=2)
    store = SqliteStore(config.store, config.history)
    store.open()
    for n in range(1, 21):
        store.record(entry(n, T0 + n, target="#old" if n < 5 else "#lobby"))
    store.record(entry(21, T0 + 21, target="#b", kind="JOIN"))
    store.record(entry(22, T0 + 22, target="#lobby", kind="JOIN"))  # not a line to replay
    store.close()
    again = SqliteStore(config.store, config.history)
    again.open()  # no start, no query: from memory
    assert [e.msgid for e in again.recent("#lobby", 10)] == ["m16", "m17", "m18", "m19", "m20"]
    assert [e.msgid for e in again.recent("#lobby", 2)] == ["m19", "m20"]
    assert again.recent("#b", 10) == []  # messages only, by default
    assert again.recent("#old", 10) == []  # only the two most recently active are cached


async def test_failing_writes_keep_entries_queued_and_recover(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    config = store_config(tmp_path, store_busy_timeout=0.05)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.start(asyncio.get_running_loop())
    # Another process holding the write lock: every write of the store fails meanwhile.
    blocker = sqlite3.connect(db_path(tmp_path), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.INFO, logger="chat_server.store"):
            for n in range(1, 11):
                store.record(entry(n, T0 + n))
            for _ in range(200):
                if not store.healthy:
                    break
                await asyncio.sleep(0.02)
            assert not store.healthy
            assert "locked" in store.last_error
            assert store.queue_depth == 10
            assert any("cannot write 10 entries" in r.getMessage() for r in caplog.records)
            store.record(entry(11, T0 + 11))  # chat goes on
            blocker.execute("COMMIT")
            for _ in range(300):
                if store.healthy and store.queue_depth == 0:
                    break
                await asyncio.sleep(0.02)
            assert store.healthy and store.queue_depth == 0
            assert any("writing to" in r.getMessage() and "again" in r.getMessage()
                       for r in caplog.records)
    finally:
        if blocker.in_transaction:
            blocker.execute("COMMIT")
        blocker.close()
        await asyncio.to_thread(store.close)
    assert [e.msgid for e in store.export("#room")] == [f"m{n}" for n in range(1, 12)]


async def test_retention_runs_in_the_writer_by_itself(tmp_path: Path) -> None:
    config = store_config(tmp_path, history_max_per_target=3, store_prune_interval=0.05)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.start(asyncio.get_running_loop())
    try:
        for n in range(1, 11):
            store.record(entry(n, T0 + n))
        for _ in range(300):
            if len(list(store.export("#room"))) == 3:
                break
            await asyncio.sleep(0.02)
        assert [e.msgid for e in store.export("#room")] == ["m8", "m9", "m10"]
    finally:
        await asyncio.to_thread(store.close)


@pytest.mark.parametrize("params", [
    (), ("",), ("#room", ""), ("#room", "hello: world", "third"), ("#room", "a\nb"), ("[x",),
])
async def test_parameters_come_back_exactly(tmp_path: Path, params: tuple[str, ...]) -> None:
    config = store_config(tmp_path)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.record(Entry("#room", "m1", T0, "PRIVMSG", "al!u@h", params))
    store.close()
    assert [e.params for e in store.export("#room")] == [params]


async def test_while_writes_fail_the_queue_is_bounded_and_the_loss_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    config = store_config(tmp_path, store_busy_timeout=0.05, store_queue_max=5)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.start(asyncio.get_running_loop())
    blocker = sqlite3.connect(db_path(tmp_path), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.INFO, logger="chat_server.store"):
            for n in range(1, 11):
                store.record(entry(n, T0 + n))
            for _ in range(400):
                if any("dropped the 5 oldest" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
            blocker.execute("COMMIT")
            for _ in range(400):
                if any("5 lost" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.02)
            assert any("dropped the 5 oldest" in r.getMessage() for r in caplog.records)
            assert any("5 entries written, 5 lost" in r.getMessage() for r in caplog.records)
    finally:
        if blocker.in_transaction:
            blocker.execute("COMMIT")
        blocker.close()
        await asyncio.to_thread(store.close)
    assert [e.msgid for e in store.export("#room")] == [f"m{n}" for n in range(6, 11)]
