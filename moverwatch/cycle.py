"""One poll cycle as plain functions: plan → fetch → parse → detect → claim → deliver → record health.

Each stage is a function over plain data, so the Prefect flow (flows/poll.py) wraps them as tasks and
the CLI can run the same cycle without Prefect. This is the application layer: it is the one core
module that imports `scrapers` (news in); the stages it calls do not.
"""

from __future__ import annotations

import atexit
import functools
import logging
import multiprocessing
import os
import socket
import time
import uuid
import zlib
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from moverwatch.config import FeedConfig, Settings
from moverwatch.dedup import EventRecord, decide, event_key, item_keys
from moverwatch.deliver import DeliveryReport, deliver
from moverwatch.detect import Detector
from moverwatch.errors import BlockedFeedError, DeliveryError, TransientFeedError
from moverwatch.health import ErrorKind, FeedHealth, PollStatus, feed_alarm, new_health, next_health
from moverwatch.models import Alert, Move, NewsItem
from moverwatch.notify import Notifier
from moverwatch.state import StateStore
from moverwatch.watchlist import Watchlist
from scrapers.fetch import FeedRequest, FetchResult, FetchSettings, fetch_feeds_sync
from scrapers.parse import ParseResult, parse_feed
from scrapers.samples import fetch_sample, is_sample, shift_to_now

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def worker_id() -> str:
    """A name for this process in the outbox consumer group."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class FeedOutcome:
    """What happened to one feed in this cycle (one log line, one health-table row)."""

    name: str
    url: str
    status: str  # ok | not_modified | error | blocked | disabled | not_due
    http: int | None = None
    error: str | None = None
    items: int = 0
    new: int = 0
    alerts: int = 0
    ms: float = 0.0
    warnings: tuple[str, ...] = ()


@dataclass
class CycleReport:
    started: datetime
    feeds: list[FeedOutcome] = field(default_factory=list)
    enqueued: list[tuple[Alert, str]] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    pending: int = 0
    dead_total: int = 0
    seconds: float = 0.0


# -- plan and fetch -----------------------------------------------------------------------------------
def plan(
    settings: Settings, store: StateStore, now: datetime
) -> tuple[list[FeedConfig], dict[str, FeedHealth], list[FeedOutcome]]:
    """The feeds due now, their health records, and outcomes for the ones skipped."""
    stored = store.load_feeds([f.name for f in settings.feeds])
    health = {}
    for f in settings.feeds:
        h = FeedHealth.from_dict(stored[f.name]) if f.name in stored else None
        # A feed whose configured URL changed starts afresh: old validators, backoff and redirects are stale.
        health[f.name] = h if h is not None and h.config_url == f.url else new_health(f.name, f.url)
    due, skipped = [], []
    for f in settings.feeds:
        h = health[f.name]
        if h.disabled:
            skipped.append(FeedOutcome(f.name, f.url, "disabled", error=h.last_error))
        elif not h.is_due(now) and not is_sample(f.url):  # samples: the demo re-reads them every run
            skipped.append(FeedOutcome(f.name, f.url, "not_due"))
        else:
            due.append(f)
    return due, health, skipped


def fetch_and_parse(
    feeds: Sequence[FeedConfig],
    health: dict[str, FeedHealth],
    settings: Settings,
    now: datetime,
    on_done: Callable[[FetchResult], None] | None = None,
) -> tuple[list[FetchResult], list[ParseResult | None]]:
    """Fetch every due feed concurrently and parse each new body; bundled samples are read from the package.

    Parsing (feedparser, ~10-25 ms a feed) dominates a cold cycle, so on a big cycle bodies are parsed in a
    process pool while the rest are still downloading. The returned results no longer hold the bodies.
    """
    requests: list[FeedRequest] = []
    ready: list[FetchResult] = []
    for f in feeds:
        if is_sample(f.url):
            ready.append(fetch_sample(f.name, f.url))
            continue
        h = health[f.name]
        requests.append(
            FeedRequest(
                name=f.name,
                # A permanent redirect seen earlier replaced the URL we poll (the config keeps the original).
                url=h.url or f.url,
                etag=h.etag,
                last_modified=h.last_modified,
                body_hash=h.body_hash,
                user_agent=f.user_agent,
            )
        )
    parser = _Parser(now, now - settings.max_age, pooled=len(requests) >= settings.fetch.parse_pool_min)
    try:
        for r in ready:
            parser.submit(r)
            if on_done:
                on_done(r)

        def done(r: FetchResult) -> None:
            parser.submit(r)
            if on_done:
                on_done(r)

        if requests:
            fs = FetchSettings(
                timeout_s=settings.fetch.timeout.total_seconds(),
                max_bytes=settings.fetch.max_bytes,
                concurrency=settings.fetch.concurrency,
                per_host=settings.fetch.per_host,
                user_agent=settings.fetch.user_agent,
            )
            fetch_feeds_sync(requests, fs, on_done=done)
        return parser.results([f.name for f in feeds])
    finally:
        parser.close()


def _parse_one(name: str, url: str, body: bytes, now: datetime) -> ParseResult:
    return parse_feed(name, url, body, now, now=now)


def _parse_packed(name: str, url: str, packed: bytes, now: datetime) -> ParseResult:
    return parse_feed(name, url, zlib.decompress(packed), now, now=now)


class _Parser:
    """Parses bodies as they arrive: inline, or in a process pool on big cycles (feedparser holds the GIL)."""

    def __init__(self, now: datetime, oldest: datetime, pooled: bool) -> None:
        self._now = now
        self._oldest = oldest
        self._pool = _parse_pool() if pooled and (os.cpu_count() or 1) > 1 else None
        self._fetched: dict[str, FetchResult] = {}
        self._parsed: dict[str, ParseResult | Future[ParseResult] | None] = {}

    def submit(self, r: FetchResult) -> None:
        self._fetched[r.name] = replace(r, body=None)  # the body is only needed by the parser
        if r.body is None or r.error is not None:
            self._parsed[r.name] = None
        elif self._pool is not None:
            # Fetching outruns parsing, so bodies wait in the pool's queue: packed (zlib level 1, ~1 ms for
            # 200 KB, ~8x smaller) a cold 1,000-feed cycle queues ~25 MB instead of ~200 MB.
            self._parsed[r.name] = self._pool.submit(
                _parse_packed, r.name, r.final_url or r.url, zlib.compress(r.body, 1), self._now
            )
        else:
            self._parsed[r.name] = _parse_one(r.name, r.final_url or r.url, r.body, self._now)

    def results(self, names: Sequence[str]) -> tuple[list[FetchResult], list[ParseResult | None]]:
        parsed: list[ParseResult | None] = []
        for name in names:
            p = self._parsed[name]
            if isinstance(p, Future):
                p = self._collect(name, p)
            if p is not None:
                items = shift_to_now(p.items, self._now) if is_sample(self._fetched[name].url) else p.items
                # Items too old to alert on are only recorded as seen: their text need not stay in memory.
                items = [
                    i if _alertable(i, self._oldest, self._now) else replace(i, summary="") for i in items
                ]
                p = replace(p, items=tuple(items))
            parsed.append(p)
        return [self._fetched[n] for n in names], parsed

    def _collect(self, name: str, future: Future[ParseResult]) -> ParseResult:
        try:
            return future.result()
        except Exception as exc:  # a worker killed (OOM, signal) costs its feeds one poll, not the cycle
            global _POOL
            if isinstance(exc, BrokenProcessPool):
                _POOL = None  # the next cycle starts a fresh pool
            r = self._fetched[name]
            # An error keeps the feed's old validators, so the next poll fetches and parses the body again.
            err = TransientFeedError(
                name, r.url, f"parser process failed ({exc.__class__.__name__}); will retry"
            )
            return ParseResult(name, (), "", (), err, 0)

    def close(self) -> None:
        for p in self._parsed.values():
            if isinstance(p, Future):
                p.cancel()  # a cycle that failed half-way leaves no work queued for the next one


_POOL: ProcessPoolExecutor | None = None


def _parse_pool() -> ProcessPoolExecutor:
    """One pool per process, kept across cycles: starting workers (spawn) costs ~1 s, more than a steady cycle's
    parsing. Spawn, not fork: Prefect and httpx run threads that a forked child would inherit half-locked."""
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(
            max_workers=os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")
        )
        atexit.register(_POOL.shutdown, cancel_futures=True)
    return _POOL


# -- dedup by item --------------------------------------------------------------------------------------
def unseen(store: StateStore, items: Sequence[NewsItem], ttl: timedelta, now: datetime) -> list[NewsItem]:
    """Items not seen before (by guid or canonical URL), each once even if several feeds carry it."""
    keyed = [(i, item_keys(i)) for i in items]
    seen = store.seen([k for _i, ks in keyed for k in ks], ttl, now)
    fresh: list[NewsItem] = []
    batch: set[str] = set()
    for i, ks in keyed:
        if any(k in seen or k in batch for k in ks):
            continue
        batch.update(ks)
        fresh.append(i)
    return fresh


def recent(items: Sequence[NewsItem], settings: Settings, now: datetime) -> list[NewsItem]:
    """Items young enough to alert on: published within `max_age` (undated items count as published now).

    Older items are still recorded as seen, so a first run on a busy feed does not flood the channels.
    """
    oldest = now - settings.max_age
    return [i for i in items if _alertable(i, oldest, now)]


def _alertable(item: NewsItem, oldest: datetime, now: datetime) -> bool:
    # An undated item counts as published when first seen.
    return (item.published_at or now) >= oldest


# -- detect ---------------------------------------------------------------------------------------------
def detect(
    detector: Detector, items: Sequence[NewsItem], pool_min: int = 5000
) -> list[tuple[NewsItem, list[Move]]]:
    """Moves found in each item (items without a move are left out).

    A big batch (a cold cycle) is split over the parse pool's processes: the detector is pure Python.
    """
    texts = [(i.title, i.summary) for i in items]
    if len(items) >= pool_min and (os.cpu_count() or 1) > 1:
        pool = _parse_pool()
        spec = detector.watchlist.model_dump_json()
        # Small chunks, few in flight: pool.map would pickle every text at once (+40 MB at 50k items).
        in_flight = 2 * (os.cpu_count() or 1)
        futures: deque[Future[list[list[Move]]]] = deque()
        found: list[list[Move]] = []
        for k in range(0, len(texts), 500):
            if len(futures) >= in_flight:
                found.extend(futures.popleft().result())
            futures.append(pool.submit(_detect_chunk, spec, texts[k : k + 500]))
        while futures:
            found.extend(futures.popleft().result())
    else:
        found = [detector.detect(t, s) for t, s in texts]
    return [(i, moves) for i, moves in zip(items, found, strict=True) if moves]


@functools.lru_cache(maxsize=2)
def _worker_detector(spec: str) -> Detector:
    return Detector(Watchlist.model_validate_json(spec))


def _detect_chunk(spec: str, texts: list[tuple[str, str]]) -> list[list[Move]]:
    detector = _worker_detector(spec)
    return [detector.detect(t, s) for t, s in texts]


# -- claim ----------------------------------------------------------------------------------------------
def claim(
    store: StateStore,
    settings: Settings,
    notifier: Notifier,
    fresh: Sequence[NewsItem],
    detections: Sequence[tuple[NewsItem, list[Move]]],
    now: datetime,
) -> list[tuple[Alert, str]]:
    """Turn moves into events and enqueue their alerts atomically; then mark every fresh item seen.

    Reports of one event are applied in one atomic step per event key (oldest report first, so the first
    outlet to report a move is the one alerted), not one round trip per report.
    """
    tickers = settings.load_watchlist().by_symbol()
    by_key: dict[str, list[tuple[NewsItem, Move]]] = defaultdict(list)
    for item, moves in sorted(detections, key=lambda d: d[0].published_at or now):
        for move in moves:
            by_key[event_key(move)].append((item, move))
    enqueued: list[tuple[Alert, str]] = []
    for key, reports in by_key.items():
        t = tickers.get(reports[0][1].symbol)
        tags, name = (t.tags, t.names[0]) if t else ((), reports[0][1].symbol)

        def update(
            existing: EventRecord | None,
            reports: list[tuple[NewsItem, Move]] = reports,
            tags: tuple[str, ...] = tags,
            name: str = name,
        ) -> tuple[EventRecord, list[tuple[Alert, str]]]:
            out: list[tuple[Alert, str]] = []
            record = existing
            for item, move in reports:
                _decision, record, alert = decide(
                    record,
                    item,
                    move,
                    item.published_at or now,
                    now,
                    settings.dedup.window,
                    settings.dedup.escalate_points,
                    tags,
                    name,
                )
                if alert is not None:
                    out.extend((alert, ch) for ch in notifier.route(alert))
            assert record is not None
            return record, out

        enqueued.extend(store.claim_event(key, update, now))
    store.mark_seen([k for i in fresh for k in item_keys(i)], settings.dedup.item_ttl, now)
    return enqueued


# -- health ---------------------------------------------------------------------------------------------
def feed_alarms(
    notifier: Notifier, settings: Settings, health: dict[str, FeedHealth], now: datetime
) -> dict[str, FeedHealth]:
    """Send one "feed down" notice when a feed has failed for `fetch.feed_down_after`, one "recovered" after.

    The notice is marked sent only when at least one channel accepted it, so it is retried next cycle.
    """
    out = dict(health)
    for name, h in health.items():
        alarm = feed_alarm(h, now, settings.fetch.feed_down_after)
        if alarm is None:
            continue
        if alarm == "down":
            title = f"Feed down: {name}"
            body = f"{name} has been failing since {h.failing_since:%Y-%m-%d %H:%M} UTC: {h.last_error}"
        else:
            title, body = f"Feed recovered: {name}", f"{name} is answering again."
        sent = False
        for cid in notifier.channels:
            try:
                notifier.send_text(cid, title, notifier.redact(body))
                sent = True
            except DeliveryError as exc:
                log.warning("%s notice for feed %s not sent to %s: %s", alarm, name, cid, exc.reason)
        if sent:
            out[name] = replace(h, down_notified=alarm == "down")
    return out


def record_health(
    store: StateStore,
    notifier: Notifier,
    settings: Settings,
    health: dict[str, FeedHealth],
    results: Sequence[FetchResult],
    parsed: Sequence[ParseResult | None],
    fresh: Sequence[NewsItem],
    now: datetime,
) -> list[FeedOutcome]:
    """Update and save each polled feed's health; return one outcome per polled feed."""
    new_counts: dict[str, int] = defaultdict(int)
    for item in fresh:
        new_counts[item.source] += 1
    by_name = {f.name: f for f in settings.feeds}
    updated: dict[str, FeedHealth] = {}
    outcomes = []
    for r, p in zip(results, parsed, strict=True):
        err = r.error or (p.error if p else None)
        kind: ErrorKind | None = None
        status: PollStatus = "not_modified" if r.not_modified else "ok"
        if isinstance(err, BlockedFeedError):
            kind, status = "blocked", "blocked"
        elif err is not None:
            kind, status = ("transient" if isinstance(err, TransientFeedError) else "permanent"), "error"
        interval = by_name[r.name].interval or settings.schedule
        h = next_health(
            health[r.name],
            now=now,
            status=status,
            http_status=r.status,
            error=str(err) if err else None,
            error_kind=kind,
            etag=r.etag,
            last_modified=r.last_modified,
            body_hash=r.body_hash,
            moved_to=r.moved_to,
            retry_after_s=r.retry_after_s,
            new_items=new_counts.get(r.name, 0),
            interval_s=interval.total_seconds(),
        )
        updated[r.name] = h
        outcomes.append(
            FeedOutcome(
                r.name,
                r.url,
                "disabled" if h.disabled else status,
                r.status,
                str(err) if err else None,
                len(p.items) if p else 0,
                new_counts.get(r.name, 0),
                0,
                r.elapsed_ms,
                tuple(p.warnings) if p else (),
            )
        )
    updated = feed_alarms(notifier, settings, updated, now)
    store.save_feeds({n: h.to_dict() for n, h in updated.items()})
    return outcomes


