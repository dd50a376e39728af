"""Fixtures of the store tests (the helpers live in store.storehelpers)."""

from store.storehelpers import make_store, store

__all__ = ["make_store", "store"]
