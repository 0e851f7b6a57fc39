"""One poll cycle, the one sequence: fetch-and-parse → detect → claim → record health → deliver.

Every stage is a plain function of the runtime (``moverwatch.runtime``), the values of the stages before it
and the cycle's one ``now``. ``run_cycle`` calls them in order through a ``stage`` wrapper: the identity for
``moverwatch run``, a Prefect task for the flow (flows/poll.py), a timer for the benchmark. A new stage is
added here, once. This is the application layer: the one core module that imports ``scrapers`` (news in).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from moverwatch.config import Duration, Settings
from moverwatch.dedup import EventRecord, decide, event_key, item_keys
from moverwatch.detect.aliases import normalize_text
from moverwatch.errors import BlockedFeedError, TransientFeedError
from moverwatch.health import feed_alarm, new_health, new_warnings, next_health, url_fingerprint
from moverwatch.heap import bound_heap
from moverwatch.models import (
    Alert,
    ErrorKind,
    FeedHealth,
    FeedOutcome,
    FetchResult,
    Move,
    NewsItem,
    Notice,
    ParseResult,
    PollStatus,
)
from moverwatch.outbox import DeliveryReport, deliver
from moverwatch.pool import Parser, detect_all
from moverwatch.redact import redact_url
from moverwatch.runtime import Runtime

if TYPE_CHECKING:
    from scrapers.articles import ArticleReader
from scrapers.samples import fetch_sample, is_sample, shift_to_now

log = logging.getLogger(__name__)

T = TypeVar("T")
# Feeds fetched per fetch_feeds_sync call: bounds the bodies alive at once (~200 KB each on a busy feed)
# while keeping enough feeds in flight to fill fetch.concurrency between batch boundaries.
FETCH_BATCH = 200
# Wraps one stage function under its name (e.g. into a Prefect task); must return a callable with the same
# signature and result.
Stage = Callable[[str, Callable[..., Any]], Callable[..., Any]]


def direct(_name: str, fn: Callable[..., T]) -> Callable[..., T]:
    """The plain stage wrapper: call the function as it is."""
    return fn


@dataclass(frozen=True)
class Polled:
    """What fetch-and-parse produced: one fetch and parse result per polled feed, their health before the
    poll, and outcomes for the feeds not polled (disabled, not due)."""

    results: list[FetchResult]
    parsed: list[ParseResult | None]
    health: dict[str, FeedHealth]
    skipped: list[FeedOutcome]

    def items(self) -> list[NewsItem]:
        return [i for p in self.parsed if p for i in p.items]


@dataclass
class CycleReport:
    """Everything one cycle did, for the CLI's summary, the flow's artifacts and the tests."""

    started: datetime
    feeds: list[FeedOutcome] = field(default_factory=list)
    new_items: int = 0
    enqueued: list[tuple[Alert, str]] = field(default_factory=list)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    pending: int = 0
    dead_total: int = 0
    seconds: float = 0.0


# -- fetch and parse ------------------------------------------------------------------------------------
def plan(rt: Runtime, now: datetime) -> tuple[list[str], dict[str, FeedHealth], list[FeedOutcome]]:
    """The names of the feeds due now, every feed's health record, and outcomes for the ones skipped."""
    feeds = rt.settings.feeds
    stored = rt.store.load_feeds([f.name for f in feeds])
    health = {}
    for f in feeds:
        h = stored.get(f.name)
        # A feed whose configured URL changed starts afresh: old validators, backoff and redirects are stale.
        unchanged = h is not None and h.config_url == url_fingerprint(f.url)
        health[f.name] = h if h is not None and unchanged else new_health(f.name, f.url)
    due, skipped = [], []
    for f in feeds:
        h = health[f.name]
        if h.disabled:
            skipped.append(FeedOutcome(f.name, redact_url(f.url), "disabled", error=h.last_error))
        elif not h.is_due(now) and not is_sample(f.url):  # samples: the demo re-reads them every run
            skipped.append(FeedOutcome(f.name, redact_url(f.url), "not_due"))
        else:
            due.append(f.name)
    return due, health, skipped


