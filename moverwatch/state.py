"""The state store: seen items, events, the delivery outbox, feed health — Redis or SQLite.

Both backends give the same semantics and pass the same contract suite (tests/test_state.py):
- `claim_event` reads an event record, lets a pure function decide, and writes the record together
  with the outbox entries it produced, atomically (Redis: WATCH/MULTI; SQLite: BEGIN IMMEDIATE).
- The outbox hands each due delivery to one worker at a time (Redis: a stream with a consumer group;
  SQLite: a lease column) and a delivery held longer than `claim_timeout` by a worker that died is
  taken over by the next one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

from moverwatch.dedup import EventRecord
from moverwatch.errors import StateStoreError
from moverwatch.models import Alert
from moverwatch.outbox import Delivery, alert_from_dict, alert_to_dict

log = logging.getLogger(__name__)

# An update function receives the current event record (or None) and returns the record to store and
# the (alert, channel) deliveries to enqueue with it.
EventUpdate = Callable[[EventRecord | None], tuple[EventRecord, list[tuple[Alert, str]]]]


class StateStore(ABC):
    """Everything moverwatch remembers between runs."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StateStoreError when the store cannot be used."""

    @abstractmethod
    def close(self) -> None: ...

    # -- items -------------------------------------------------------------------------------------
    @abstractmethod
    def seen(self, keys: Sequence[str], ttl: timedelta, now: datetime) -> set[str]:
        """The subset of `keys` marked seen within `ttl` before `now` (the TTL given to mark_seen)."""

    @abstractmethod
    def mark_seen(self, keys: Iterable[str], ttl: timedelta, now: datetime) -> None:
        """Mark item keys as seen for `ttl`."""

    # -- events and outbox -------------------------------------------------------------------------
    @abstractmethod
    def claim_event(self, key: str, update: EventUpdate, now: datetime) -> list[tuple[Alert, str]]:
        """Apply `update` to the event atomically; returns the deliveries it enqueued."""

    @abstractmethod
    def get_event(self, key: str) -> EventRecord | None: ...

    @abstractmethod
    def take_deliveries(
        self, now: datetime, limit: int, worker: str, claim_timeout: timedelta
    ) -> list[Delivery]:
        """Hand out due deliveries to `worker`; each is held until acked, retried or buried."""

    @abstractmethod
    def ack(self, delivery: Delivery, now: datetime) -> None:
        """The channel accepted the delivery: never send it again."""

    @abstractmethod
    def retry_later(self, delivery: Delivery, at: datetime, error: str, *, count: bool = True) -> None:
        """Make the delivery due again at `at`: after a failed send (`count`: one more attempt), or held back
        without trying (flood control: `count=False`)."""

    @abstractmethod
    def bury(self, delivery: Delivery, error: str, now: datetime) -> None:
        """Give up after too many attempts: park it as dead (reported, never silently dropped)."""

    @abstractmethod
    def dead_letters(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    def pending_count(self) -> int:
        """Deliveries waiting (due now or later)."""

    # -- feeds -------------------------------------------------------------------------------------
    @abstractmethod
    def load_feeds(self, names: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    @abstractmethod
    def save_feeds(self, health: dict[str, dict[str, Any]]) -> None: ...

    # -- counters (flood control) ------------------------------------------------------------------
    @abstractmethod
    def incr_window(self, key: str, window_s: int, now: datetime) -> int:
        """Increment a counter for the current fixed window of `window_s` seconds and return it."""


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _delivery_payload(alert: Alert, channel: str, attempts: int, errors: list[str] | None = None) -> str:
    return json.dumps(
        {"alert": alert_to_dict(alert), "channel": channel, "attempts": attempts, "errors": errors or []},
        sort_keys=True,
    )


# ==================================================================================================
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
    CREATE INDEX IF NOT EXISTS outbox_due ON outbox(status, next_at);
    CREATE TABLE IF NOT EXISTS feeds (name TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL);
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(self._SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StateStoreError(f"cannot open SQLite state file {self.path}: {exc}") from None

    def ping(self) -> None:
        try:
            self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StateStoreError(f"SQLite state file {self.path} is unusable: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def _tx(self) -> _SQLiteTx:
        return _SQLiteTx(self._db, self.path)

    def seen(self, keys: Sequence[str], ttl: timedelta, now: datetime) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            q = f"SELECT key FROM items WHERE expires_at > ? AND key IN ({','.join('?' * len(chunk))})"
            found.update(r[0] for r in self._db.execute(q, [_ts(now), *chunk]))
        return found

    def mark_seen(self, keys: Iterable[str], ttl: timedelta, now: datetime) -> None:
        exp = _ts(now + ttl)
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO items(key, expires_at) VALUES (?, ?)", [(k, exp) for k in keys]
            )
            db.execute("DELETE FROM items WHERE expires_at <= ?", (_ts(now),))
            # Sent deliveries are history once their items are forgotten too; dead ones stay until read.
            db.execute("DELETE FROM outbox WHERE status = 'sent' AND done_at <= ?", (_ts(now - ttl),))
            db.execute("DELETE FROM events WHERE expires_at <= ?", (_ts(now),))

    def claim_event(self, key: str, update: EventUpdate, now: datetime) -> list[tuple[Alert, str]]:
        with self._tx() as db:
            row = db.execute("SELECT data FROM events WHERE key = ?", (key,)).fetchone()
            current = EventRecord.from_dict(json.loads(row[0])) if row else None
            record, deliveries = update(current)
            db.execute(
                "INSERT OR REPLACE INTO events(key, data, expires_at) VALUES (?, ?, ?)",
                (key, json.dumps(record.to_dict()), _ts(record.expires_at)),
            )
            db.executemany(
                "INSERT INTO outbox(channel, alert, next_at, created_at) VALUES (?, ?, ?, ?)",
                [(ch, json.dumps(alert_to_dict(a)), _ts(now), _ts(now)) for a, ch in deliveries],
            )
        return deliveries

    def get_event(self, key: str) -> EventRecord | None:
        row = self._db.execute("SELECT data FROM events WHERE key = ?", (key,)).fetchone()
        return EventRecord.from_dict(json.loads(row[0])) if row else None

    def take_deliveries(
        self, now: datetime, limit: int, worker: str, claim_timeout: timedelta
    ) -> list[Delivery]:
        t = _ts(now)
        with self._tx() as db:
            rows = db.execute(
                "UPDATE outbox SET lease_until = ?, worker = ? WHERE id IN ("
                " SELECT id FROM outbox WHERE status = 'pending' AND next_at <= ?"
                " AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?)"
                " RETURNING id, channel, alert, attempts",
                (t + claim_timeout.total_seconds(), worker, t, t, limit),
            ).fetchall()
        rows.sort(key=lambda r: r[0])
        return [Delivery(str(r[0]), r[1], alert_from_dict(json.loads(r[2])), r[3]) for r in rows]

    def ack(self, delivery: Delivery, now: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET status = 'sent', done_at = ?, lease_until = NULL WHERE id = ?",
                (_ts(now), int(delivery.id)),
            )

    def retry_later(self, delivery: Delivery, at: datetime, error: str, *, count: bool = True) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + ?, next_at = ?, lease_until = NULL, last_error = ?"
                " WHERE id = ?",
                (int(count), _ts(at), error, int(delivery.id)),
            )

    def bury(self, delivery: Delivery, error: str, now: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ?, done_at = ?,"
                " lease_until = NULL WHERE id = ?",
                (error, _ts(now), int(delivery.id)),
            )

    def dead_letters(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, channel, alert, attempts, last_error, done_at FROM outbox WHERE status = 'dead' ORDER BY id"
        ).fetchall()
        return [
            {
                "id": str(r[0]),
                "channel": r[1],
                "alert": json.loads(r[2]),
                "attempts": r[3],
                "error": r[4],
                "dead_at": datetime.fromtimestamp(r[5], UTC).isoformat() if r[5] else None,
            }
            for r in rows
        ]

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0])

    def load_feeds(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, data in self._db.execute("SELECT name, data FROM feeds"):
            if name in names:
                out[name] = json.loads(data)
        return out

    def save_feeds(self, health: dict[str, dict[str, Any]]) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT OR REPLACE INTO feeds(name, data) VALUES (?, ?)",
                [(n, json.dumps(d)) for n, d in health.items()],
            )

    def incr_window(self, key: str, window_s: int, now: datetime) -> int:
        bucket = int(_ts(now)) // window_s
        k = f"{key}:{bucket}"
        with self._tx() as db:
            db.execute("DELETE FROM counters WHERE expires_at <= ?", (_ts(now),))
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
        else:
            self._db.execute("ROLLBACK")


