"""State stores: everything moverwatch remembers between runs, in Redis (shared) or SQLite (one file).

``base`` is the contract both backends pass (tests/contract/test_state.py runs the same suite on each).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moverwatch.errors import StateStoreError
from moverwatch.state.base import EventUpdate, StateStore

if TYPE_CHECKING:
    from moverwatch.state.redis import RedisStore
    from moverwatch.state.sqlite import SQLiteStore

log = logging.getLogger(__name__)

__all__ = ["EventUpdate", "RedisStore", "SQLiteStore", "StateStore", "open_store", "store_was_wiped"]


def __getattr__(name: str) -> Any:
    # The backends load on use: redis-py costs ~0.4 s of start-up that a SQLite run need not pay.
    if name == "RedisStore":
        from moverwatch.state.redis import RedisStore

        return RedisStore
    if name == "SQLiteStore":
        from moverwatch.state.sqlite import SQLiteStore

        return SQLiteStore
    raise AttributeError(name)


def open_store(url: str, prefix: str = "mw:") -> StateStore:
    """Open the store named by a state URL (``redis://…`` or ``sqlite:///path``) and check it answers."""
    store: StateStore
    if url.startswith("sqlite:///"):
        from moverwatch.state.sqlite import SQLiteStore

        store = SQLiteStore(url.removeprefix("sqlite:///"))
    elif url.startswith(("redis://", "rediss://", "unix://")):
        from moverwatch.state.redis import RedisStore

        store = RedisStore(url, prefix)
    else:
        raise StateStoreError(
            f"unknown state URL scheme in {url.split(':', 1)[0]!r}: use redis:// or sqlite:///"
        )
    store.ping()
    return store


def store_was_wiped(store: StateStore, memory: Path) -> bool:
    """True when a Redis store this machine used before (per ``memory``, a small JSON file) has lost its
    generation: it was wiped (a restart without persistence). Records the store's generation either way.

    A SQLite file that is gone was removed on purpose, and a store never seen here is a first run: neither
    counts as wiped.
    """
    key = store.memory_key()
    if key is None:
        return False
    try:
        known: dict[str, str] = json.loads(memory.read_text(encoding="utf-8")) if memory.exists() else {}
    except (OSError, ValueError):
        known = {}
    current = store.generation()
    wiped = key in known and known[key] != current
    if known.get(key) != current:
        known[key] = current
        try:
            memory.parent.mkdir(parents=True, exist_ok=True)
            memory.write_text(json.dumps(known, indent=1, sort_keys=True), encoding="utf-8")
        except OSError as exc:
            log.warning(
                "cannot remember the state store generation in %s (%s): a wiped store goes unnoticed",
                memory,
                exc,
            )
    return wiped
