"""History stores: the hub's History kept in memory or in SQLite, off the event loop.

`make_store` picks the backend from [store] backend ("none" keeps nothing). Must not
import the session or transport layers.
"""

from __future__ import annotations

from chat_server.config import Config
from chat_server.store.base import NullStore, Store, StoreError
from chat_server.store.memory import MemoryStore
from chat_server.store.sqlite import SqliteStore

__all__ = ["MemoryStore", "NullStore", "SqliteStore", "Store", "StoreError", "make_store"]


def make_store(config: Config) -> Store:
    """The configured store, not yet opened."""
    if config.store.backend == "memory":
        return MemoryStore(config.store, config.history)
    if config.store.backend == "none":
        return NullStore(config.store, config.history)
    return SqliteStore(config.store, config.history)