# ==================================================================================================
# Moves due retries from the retry set into the ready stream; one script so a crash cannot lose one.
_PROMOTE_LUA = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('XADD', KEYS[2], '*', 'd', m)
end
return #due
"""


class RedisStore(StateStore):
    """The shared production store. Keys live under one prefix (default ``mw:``)."""

    GROUP = "deliver"

    def __init__(self, url: str, prefix: str = "mw:") -> None:
        self.url = url
        self.prefix = prefix
        try:
            self._r = redis.Redis.from_url(
                url, decode_responses=True, socket_timeout=10, socket_connect_timeout=5
            )
        except ValueError as exc:
            raise StateStoreError(f"invalid Redis URL: {exc}") from None
        self._stream = prefix + "outbox"
        self._retry = prefix + "outbox:retry"
        self._dead = prefix + "outbox:dead"
        self._promote = self._r.register_script(_PROMOTE_LUA)
        self._group_ready = False

    def _where(self) -> str:
        # The URL may carry a password: show only host/port/db.
        kw = self._r.connection_pool.connection_kwargs
        return f"Redis at {kw.get('host', kw.get('path', '?'))}:{kw.get('port', '')}/{kw.get('db', 0)}"

    def _fail(self, what: str, exc: Exception) -> StateStoreError:
        return StateStoreError(f"{self._where()} {what}: {exc.__class__.__name__}: {exc}")

    def ping(self) -> None:
        try:
            self._r.ping()
            self._ensure_group()
        except redis.RedisError as exc:
            raise self._fail("is unreachable (is redis-server running?)", exc) from None

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            self._r.xgroup_create(self._stream, self.GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def close(self) -> None:
        self._r.close()

    # Seen items live in sets, one per time bucket of half the item TTL: SMISMEMBER / SADD answer a
    # thousand keys per command, where one key per item took a command each (1.4 s for a cold 1,000-feed
    # cycle). A member is remembered for at least the TTL and at most 1.5x it.
    def _buckets(self, ttl: timedelta, now: datetime) -> tuple[int, list[str]]:
        size = max(1, int(ttl.total_seconds()) // 2)
        current = int(_ts(now)) // size
        # A bucket ends `size` after it starts and is kept `ttl` (= 2 x size) more: three can be alive.
        return size, [f"{self.prefix}seen:{size}:{b}" for b in range(current, current - 3, -1)]

    def seen(self, keys: Sequence[str], ttl: timedelta, now: datetime) -> set[str]:
        if not keys:
            return set()
        hashed = [_member(k) for k in keys]
        try:
            _size, buckets = self._buckets(ttl, now)
            found: set[str] = set()
            for i in range(0, len(keys), 1000):
                chunk = hashed[i : i + 1000]
                pipe = self._r.pipeline(transaction=False)
                for b in buckets:
                    pipe.smismember(b, chunk)
                for flags in pipe.execute():
                    found.update(keys[i + j] for j, f in enumerate(flags) if f)
            return found
        except redis.RedisError as exc:
            raise self._fail("failed reading seen items", exc) from None

    def mark_seen(self, keys: Iterable[str], ttl: timedelta, now: datetime) -> None:
        size, buckets = self._buckets(ttl, now)
        hashed = [_member(k) for k in keys]
        if not hashed:
            return
        current = buckets[0]
        bucket_end = (int(_ts(now)) // size + 1) * size
        try:
            pipe = self._r.pipeline(transaction=False)
            for i in range(0, len(hashed), 1000):
                pipe.sadd(current, *hashed[i : i + 1000])
            # Relative to `now` (the caller's clock); Redis counts it down on its own.
            pipe.expire(current, max(1, bucket_end - int(_ts(now)) + int(ttl.total_seconds())))
            pipe.execute()
        except redis.RedisError as exc:
            raise self._fail("failed marking items seen", exc) from None

    def claim_event(self, key: str, update: EventUpdate, now: datetime) -> list[tuple[Alert, str]]:
        rkey = self.prefix + "event:" + key
        result: list[tuple[Alert, str]] = []

        def txn(pipe: Any) -> None:
            nonlocal result
            raw = pipe.get(rkey)
            current = EventRecord.from_dict(json.loads(raw)) if raw else None
            record, deliveries = update(current)
            ttl_ms = max(1, int((record.expires_at - now).total_seconds() * 1000))
            pipe.multi()
            pipe.set(rkey, json.dumps(record.to_dict()), px=ttl_ms)
            for alert, channel in deliveries:
                pipe.xadd(self._stream, {"d": _delivery_payload(alert, channel, 0)})
            result = deliveries

        try:
            self._ensure_group()
            self._r.transaction(txn, rkey)
        except redis.RedisError as exc:
            raise self._fail(f"failed claiming event {key}", exc) from None
        return result

    def get_event(self, key: str) -> EventRecord | None:
        try:
            raw = self._r.get(self.prefix + "event:" + key)
        except redis.RedisError as exc:
            raise self._fail("failed reading an event", exc) from None
        return EventRecord.from_dict(json.loads(raw)) if raw else None

    def take_deliveries(
        self, now: datetime, limit: int, worker: str, claim_timeout: timedelta
    ) -> list[Delivery]:
        try:
            self._ensure_group()
            self._promote(keys=[self._retry, self._stream], args=[_ts(now), 1000])
            entries: list[tuple[str, dict[str, str]]] = []
            claimed: Any
            # Entries a dead worker read but never acknowledged.
            claimed = self._r.xautoclaim(
                self._stream,
                self.GROUP,
                worker,
                int(claim_timeout.total_seconds() * 1000),
                "0-0",
                count=limit,
            )
            # XAUTOCLAIM answers [next-id, [(id, fields)...], [deleted ids]]; deleted entries have no fields.
            entries.extend((e[0], e[1]) for e in claimed[1] if e and e[1])
            if len(entries) < limit:
                resp: Any = self._r.xreadgroup(
                    self.GROUP, worker, {self._stream: ">"}, count=limit - len(entries)
                )
                for _stream, items in resp or []:
                    entries.extend(items)
        except redis.RedisError as exc:
            raise self._fail("failed reading the outbox", exc) from None
        out = []
        for entry_id, fields in entries:
            p = json.loads(fields["d"])
            out.append(Delivery(entry_id, p["channel"], alert_from_dict(p["alert"]), p["attempts"]))
        return out

    def _finish(self, delivery: Delivery, extra: Callable[[Any], None]) -> None:
        try:
            pipe = self._r.pipeline(transaction=True)
            pipe.xack(self._stream, self.GROUP, delivery.id)
            pipe.xdel(self._stream, delivery.id)
            extra(pipe)
            pipe.execute()
        except redis.RedisError as exc:
            raise self._fail("failed updating the outbox", exc) from None

    def ack(self, delivery: Delivery, now: datetime) -> None:
        self._finish(delivery, lambda pipe: pipe.incr(self.prefix + "outbox:sent"))

    def retry_later(self, delivery: Delivery, at: datetime, error: str, *, count: bool = True) -> None:
        # The error text and a nonce keep members unique even if the same payload fails twice.
        member = _delivery_payload(
            delivery.alert, delivery.channel, delivery.attempts + int(count), [error, uuid.uuid4().hex]
        )
        self._finish(delivery, lambda pipe: pipe.zadd(self._retry, {member: _ts(at)}))

    def bury(self, delivery: Delivery, error: str, now: datetime) -> None:
        rec = {
            "id": delivery.id,
            "channel": delivery.channel,
            "alert": alert_to_dict(delivery.alert),
            "attempts": delivery.attempts + 1,
            "error": error,
            "dead_at": now.isoformat(),
        }
        self._finish(delivery, lambda pipe: pipe.rpush(self._dead, json.dumps(rec)))

    def dead_letters(self) -> list[dict[str, Any]]:
        try:
            return [json.loads(x) for x in self._r.lrange(self._dead, 0, -1)]
        except redis.RedisError as exc:
            raise self._fail("failed reading dead letters", exc) from None

    def pending_count(self) -> int:
        try:
            self._ensure_group()
            return int(self._r.xlen(self._stream)) + int(self._r.zcard(self._retry))
        except redis.RedisError as exc:
            raise self._fail("failed counting the outbox", exc) from None

    def load_feeds(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not names:
            return {}
        try:
            raw = self._r.hmget(self.prefix + "feeds", list(names))
        except redis.RedisError as exc:
            raise self._fail("failed reading feed health", exc) from None
        return {n: json.loads(v) for n, v in zip(names, raw, strict=True) if v}

    def save_feeds(self, health: dict[str, dict[str, Any]]) -> None:
        if not health:
            return
        try:
            self._r.hset(self.prefix + "feeds", mapping={n: json.dumps(d) for n, d in health.items()})
        except redis.RedisError as exc:
            raise self._fail("failed saving feed health", exc) from None

    def incr_window(self, key: str, window_s: int, now: datetime) -> int:
        bucket = int(_ts(now)) // window_s
        k = f"{self.prefix}count:{key}:{bucket}"
        try:
            pipe = self._r.pipeline(transaction=True)
            pipe.incr(k)
            pipe.expire(k, window_s * 2)
            return int(pipe.execute()[0])
        except redis.RedisError as exc:
            raise self._fail("failed counting sends", exc) from None


def _member(key: str) -> str:
    # Fixed-size members whatever the URL length.
    return hashlib.sha1(key.encode()).hexdigest()


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
