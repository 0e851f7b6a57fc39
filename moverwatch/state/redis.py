"""Redis state store: what several workers share in production.

Atomic claims with WATCH/MULTI, the outbox as a stream with a consumer group (XREADGROUP / XACK /
XAUTOCLAIM) plus a retry sorted set, seen items in time-bucketed sets; every key under one prefix.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import redis

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
from moverwatch.state.base import EventUpdate, StateStore, delivery_payload, ts

# Moves due retries from the retry set into the ready stream; one script so a crash cannot lose one.
_PROMOTE_LUA = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('XADD', KEYS[2], '*', 'd', m)
end
return #due
"""


# Ends (or renews) a delivery only while the given consumer still holds it: a worker whose delivery was taken
# over cannot ack, re-queue or bury it (fencing). One script, so the check and the change are atomic.
_HELD_LUA = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
local mode = ARGV[4]
if mode == 'renew' then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
  return 1
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if mode == 'sent' then redis.call('INCR', KEYS[2])
elseif mode == 'retry' then redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
elseif mode == 'dead' then redis.call('RPUSH', KEYS[2], ARGV[5]) end
return 1
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
        self._held = self._r.register_script(_HELD_LUA)
        self._group_ready = False

    def memory_key(self) -> str | None:
        return f"{self.where()}/{self.prefix}"

    def where(self) -> str:
        # The URL may carry a password: show only host/port/db.
        kw = self._r.connection_pool.connection_kwargs
        return f"Redis at {kw.get('host', kw.get('path', '?'))}:{kw.get('port', '')}/{kw.get('db', 0)}"

    def _fail(self, what: str, exc: Exception) -> StateStoreError:
        return StateStoreError(f"{self.where()} {what}: {exc.__class__.__name__}: {exc}")

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

    def check(self) -> list[str]:
        try:
            self.ping()
            info: Any = self._r.info("persistence")
            save: Any = self._r.config_get("save")
        except redis.ResponseError:  # CONFIG may be disabled on a managed Redis: persistence unknown
            return []
        except redis.RedisError as exc:
            return [str(self._fail("is unreachable", exc))]
        if not int(info.get("aof_enabled", 0)) and not (save or {}).get("save"):
            return [
                f"{self.where()} keeps nothing on disk (no AOF, no RDB snapshots): a restart loses what was seen "
                "and sent (moverwatch then re-seeds; see on_state_loss). Enable appendonly (deploy/redis.conf)."
            ]
        return []

    def generation(self) -> str:
        key = self.prefix + "meta:generation"
        try:
            self._r.set(key, uuid.uuid4().hex, nx=True)
            return str(self._r.get(key))
        except redis.RedisError as exc:
            raise self._fail("failed reading the store generation", exc) from None

    def requeue_dead(self, now: datetime) -> int:
        # Read, re-add and trim in one transaction: a letter is neither lost nor requeued twice.
        count = 0

        def txn(pipe: Any) -> None:
            nonlocal count
            letters = pipe.lrange(self._dead, 0, -1)
            pipe.multi()
            for raw in letters:
                d = json.loads(raw)
                pipe.xadd(
                    self._stream, {"d": delivery_payload(message_from_dict(d["alert"]), d["channel"], 0, now)}
                )
            pipe.delete(self._dead)
            count = len(letters)

        try:
            self._ensure_group()
            self._r.transaction(txn, self._dead)
            return count
        except redis.RedisError as exc:
            raise self._fail("failed requeueing dead letters", exc) from None

    # Seen items live in sets, one per time bucket of half the item TTL: SMISMEMBER / SADD answer a
    # thousand keys per command, where one key per item took a command each (1.4 s for a cold 1,000-feed
    # cycle). A member is remembered for at least the TTL and at most 1.5x it.
    def _buckets(self, ttl: timedelta, now: datetime) -> tuple[int, list[str]]:
        size = max(1, int(ttl.total_seconds()) // 2)
        current = int(ts(now)) // size
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
        bucket_end = (int(ts(now)) // size + 1) * size
        try:
            pipe = self._r.pipeline(transaction=False)
            for i in range(0, len(hashed), 1000):
                pipe.sadd(current, *hashed[i : i + 1000])
            # Relative to `now` (the caller's clock); Redis counts it down on its own.
            pipe.expire(current, max(1, bucket_end - int(ts(now)) + int(ttl.total_seconds())))
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
                pipe.xadd(self._stream, {"d": delivery_payload(alert, channel, 0, now)})
            result = deliveries

        try:
            self._ensure_group()
            self._r.transaction(txn, rkey)
        except redis.RedisError as exc:
            raise self._fail(f"failed claiming event {key}", exc) from None
        return result

    def enqueue(self, deliveries: Sequence[tuple[Message, str]], now: datetime) -> None:
        if not deliveries:
            return
        try:
            self._ensure_group()
            pipe = self._r.pipeline(transaction=True)
            for message, channel in deliveries:
                pipe.xadd(self._stream, {"d": delivery_payload(message, channel, 0, now)})
            pipe.execute()
        except redis.RedisError as exc:
            raise self._fail("failed enqueueing notices", exc) from None

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
            self._promote(keys=[self._retry, self._stream], args=[ts(now), 1000])
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
            last_error = (p.get("errors") or [""])[0]
            queued = datetime.fromisoformat(p["queued_at"]) if p.get("queued_at") else None
            message = message_from_dict(p["alert"])
            out.append(Delivery(entry_id, p["channel"], message, p["attempts"], worker, last_error, queued))
        return out

    def _if_held(self, delivery: Delivery, mode: str, target: str = "", *args: str | float) -> bool:
        try:
            done = self._held(
                keys=[self._stream, target or self._stream],
                args=[self.GROUP, delivery.id, delivery.worker, mode, *args],
            )
        except redis.RedisError as exc:
            raise self._fail("failed updating the outbox", exc) from None
        return bool(done)

    def renew(self, delivery: Delivery, now: datetime, claim_timeout: timedelta) -> bool:
        # XCLAIM by the holder resets the entry's idle time, which is what XAUTOCLAIM measures.
        return self._if_held(delivery, "renew")

    def ack(self, delivery: Delivery, now: datetime) -> bool:
        return self._if_held(delivery, "sent", self.prefix + "outbox:sent")

    def retry_later(self, delivery: Delivery, at: datetime, error: str, *, count: bool = True) -> bool:
        # The error text and a nonce keep members unique even if the same payload fails twice.
        member = delivery_payload(
            delivery.message,
            delivery.channel,
            delivery.attempts + int(count),
            delivery.queued_at or at,
            [error, uuid.uuid4().hex],
        )
        return self._if_held(delivery, "retry", self._retry, ts(at), member)

    def bury(self, delivery: Delivery, error: str, now: datetime) -> bool:
        rec = {
            "id": delivery.id,
            "channel": delivery.channel,
            "alert": message_to_dict(delivery.message),
            "attempts": delivery.attempts + 1,
            "error": error,
            "dead_at": now.isoformat(),
        }
        return self._if_held(delivery, "dead", self._dead, json.dumps(rec))

    def dead_letters(self) -> list[DeadLetter]:
        try:
            raw = self._r.lrange(self._dead, 0, -1)
        except redis.RedisError as exc:
            raise self._fail("failed reading dead letters", exc) from None
        out = []
        for x in raw:
            d = json.loads(x)
            out.append(
                DeadLetter(
                    id=d["id"],
                    channel=d["channel"],
                    message=message_from_dict(d["alert"]),
                    attempts=d["attempts"],
                    error=d["error"],
                    dead_at=datetime.fromisoformat(d["dead_at"]) if d.get("dead_at") else None,
                )
            )
        return out

    def pending_count(self) -> int:
        try:
            self._ensure_group()
            return int(self._r.xlen(self._stream)) + int(self._r.zcard(self._retry))
        except redis.RedisError as exc:
            raise self._fail("failed counting the outbox", exc) from None

    def load_feeds(self, names: Sequence[str]) -> dict[str, FeedHealth]:
        if not names:
            return {}
        try:
            raw = self._r.hmget(self.prefix + "feeds", list(names))
        except redis.RedisError as exc:
            raise self._fail("failed reading feed health", exc) from None
        return {n: FeedHealth.from_dict(json.loads(v)) for n, v in zip(names, raw, strict=True) if v}

    def save_feeds(self, health: Sequence[FeedHealth]) -> None:
        if not health:
            return
        try:
            self._r.hset(self.prefix + "feeds", mapping={h.name: json.dumps(h.to_dict()) for h in health})
        except redis.RedisError as exc:
            raise self._fail("failed saving feed health", exc) from None

    def incr_window(self, key: str, window_s: int, now: datetime) -> int:
        bucket = int(ts(now)) // window_s
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