def log_outcomes(
    logger: logging.Logger | logging.LoggerAdapter[Any],
    outcomes: Sequence[FeedOutcome],
    enqueued: Sequence[tuple[Alert, str]],
) -> None:
    """One canonical line per feed (failures WARNING, news INFO, quiet feeds DEBUG) and a summary line.

    At 1,000 feeds a line per unchanged feed at INFO would bury the failures in every run's log.
    """
    alerts: dict[str, int] = defaultdict(int)
    for a, _ch in enqueued:
        alerts[a.source] += 1
    by_status: dict[str, int] = defaultdict(int)
    for o in outcomes:
        o.alerts = alerts.get(o.name, 0)
        by_status[o.status] += 1
        level = logging.WARNING if o.error else logging.INFO if o.new else logging.DEBUG
        logger.log(
            level,
            f"feed={o.name} status={o.status} http={o.http} new={o.new} alerts={o.alerts} ms={o.ms:.0f}"
            + (f" error={o.error}" if o.error else ""),
        )
    logger.info("feeds: " + " ".join(f"{k}={v}" for k, v in sorted(by_status.items())))


# -- the whole cycle ------------------------------------------------------------------------------------
def run_cycle(
    settings: Settings,
    store: StateStore,
    detector: Detector,
    notifier: Notifier,
    clock: Clock = utcnow,
    on_feed_done: Callable[[FetchResult], None] | None = None,
    worker: str | None = None,
) -> CycleReport:
    """Run one poll cycle end to end without Prefect (the flow calls the same stages as tasks)."""
    t0 = time.perf_counter()
    now = clock()
    report = CycleReport(started=now)
    due, health, skipped = plan(settings, store, now)
    results, parsed = fetch_and_parse(due, health, settings, now, on_feed_done)
    fresh = unseen(store, [i for p in parsed if p for i in p.items], settings.dedup.item_ttl, now)
    detections = detect(detector, recent(fresh, settings, now))
    report.enqueued = claim(store, settings, notifier, fresh, detections, now)
    report.feeds = record_health(store, notifier, settings, health, results, parsed, fresh, now) + skipped
    log_outcomes(log, report.feeds, report.enqueued)
    report.delivery = deliver(store, notifier, settings, clock(), worker or worker_id())
    report.pending = store.pending_count()
    report.dead_total = len(store.dead_letters())
    report.seconds = time.perf_counter() - t0
    return report