def fetch_and_parse(
    rt: Runtime, now: datetime, on_done: Callable[[FetchResult], None] | None = None
) -> Polled:
    """Fetch every due feed concurrently and parse each new body as it arrives (samples read from the package).

    Items too old to alert on keep no summary: they are only recorded as seen.
    """
    due, health, skipped = plan(rt, now)
    by_name = {f.name: f for f in rt.settings.feeds}
    cfg = rt.settings.fetch
    samples = [fetch_sample(n, by_name[n].url) for n in due if is_sample(by_name[n].url)]
    to_fetch = [by_name[n] for n in due if not is_sample(by_name[n].url)]
    requests = []
    if to_fetch:
        bound_heap()  # bodies of hundreds of KB are allocated and freed per feed: keep them out of the heap
        # aiohttp loads on use: a run with nothing due, or only bundled samples, need not pay for it.
        from scrapers.fetch import FeedRequest, FetchSettings, fetch_feeds_sync

        # A permanent redirect seen earlier replaced the URL we poll (the config keeps the original).
        for f in to_fetch:
            h = health[f.name]
            requests.append(
                FeedRequest(
                    f.name,
                    h.url or f.url,
                    h.etag,
                    h.last_modified,
                    h.body_hash,
                    f.user_agent,
                    config_url=f.url,
                )
            )
    parser = Parser(now, pooled=len(requests) >= cfg.parse_pool_min, oldest=now - rt.settings.max_age)

    def done(r: FetchResult) -> None:
        parser.submit(r, full_text=is_sample(r.url))
        if on_done:
            on_done(r)

    try:
        for r in samples:
            done(r)
        if requests:
            fs = FetchSettings(
                cfg.timeout.total_seconds(), cfg.max_bytes, cfg.concurrency, cfg.per_host, cfg.user_agent
            )
            # In batches: fetch_feeds_sync returns every result with its body, so one call over a cold
            # 1,000-feed cycle held ~200 MB of bodies to its end although each is parsed on arrival.
            for k in range(0, len(requests), FETCH_BATCH):
                fetch_feeds_sync(requests[k : k + FETCH_BATCH], fs, on_done=done)
        results, parsed = parser.results(due)
    finally:
        parser.close()
    oldest = now - rt.settings.max_age  # samples are shifted to now after parsing: _fit decides for them
    return Polled(
        results, [_fit(p, r, oldest, now) for r, p in zip(results, parsed, strict=True)], health, skipped
    )


def _fit(p: ParseResult | None, r: FetchResult, oldest: datetime, now: datetime) -> ParseResult | None:
    if p is None:
        return None
    items = shift_to_now(p.items, now) if is_sample(r.url) else p.items
    # The parser already blanked old items' text (Parser's ``oldest``); only samples and thread parses are left.
    if not any(i.summary and not alertable(i, oldest, now) for i in items):
        return p if items is p.items else replace(p, items=tuple(items))
    return replace(p, items=tuple(i if alertable(i, oldest, now) else replace(i, summary="") for i in items))


def alertable(item: NewsItem, oldest: datetime, now: datetime) -> bool:
    """Young enough to alert on: published at or after ``oldest`` (an undated item counts as published now)."""
    return (item.published_at or now) >= oldest


# -- detect ---------------------------------------------------------------------------------------------
def unseen(rt: Runtime, items: Sequence[NewsItem], now: datetime) -> list[NewsItem]:
    """Items not seen before (by guid or canonical URL), each once even if several feeds carry it."""
    keyed = [(i, item_keys(i)) for i in items]
    seen = rt.store.seen([k for _i, ks in keyed for k in ks], rt.settings.dedup.item_ttl, now)
    fresh: list[NewsItem] = []
    batch: set[str] = set()
    for i, ks in keyed:
        if any(k in seen or k in batch for k in ks):
            continue
        batch.update(ks)
        fresh.append(i)
    return fresh


def detect_moves(
    rt: Runtime, polled: Polled, now: datetime
) -> tuple[list[NewsItem], list[tuple[NewsItem, list[Move]]]]:
    """The fresh items, and the moves found in those young enough to alert on (items without one left out).

    Older fresh items are still recorded as seen, so a first run on a busy feed does not flood the channels.
    """
    fresh = unseen(rt, polled.items(), now)
    if rt.reseed:
        return fresh, []  # recorded as seen by claim_events, alerted never
    oldest = now - rt.settings.max_age
    recent = [i for i in fresh if alertable(i, oldest, now)]
    found = detect_all(rt.detector, recent)
    return fresh, [(i, moves) for i, moves in zip(recent, found, strict=True) if moves]


# -- scrape ---------------------------------------------------------------------------------------------
_READER: ArticleReader | None = None


def _item_id(item: NewsItem) -> tuple[str, str, str]:
    return item.source, item.guid, item.url


def _scrape_sites(rt: Runtime) -> dict[str, str]:
    """Feed name → site adapter of the feeds whose article pages may be read. Bundled samples (the offline
    demo) link to real pages: never fetched."""
    return {f.name: f.site for f in rt.settings.feeds if f.site and not is_sample(f.url)}


