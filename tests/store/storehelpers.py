"""Stores for the store tests: each test runs against both backends where it says so,
the SQLite one over a real file in the test's temporary directory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chat_server.config import Config, apply
from chat_server.hub.history import Answer, Entry, Query
from chat_server.store import MemoryStore, SqliteStore, Store

BACKENDS = ["memory", "sqlite"]
MakeStore = Callable[..., Store]


def store_config(tmp_path: Path, **keys: Any) -> Config:
    """A config with data_dir in `tmp_path`; `store_<key>`/`history_<key>` set keys."""
    config = Config()
    values: dict[str, dict[str, Any]] = {"store": {"data_dir": str(tmp_path / "data")},
                                         "history": {}}
    for key, value in keys.items():
        section, _, name = key.partition("_")
        values[section][name] = value
    apply(config, values, "test")
    return config


def new_store(backend: str, config: Config) -> Store:
    if backend == "memory":
        return MemoryStore(config.store, config.history)
    return SqliteStore(config.store, config.history)


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator[MakeStore]:
    """make_store(backend, **keys): an opened store, closed at the end of the test."""
    made: list[Store] = []

    def make(backend: str, **keys: Any) -> Store:
        store = new_store(backend, store_config(tmp_path, **keys))
        store.open()
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, make_store: MakeStore) -> AsyncIterator[Store]:
    """An opened and started store of each backend."""
    found = make_store(request.param)
    found.start(asyncio.get_running_loop())
    yield found


async def ask(store: Store, query: Query, timeout: float = 10.0) -> Answer:
    """The answer to `query`, as the hub gets it: through the callback, on the loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Answer] = loop.create_future()

    def done(answer: Answer) -> None:
        assert asyncio.get_running_loop() is loop, "the answer must arrive on the loop"
        future.set_result(answer)

    store.query(query, done)
    return await asyncio.wait_for(future, timeout)


def entry(n: int, time: float, target: str = "#room", kind: str = "PRIVMSG",
          nick: str = "al") -> Entry:
    return Entry(target, f"m{n}", time, kind, f"{nick}!u@h", (target, f"line {n}"))
