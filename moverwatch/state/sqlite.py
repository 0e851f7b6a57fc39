"""SQLite state store: one file on one machine, the embedded default; the same semantics as Redis.

Atomic read-compare-write through ``BEGIN IMMEDIATE`` transactions; the outbox hands a delivery to one
worker at a time through a lease column.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from moverwatch.dedup import EventRecord
from moverwatch.errors import StateStoreError
from moverwatch.models import (
    Alert,
    DeadLetter,
    Delivery,
    FeedHealth,
    Message,
    message_from_dict,
    message_to_dict,
)
from moverwatch.state.base import EventUpdate, StateStore, ts

_T = TypeVar("_T")

# The columns each table must have: a file from another program or an older schema is refused at open.
_COLUMNS = {
    "items": {"key", "expires_at"},
    "events": {"key", "data", "expires_at"},
    "outbox": {"id", "channel", "alert", "status", "attempts", "next_at", "lease_until", "worker", "last_error",
               "created_at", "done_at"},
    "feeds": {"name", "data"},
    "counters": {"key", "value", "expires_at"},
    "meta": {"key", "value"},
}  # fmt: skip


def _guarded(fn: Callable[..., _T]) -> Callable[..., _T]:
    """Any SQLite failure inside a store operation (a corrupted page, disk full at COMMIT, a locked file)
    becomes a StateStoreError naming the file and the reason, never a raw traceback."""

    @functools.wraps(fn)
    def wrapper(self: SQLiteStore, *args: Any, **kwargs: Any) -> _T:
        try:
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise StateStoreError(
                f"SQLite state file {self.path}: {fn.__name__} failed: {exc} "
                "(run `moverwatch doctor` to check the file)"
            ) from None

    return wrapper


def _guard_all(cls: type[_T]) -> type[_T]:
    for name, value in list(vars(cls).items()):
        if callable(value) and not name.startswith("__"):
            setattr(cls, name, _guarded(value))
    return cls


@_guard_all
class SQLiteStore(StateStore):
    """A single-file store for one machine; several processes may share it (WAL, immediate locks)."""

    _SCHEMA = """
    CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS events (key TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        alert TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',      -- pending | sent | dead
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        lease_until REAL,
        worker TEXT,
        last_error TEXT,
        created_at REAL NOT NULL,
        done_at REAL
    );
    CREATE TABLE IF NOT EXISTS feeds (name TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(self._SCHEMA)
            missing = self._schema_problems()
            if not missing:
                self._db.execute("CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_at)")
        except (sqlite3.Error, OSError) as exc:
            raise StateStoreError(f"cannot open SQLite state file {self.path}: {exc}") from None
        if missing:
            self._db.close()
            raise StateStoreError(
                f"SQLite state file {self.path} is not a moverwatch state file: {missing[0]} "
                "(point `state:` at another file, or move this one away)"
            )

    def _schema_problems(self) -> list[str]:
        problems = []
        for table, wanted in _COLUMNS.items():
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if not wanted <= have:
                problems.append(f"table {table} lacks column(s) {', '.join(sorted(wanted - have))}")
        return problems

    def check(self) -> list[str]:
        """Problems found by SQLite's integrity check and the schema check (empty when the file is sound)."""
        rows = [r[0] for r in self._db.execute("PRAGMA integrity_check")]
        return [r for r in rows if r != "ok"] + self._schema_problems()

    def ping(self) -> None:
        try:
            self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StateStoreError(f"SQLite state file {self.path} is unusable: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def where(self) -> str:
        return f"SQLite state file {self.path}"

    def generation(self) -> str:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', ?)", (uuid.uuid4().hex,))
            return str(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    def requeue_dead(self, now: datetime) -> int:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_at = ?, created_at = ?, lease_until = NULL,"
                " worker = NULL, done_at = NULL WHERE status = 'dead'",
                (ts(now), ts(now)),
            )
            return cur.rowcount

    def _tx(self) -> _SQLiteTx:
        return _SQLiteTx(self._db, self.path)

    def seen(self, keys: Sequence[str], ttl: timedelta, now: datetime) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            q = f"SELECT key FROM items WHERE expires_at > ? AND key IN ({','.join('?' * len(chunk))})"
            found.update(r[0] for r in self._db.execute(q, [ts(now), *chunk]))
        return found

    def mark_seen(self, keys: Iterable[str], ttl: timedelta, now: datetime) -> None:
        exp = ts(now + ttl)
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO items(key, expires_at) VALUES (?, ?)", [(k, exp) for k in keys]
            )
            db.execute("DELETE FROM items WHERE expires_at <= ?", (ts(now),))
            # Sent deliveries are history once their items are forgotten too; dead ones stay until read.
            db.execute("DELETE FROM outbox WHERE status = 'sent' AND done_at <= ?", (ts(now - ttl),))
            db.execute("DELETE FROM events WHERE expires_at <= ?", (ts(now),))

    def claim_event(self, key: str, update: EventUpdate, now: datetime) -> list[tuple[Alert, str]]:
        with self._tx() as db:
            row = db.execute("SELECT data FROM events WHERE key = ?", (key,)).fetchone()
            current = EventRecord.from_dict(json.loads(row[0])) if row else None
            record, deliveries = update(current)
            db.execute(
                "INSERT OR REPLACE INTO events(key, data, expires_at) VALUES (?, ?, ?)",
                (key, json.dumps(record.to_dict()), ts(record.expires_at)),
            )
            db.executemany(
                "INSERT INTO outbox(channel, alert, next_at, created_at) VALUES (?, ?, ?, ?)",
                [(ch, json.dumps(message_to_dict(a)), ts(now), ts(now)) for a, ch in deliveries],
            )
        return deliveries

    def get_event(self, key: str) -> EventRecord | None:
        row = self._db.execute("SELECT data FROM events WHERE key = ?", (key,)).fetchone()
        return EventRecord.from_dict(json.loads(row[0])) if row else None

    def enqueue(self, deliveries: Sequence[tuple[Message, str]], now: datetime) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT INTO outbox(channel, alert, next_at, created_at) VALUES (?, ?, ?, ?)",
                [(ch, json.dumps(message_to_dict(m)), ts(now), ts(now)) for m, ch in deliveries],
            )

    def take_deliveries(
        self, now: datetime, limit: int, worker: str, claim_timeout: timedelta
    ) -> list[Delivery]:
        t = ts(now)
        with self._tx() as db:
            rows = db.execute(
                "UPDATE outbox SET lease_until = ?, worker = ? WHERE id IN ("
                " SELECT id FROM outbox WHERE status = 'pending' AND next_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?)"
                " RETURNING id, channel, alert, attempts, last_error, created_at",
                (t + claim_timeout.total_seconds(), worker, t, t, limit),
            ).fetchall()
        rows.sort(key=lambda r: r[0])
        return [
            Delivery(
                str(r[0]),
                r[1],
                message_from_dict(json.loads(r[2])),
                r[3],
                worker,
                r[4] or "",
                datetime.fromtimestamp(r[5], UTC),
            )
            for r in rows
        ]

    def renew(self, delivery: Delivery, now: datetime, claim_timeout: timedelta) -> bool:
        return self._held_update(delivery, "lease_until = ?", (ts(now + claim_timeout),))

    def ack(self, delivery: Delivery, now: datetime) -> bool:
        return self._held_update(delivery, "status = 'sent', done_at = ?, lease_until = NULL", (ts(now),))

    def retry_later(self, delivery: Delivery, at: datetime, error: str, *, count: bool = True) -> bool:
        return self._held_update(
            delivery,
            "attempts = attempts + ?, next_at = ?, lease_until = NULL, last_error = ?",
            (int(count), ts(at), error),
        )

    def bury(self, delivery: Delivery, error: str, now: datetime) -> bool:
        return self._held_update(
            delivery,
            "status = 'dead', attempts = attempts + 1, last_error = ?, done_at = ?, lease_until = NULL",
            (error, ts(now)),
        )

    def _held_update(self, delivery: Delivery, assignments: str, values: tuple[object, ...]) -> bool:
        """Update a pending delivery only while `delivery.worker` still holds it."""
        with self._tx() as db:
            cur = db.execute(
                f"UPDATE outbox SET {assignments} WHERE id = ? AND worker = ? AND status = 'pending'",
                (*values, int(delivery.id), delivery.worker),
            )
            return cur.rowcount == 1

    def dead_letters(self) -> list[DeadLetter]:
        rows = self._db.execute(
            "SELECT id, channel, alert, attempts, last_error, done_at FROM outbox WHERE status = 'dead' ORDER BY id"
        ).fetchall()
        return [
            DeadLetter(
                id=str(r[0]),
                channel=r[1],
                message=message_from_dict(json.loads(r[2])),
                attempts=r[3],
                error=r[4] or "",
                dead_at=datetime.fromtimestamp(r[5], UTC) if r[5] else None,
            )
            for r in rows
        ]

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0])

    def load_feeds(self, names: Sequence[str]) -> dict[str, FeedHealth]:
        wanted = set(names)
        return {
            name: FeedHealth.from_dict(json.loads(data))
            for name, data in self._db.execute("SELECT name, data FROM feeds")
            if name in wanted
        }

    def save_feeds(self, health: Sequence[FeedHealth]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO feeds(name, data) VALUES (?, ?)",
                [(h.name, json.dumps(h.to_dict())) for h in health],
            )

    def incr_window(self, key: str, window_s: int, now: datetime) -> int:
        bucket = int(ts(now)) // window_s
        k = f"{key}:{bucket}"
        with self._tx() as db:
            db.execute("DELETE FROM counters WHERE expires_at <= ?", (ts(now),))
            db.execute(
                "INSERT INTO counters(key, value, expires_at) VALUES (?, 1, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = value + 1",
                (k, (bucket + 2) * window_s),
            )
            return int(db.execute("SELECT value FROM counters WHERE key = ?", (k,)).fetchone()[0])


class _SQLiteTx:
    """BEGIN IMMEDIATE … COMMIT: takes the write lock up front so read-compare-write is atomic."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StateStoreError(f"SQLite state file {self._path}: {exc}") from None
        return self._db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        elif self._db.in_transaction:  # SQLite may have rolled back already (disk full): keep the first error
            self._db.execute("ROLLBACK")