def split_thin(
    rt: Runtime,
    fresh: Sequence[NewsItem],
    detections: Sequence[tuple[NewsItem, list[Move]]],
    now: datetime,
) -> tuple[list[tuple[NewsItem, list[Move]]], list[tuple[NewsItem, list[Move]]]]:
    """The detections the feed text decides, and the items whose text is too thin (a watched ticker moving
    with no size; no summary beyond a headline naming a watched ticker) and whose feed has a site adapter."""
    if not rt.settings.scrape.enabled or rt.reseed:
        return list(detections), []
    from scrapers.sites import should_scrape

    sites = _scrape_sites(rt)
    if not sites:
        return list(detections), []
    ready: list[tuple[NewsItem, list[Move]]] = []
    thin: list[tuple[NewsItem, list[Move]]] = []
    for item, moves in detections:
        (thin if should_scrape(item, sites.get(item.source), moves) else ready).append((item, moves))
    detected = {_item_id(i) for i, _m in detections}
    oldest = now - rt.settings.max_age
    for item in fresh:
        if _item_id(item) in detected or not alertable(item, oldest, now) or item.source not in sites:
            continue
        if should_scrape(item, sites[item.source], []) and rt.detector.matcher.find(
            normalize_text(item.title)
        ):
            thin.append((item, []))
    return ready, thin


def scrape_articles(
    rt: Runtime, thin: Sequence[tuple[NewsItem, list[Move]]]
) -> list[tuple[NewsItem, list[Move]]]:
    """Read each thin item's article page and detect again on its standfirst and first paragraphs; a number
    found there only is marked as from the page. An item whose page cannot be read keeps its feed moves."""
    from scrapers.articles import ArticleReader, PageRequest
    from scrapers.fetch import FetchSettings

    global _READER
    cfg, fetch = rt.settings.scrape, rt.settings.fetch
    if _READER is None:
        _READER = ArticleReader(cfg.robots_ttl.total_seconds())
    sites = _scrape_sites(rt)
    pages = [PageRequest(str(n), item.url, sites[item.source]) for n, (item, _m) in enumerate(thin)]
    fs = FetchSettings(
        cfg.timeout.total_seconds(), cfg.max_bytes, fetch.concurrency, fetch.per_host, fetch.user_agent
    )
    out = []
    for (item, moves), page in zip(thin, _READER.read(pages, fs), strict=True):
        if page.article is None:
            log.info("article of %r not read (%s): the feed text decides", item.title, page.reason)
            found = moves
        else:
            found = _with_article(moves, rt.detector.detect(item.title, page.article.lead(cfg.paragraphs)))
        if found:
            out.append((item, found))
    return out


def _with_article(feed_moves: Sequence[Move], page_moves: Sequence[Move]) -> list[Move]:
    """The feed's moves, sized from the page where the feed gave no number; moves only the page states."""
    page = {(m.symbol, m.direction): m for m in page_moves}
    out = []
    for m in feed_moves:
        p = page.pop((m.symbol, m.direction), None)
        out.append(replace(p, where="body") if m.pct is None and p is not None and p.pct is not None else m)
    out.extend(replace(m, where="body") if m.pct is not None else m for m in page.values())
    return out


# -- claim ----------------------------------------------------------------------------------------------
def claim_events(
    rt: Runtime,
    fresh: Sequence[NewsItem],
    detections: Sequence[tuple[NewsItem, list[Move]]],
    now: datetime,
) -> list[tuple[Alert, str]]:
    """Turn moves into events and enqueue their alerts atomically; then mark every fresh item seen.

    Reports of one event are applied in one atomic step per event key (oldest report first, so the first
    outlet to report a move is the one alerted), not one round trip per report.
    """
    by_key: dict[str, list[tuple[NewsItem, Move]]] = defaultdict(list)
    for item, moves in sorted(detections, key=lambda d: d[0].published_at or now):
        for move in moves:
            by_key[event_key(move)].append((item, move))
    enqueued: list[tuple[Alert, str]] = []
    for key, reports in by_key.items():
        enqueued.extend(rt.store.claim_event(key, _event_update(rt, reports, now), now))
    rt.store.mark_seen([k for i in fresh for k in item_keys(i)], rt.settings.dedup.item_ttl, now)
    return enqueued


