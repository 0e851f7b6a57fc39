"""State stores: everything moverwatch remembers between runs, in Redis (shared) or SQLite (one file).

``base`` is the contract both backends pass (tests/test_state.py runs the same suite on each).
"""

from __future__ import annotations

from moverwatch.errors import StateStoreError
from moverwatch.state.base import EventUpdate, StateStore
from moverwatch.state.redis import RedisStore
from moverwatch.state.sqlite import SQLiteStore

__all__ = ["EventUpdate", "RedisStore", "SQLiteStore", "StateStore", "open_store"]


def open_store(url: str, prefix: str = "mw:") -> StateStore:
    """Open the store named by a state URL (``redis://…`` or ``sqlite:///path``) and check it answers."""
    store: StateStore
    if url.startswith("sqlite:///"):
        store = SQLiteStore(url.removeprefix("sqlite:///"))
    elif url.startswith(("redis://", "rediss://", "unix://")):
        store = RedisStore(url, prefix)
    else:
        raise StateStoreError(
            f"unknown state URL scheme in {url.split(':', 1)[0]!r}: use redis:// or sqlite:///"
        )
    store.ping()
    return store
