"""Accounts and registered rooms in the store: what is saved comes back after a restart
exactly as it was, a dropped account keeps only its name, the same fact written twice
leaves one row, the writer commits them by itself within the commit interval, and a
database of the previous schema is upgraded with its history kept."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from store.storehelpers import BACKENDS, MakeStore, entry, new_store, store_config
from support.servers import make_config

from chat_server.app import ChatServer
from chat_server.hub.accounts import Account, RoomRecord
from chat_server.hub.facts import AccountDropped, AccountRegistered
from chat_server.store import NullStore, SqliteStore, Store, StoreError
from chat_server.store.migrations import MIGRATIONS

T0 = 1_700_000_000.0
# Stand-ins of the shapes the hub writes: an argon2id hash and SCRAM credentials.
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
SCRAM = "4096$c2FsdA==$c3RvcmVk$c2VydmVy"


def account(name: str = "Alice", **changes: object) -> Account:
    values: dict[str, object] = {"password_hash": HASH, "scram": SCRAM, "certfps": (),
                                 "registered": T0 + 0.25}
    values.update(changes)
    return Account(name, **values)  # type: ignore[arg-type]


def room() -> RoomRecord:
    return RoomRecord(
        "#Lobby", "Alice", T0 + 1.5, topic="welcome — ünïcode", topic_setter="alice!a@h",
        topic_time=T0 + 2.125, flags="ntsk", key="sesame", limit=42,
        bans=(("*!*@bad.example", "alice", T0 + 3.0),),
        excepts=(("*!*@good.example", "alice", T0 + 4.0),),
        invexes=(("*!*@friend.example", "bob", T0 + 5.0),),
        access={"bob": "o", "carol": "v"})


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "roomchat.db"


def reopened(backend: str, tmp_path: Path, store: Store) -> Store:
    """The store as the next server start finds it: the memory one is the same object
    (it lasts as long as the process), the SQLite one a fresh store on the same file."""
    if backend == "memory":
        return store
    again = new_store(backend, store_config(tmp_path))
    again.open()
    return again


@pytest.mark.parametrize("backend", BACKENDS)
async def test_saved_accounts_and_rooms_come_back_as_they_were(
    backend: str, make_store: MakeStore, tmp_path: Path,
) -> None:
    # No commit for 10 s: close must write what is pending, as a clean stop does.
    store = make_store(backend, store_commit_interval=10.0)
    store.start(asyncio.get_running_loop())
    certified = account("Bob", certfps=("ab12", "cd34"))
    store.save_account(account())
    store.save_account(certified)
    store.save_room(room())
    await asyncio.to_thread(store.close)
    accounts, rooms = await asyncio.to_thread(reopened(backend, tmp_path, store).load_registry)
    assert sorted(accounts, key=lambda a: a.name) == [account(), certified]
    assert rooms == [room()]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_later_save_replaces_and_a_drop_forgets(
    backend: str, make_store: MakeStore, tmp_path: Path,
) -> None:
    store = make_store(backend)
    store.start(asyncio.get_running_loop())
    store.save_account(account())
    store.save_account(account("Bob"))
    store.save_account(account("ALICE", password_hash=HASH + "new"))  # the same, folded
    store.save_room(room())
    store.drop_account("bob")
    store.drop_room("#lobby")
    store.drop_room("#never")  # nothing to drop: harmless
    await asyncio.to_thread(store.close)
    accounts, rooms = await asyncio.to_thread(reopened(backend, tmp_path, store).load_registry)
    # A dropped account keeps its name and nothing else, so it is not registered again.
    kept = {a.folded: a for a in accounts}
    assert kept.keys() == {"alice", "bob"}
    assert kept["alice"] == account("ALICE", password_hash=HASH + "new")
    assert kept["bob"].dropped and (kept["bob"].scram, kept["bob"].certfps) == ("", ())
    assert rooms == []


@pytest.mark.parametrize("backend", BACKENDS)
async def test_what_the_hub_changes_after_a_save_is_not_what_was_saved(
    backend: str, make_store: MakeStore, tmp_path: Path,
) -> None:
    # The hub changes its Account and RoomRecord in place on the loop; the store must
    # keep the value of the save (the writer thread reads it later).
    store = make_store(backend)
    store.start(asyncio.get_running_loop())
    kept, record = account(), room()
    store.save_account(kept)
    store.save_room(record)
    kept.password_hash = "changed"
    record.access["mallory"] = "o"
    record.topic = "changed"
    await asyncio.to_thread(store.close)
    accounts, rooms = await asyncio.to_thread(reopened(backend, tmp_path, store).load_registry)
    assert accounts == [account()]
    assert rooms == [room()]


async def test_the_same_fact_written_again_leaves_one_row(
    make_store: MakeStore, tmp_path: Path,
) -> None:
    # A cluster log applied again after a restart, or several nodes writing what they
    # all applied: upserts on the folded name.
    for _ in range(2):
        store = make_store("sqlite")
        store.start(asyncio.get_running_loop())
        store.save_account(account())
        store.save_room(room())
        await asyncio.to_thread(store.close)
    conn = sqlite3.connect(db_path(tmp_path))
    try:
        assert conn.execute("SELECT folded, name FROM accounts").fetchall() == [
            ("alice", "Alice")]
        assert conn.execute("SELECT folded, founder FROM rooms").fetchall() == [
            ("#lobby", "Alice")]
    finally:
        conn.close()


async def test_the_writer_commits_account_changes_within_the_commit_interval(
    tmp_path: Path,
) -> None:
    # Not only at close: a kill -9 after the interval must not lose the account.
    config = store_config(tmp_path, store_commit_interval=0.05)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.start(asyncio.get_running_loop())
    conn = sqlite3.connect(db_path(tmp_path))
    try:
        saved = time.monotonic()
        store.save_account(account())
        store.save_room(room())
        rows: list[tuple[str, str]] = []
        while time.monotonic() < saved + 5 and len(rows) < 2:
            rows = conn.execute("SELECT 'account', folded FROM accounts UNION ALL "
                                "SELECT 'room', folded FROM rooms").fetchall()
            await asyncio.sleep(0.01)  # polling another connection: no event to wait on
        assert sorted(rows) == [("account", "alice"), ("room", "#lobby")]
        assert time.monotonic() - saved < 2
        store.drop_account("alice")
        hashes = "SELECT password_hash FROM accounts"
        while time.monotonic() < saved + 5 and conn.execute(hashes).fetchall() != [("",)]:
            await asyncio.sleep(0.01)
        assert conn.execute(hashes).fetchall() == [("",)]  # the name, dropped
    finally:
        conn.close()
        await asyncio.to_thread(store.close)


async def test_account_changes_wait_out_failing_writes_and_are_never_dropped(
    tmp_path: Path,
) -> None:
    # queue_max bounds history while writes fail; an account is one row per name, so
    # it is kept however long the failure lasts.
    config = store_config(tmp_path, store_busy_timeout=0.05, store_queue_max=1)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.start(asyncio.get_running_loop())
    blocker = sqlite3.connect(db_path(tmp_path), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        store.save_account(account())
        store.save_account(account("Bob"))
        store.record(entry(1, T0))
        for _ in range(300):
            if not store.healthy:
                break
            await asyncio.sleep(0.02)
        assert not store.healthy
        blocker.execute("COMMIT")
        for _ in range(300):
            if store.healthy:
                break
            await asyncio.sleep(0.02)
        assert store.healthy
    finally:
        if blocker.in_transaction:
            blocker.execute("COMMIT")
        blocker.close()
        await asyncio.to_thread(store.close)
    accounts, _ = SqliteStore(config.store, config.history).load_registry()
    assert sorted(a.name for a in accounts) == ["Alice", "Bob"]


async def test_close_before_start_writes_account_changes(tmp_path: Path) -> None:
    config = store_config(tmp_path)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.save_account(account())
    store.close()
    assert SqliteStore(config.store, config.history).load_registry()[0] == [account()]


def test_a_schema_3_database_is_upgraded_and_keeps_its_history(tmp_path: Path) -> None:
    config = store_config(tmp_path)
    old = SqliteStore(config.store, config.history, migrations=MIGRATIONS[:3])
    old.open()
    for n in range(1, 4):
        old.record(entry(n, T0 + n))
    old.close()
    conn = sqlite3.connect(db_path(tmp_path))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()

    new = SqliteStore(config.store, config.history)
    new.open()
    conn = sqlite3.connect(db_path(tmp_path))
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4 == len(MIGRATIONS)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(accounts)")}
    finally:
        conn.close()
    assert columns == {"folded", "name", "password_hash", "scram", "certfps", "registered"}
    assert [e.msgid for e in new.export("#room")] == ["m1", "m2", "m3"]
    assert new.load_registry() == ([], [])
    new.save_account(account())
    new.close()
    assert SqliteStore(config.store, config.history).load_registry() == ([account()], [])


def test_a_room_row_that_does_not_read_is_refused_with_the_path(tmp_path: Path) -> None:
    config = store_config(tmp_path)
    store = SqliteStore(config.store, config.history)
    store.open()
    store.save_room(room())
    store.close()
    conn = sqlite3.connect(db_path(tmp_path))
    conn.execute("UPDATE rooms SET access = 'not json'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError) as refused:
        SqliteStore(config.store, config.history).load_registry()
    assert str(db_path(tmp_path)) in str(refused.value)
    assert "#Lobby" in str(refused.value)


def test_the_none_backend_keeps_no_account(tmp_path: Path) -> None:
    config = store_config(tmp_path, store_backend="none")
    store = NullStore(config.store, config.history)
    store.open()
    store.save_account(account())
    store.save_room(room())
    assert store.load_registry() == ([], [])
    store.close()


async def test_a_server_writes_its_accounts_and_loads_them_at_start(tmp_path: Path) -> None:
    # The wiring: the store is the hub's registry, loaded before anyone connects; a
    # clean stop commits the account though the commit interval has not passed.
    config = make_config(store_backend="sqlite", store_data_dir=str(tmp_path / "data"),
                         store_commit_interval=10.0)
    first = ChatServer(config)
    await first.start()
    first.hub.apply(AccountRegistered("none:1", "Alice", HASH, SCRAM, "", T0))
    await first.stop()
    second = ChatServer(config)
    await second.start()
    try:
        assert list(second.hub.accounts) == ["alice"]
        assert second.hub.accounts["alice"].password_hash == HASH
    finally:
        await second.stop()


async def test_a_reading_worker_loads_the_accounts_and_writes_none(tmp_path: Path) -> None:
    # --workers: only the first worker writes the machine's store.
    config = make_config(store_backend="sqlite", store_data_dir=str(tmp_path / "data"))
    writer = SqliteStore(config.store, config.history)
    writer.open()
    writer.save_account(account())
    writer.close()
    reader = ChatServer(config, writes_history=False)
    await reader.start()
    reader.hub.apply(AccountRegistered("none:1", "Bob", HASH, SCRAM, "", T0))
    reader.hub.apply(AccountDropped("none:2", "Alice"))
    assert sorted(reader.hub.accounts) == ["bob"]
    await reader.stop()
    accounts, _ = SqliteStore(config.store, config.history).load_registry()
    assert accounts == [account()]


async def test_the_database_and_its_wal_are_not_open_to_other_users(
    make_store: MakeStore, tmp_path: Path,
) -> None:
    # They keep password hashes: made for the owner only, whatever the umask allows.
    old_umask = os.umask(0o022)
    try:
        store = make_store("sqlite")
        store.start(asyncio.get_running_loop())
        store.save_account(account())
        store.record(entry(1, T0))
        files = [db_path(tmp_path).with_name("roomchat.db" + end) for end in ("", "-wal", "-shm")]
        conn = sqlite3.connect(files[0])
        try:
            # The writer's connection keeps the WAL and its index while the store runs.
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not conn.execute(
                    "SELECT COUNT(*) FROM accounts").fetchone()[0]:
                await asyncio.sleep(0.01)
            assert [f.name for f in files if f.exists()] == [f.name for f in files]
            assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {
                f.name: 0o600 for f in files}
        finally:
            conn.close()
            await asyncio.to_thread(store.close)
    finally:
        os.umask(old_umask)


def test_an_older_database_open_to_everyone_is_made_private_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    config = store_config(tmp_path)
    old = SqliteStore(config.store, config.history, migrations=MIGRATIONS[:3])
    old.open()
    old.close()
    db_path(tmp_path).chmod(0o644)  # as schema 3 left it under a usual umask
    with caplog.at_level(logging.WARNING, logger="chat_server.store"):
        SqliteStore(config.store, config.history).open()
    assert stat.S_IMODE(db_path(tmp_path).stat().st_mode) == 0o640
    assert any(str(db_path(tmp_path)) in r.getMessage() and "password hashes" in r.getMessage()
               for r in caplog.records)