def _event_update(
    rt: Runtime, reports: list[tuple[NewsItem, Move]], now: datetime
) -> Callable[[EventRecord | None], tuple[EventRecord, list[tuple[Alert, str]]]]:
    """The pure read-compare-write the store applies atomically to one event's record.

    All of this cycle's reports of the event make at most one alert: a new event is alerted once, from the
    earliest report that states a number (the others become "also reported by"); an event alerted in an
    earlier cycle escalates at most once, to the largest new number. Escalation is across cycles only.
    """
    t = rt.tickers.get(reports[0][1].symbol)
    tags, name = (t.tags, t.names[0]) if t else ((), reports[0][1].symbol)
    cfg = rt.settings.dedup

    def update(existing: EventRecord | None) -> tuple[EventRecord, list[tuple[Alert, str]]]:
        fresh_event = existing is None or existing.expires_at <= now
        ordered = reports
        if fresh_event:
            sized = next((r for r in reports if r[1].pct is not None), reports[0])
            ordered = [sized, *(r for r in reports if r is not sized)]
        record, alert = existing, None
        for n, (item, move) in enumerate(ordered):
            # Within the cycle that creates the event, later reports only add their outlet.
            points = float("inf") if fresh_event and n > 0 else cfg.escalate_points
            _decision, record, made = decide(
                record,
                item,
                move,
                item.published_at or now,
                now,
                cfg.window,
                points,
                tags,
                name,
                max_escalations=cfg.max_escalations,
            )
            alert = made or alert  # a later escalation supersedes an earlier one (it is larger)
        assert record is not None
        if existing is not None and not fresh_event and record.escalations > existing.escalations:
            record = replace(record, escalations=existing.escalations + 1)
        return record, [(alert, ch) for ch in rt.notifier.route(alert)] if alert else []

    return update


# -- health ---------------------------------------------------------------------------------------------
def record_health(
    rt: Runtime,
    polled: Polled,
    fresh: Sequence[NewsItem],
    enqueued: Sequence[tuple[Alert, str]],
    now: datetime,
) -> list[FeedOutcome]:
    """Save each polled feed's next health, enqueue its feed-down/recovered notice; one outcome per feed."""
    new_counts: dict[str, int] = defaultdict(int)
    for item in fresh:
        new_counts[item.source] += 1
    alert_counts: dict[str, int] = defaultdict(int)
    for a, _ch in enqueued:
        alert_counts[a.source] += 1
    by_name = {f.name: f for f in rt.settings.feeds}
    updated: list[FeedHealth] = []
    outcomes = []
    for r, p in zip(polled.results, polled.parsed, strict=True):
        err = r.error or (p.error if p else None)
        kind: ErrorKind | None = None
        status: PollStatus = "not_modified" if r.not_modified else "ok"
        if isinstance(err, BlockedFeedError):
            kind, status = "blocked", "blocked"
        elif err is not None:
            kind, status = ("transient" if isinstance(err, TransientFeedError) else "permanent"), "error"
        h = next_health(
            polled.health[r.name],
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
            new_items=new_counts[r.name],
            interval_s=(by_name[r.name].interval or rt.settings.schedule).total_seconds(),
        )
        if p is not None:
            kinds, fresh_kinds = new_warnings(polled.health[r.name], p.warnings)
            h = replace(h, warnings=kinds)
            for _kind, ws in fresh_kinds:
                more = f" (and {len(ws) - 1} more like it)" if len(ws) > 1 else ""
                log.warning("feed=%s warning: %s%s", r.name, ws[0], more)
        updated.append(h)
        outcomes.append(
            FeedOutcome(
                r.name,
                redact_url(r.url),
                "disabled" if h.disabled else status,
                r.status,
                str(err) if err else None,
                len(p.items) if p else 0,
                new_counts[r.name],
                alert_counts[r.name],
                r.elapsed_ms,
                tuple(p.warnings) if p else (),
            )
        )
    updated = enqueue_feed_notices(rt, updated, now)
    rt.store.save_feeds(updated)
    return outcomes + polled.skipped


def enqueue_feed_notices(rt: Runtime, health: Sequence[FeedHealth], now: datetime) -> list[FeedHealth]:
    """Queue one "feed down" notice per channel when a feed has failed for `fetch.feed_down_after`, one
    "recovered" when it answers again; return the health records marked accordingly.

    The notices go through the outbox like alerts, so a failing channel gets them later, never loses them.
    """
    out = []
    notices: list[tuple[Notice, str]] = []
    for h in health:
        alarm = feed_alarm(h, now, rt.settings.fetch.feed_down_after)
        if alarm is None:
            out.append(h)
            continue
        if alarm == "down":
            since = h.failing_since or now
            notice = Notice(
                key=f"feed-down:{h.name}:{since.isoformat()}",
                kind="feed_down",
                title=f"Feed down: {h.name}",
                body=f"{h.name} has been failing since {since:%Y-%m-%d %H:%M} UTC: {h.last_error}",
            )
        else:
            notice = Notice(
                key=f"feed-recovered:{h.name}:{now.isoformat()}",
                kind="feed_recovered",
                title=f"Feed recovered: {h.name}",
                body=f"{h.name} is answering again.",
            )
        notices.extend((notice, ch) for ch in rt.notifier.channels)
        out.append(replace(h, down_notified=alarm == "down"))
    # Queued before the health is saved: a crash in between repeats a notice rather than losing it.
    rt.store.enqueue(notices, now)
    return out


def log_outcomes(
    logger: logging.Logger | logging.LoggerAdapter[Any], outcomes: Sequence[FeedOutcome]
) -> None:
    """One canonical line per feed (failures WARNING, news INFO, quiet feeds DEBUG) and a summary line.

    At 1,000 feeds a line per unchanged feed at INFO would bury the failures in every run's log.
    """
    by_status: dict[str, int] = defaultdict(int)
    for o in outcomes:
        by_status[o.status] += 1
        level = logging.WARNING if o.error else logging.INFO if o.new else logging.DEBUG
        logger.log(
            level,
            f"feed={o.name} status={o.status} http={o.http} new={o.new} alerts={o.alerts} ms={o.ms:.0f}"
            + (f" error={o.error}" if o.error else ""),
        )
    logger.info("feeds: " + " ".join(f"{k}={v}" for k, v in sorted(by_status.items())))


# -- deliver --------------------------------------------------------------------------------------------
def deliver_due(rt: Runtime, now: datetime) -> DeliveryReport:
    """Send what the outbox holds due now (this cycle's alerts and earlier ones waiting for a retry)."""
    return deliver(rt.store, rt.notifier, rt.settings.delivery, now, rt.worker, clock=rt.clock)


# -- the whole cycle ------------------------------------------------------------------------------------
def run_cycle(
    rt: Runtime,
    stage: Stage = direct,
    on_feed_done: Callable[[FetchResult], None] | None = None,
    logger: logging.Logger | logging.LoggerAdapter[Any] = log,
) -> CycleReport:
    """Run one poll cycle end to end; ``stage`` wraps each stage (the flow makes each a Prefect task)."""
    t0 = time.perf_counter()
    now = rt.clock()
    report = CycleReport(started=now)
    polled: Polled = stage("fetch-and-parse", fetch_and_parse)(rt, now, on_feed_done)
    fresh, detections = stage("detect-moves", detect_moves)(rt, polled, now)
    report.new_items = len(fresh)
    ready, thin = split_thin(rt, fresh, detections, now)
    # Items waiting for their article page are marked seen only with their own claim: a crash in between
    # leaves them unseen, so the next cycle reads them again instead of losing them.
    waiting = {_item_id(i) for i, _m in thin}
    decided = [i for i in fresh if _item_id(i) not in waiting]
    report.enqueued = stage("claim-events", claim_events)(rt, decided, ready, now)
    report.feeds = stage("record-health", record_health)(rt, polled, fresh, report.enqueued, now)
    log_outcomes(logger, report.feeds)
    # Alerts that need no page go out before any page is fetched.
    report.delivery = stage("deliver-alerts", deliver_due)(rt, now)
    if thin:
        scraped = stage("scrape-articles", scrape_articles)(rt, thin)
        report.enqueued += stage("claim-scraped", claim_events)(rt, [i for i, _m in thin], scraped, now)
        report.delivery.extend(stage("deliver-scraped", deliver_due)(rt, now))
    report.pending = rt.store.pending_count()
    report.dead_total = len(rt.store.dead_letters())
    report.seconds = time.perf_counter() - t0
    return report


# -- replay after an outage -----------------------------------------------------------------------------
def replay_settings(settings: Settings, since: str, now: datetime) -> Settings:
    """Settings for a cycle that alerts only on news published after ``since``: a duration back from ``now``
    ("6h", "2d") or an aware ISO time ("2026-03-02T08:00:00Z"). Older unseen items are recorded as seen, so
    a restart after a long outage does not flood the channels (``max_age`` for this one cycle)."""
    try:
        window: timedelta = TypeAdapter(Duration).validate_python(since)
    except ValidationError:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise ValueError(f"--since {since!r}: give a duration (6h, 2d) or an ISO time") from None
        if start.tzinfo is None:
            raise ValueError(f"--since {since!r}: give the time zone (e.g. 2026-03-02T08:00:00Z)") from None
        window = now - start
    if window <= timedelta(0):
        raise ValueError(f"--since {since!r} is not in the past")
    return settings.model_copy(update={"max_age": window})
