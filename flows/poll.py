"""The Prefect flow `poll-feeds`: one poll cycle, each stage a task over the core functions.

Tasks are per stage, not per item (Prefect costs ~4 ms per task run; a thousand per cycle would
dominate). Remove the decorators and this is `moverwatch.cycle.run_cycle`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.settings import PREFECT_API_URL
from prefect.utilities.annotations import quote

from flows.secrets import resolve_secret_blocks
from moverwatch import cycle
from moverwatch.config import Settings, load_settings
from moverwatch.deliver import DeliveryReport, deliver
from moverwatch.detect import Detector
from moverwatch.errors import MoverwatchError
from moverwatch.health import FeedHealth
from moverwatch.models import Alert, Move, NewsItem
from moverwatch.notify import Notifier
from moverwatch.state import StateStore, open_store
from scrapers.fetch import FetchResult
from scrapers.parse import ParseResult


# Inputs are live objects (store, notifier): never cache or persist them.
def stage(name: str) -> Any:
    """A task decorator for one stage of the cycle."""
    return task(name=name, cache_policy=NONE, persist_result=False)


# Arguments go in quote(): Prefect otherwise walks every element of every argument (50,000 NewsItems,
# 1,000 feed configs) twice per task call, which measured ~20 s of a cold 1,000-feed cycle.
q = quote


@stage("fetch-and-parse")
def fetch_and_parse(
    settings: Settings, store: StateStore
) -> tuple[list[FetchResult], list[ParseResult | None], dict[str, FeedHealth], list[cycle.FeedOutcome]]:
    now = cycle.utcnow()
    due, health, skipped = cycle.plan(settings, store, now)
    results, parsed = cycle.fetch_and_parse(due, health, settings, now)
    return results, parsed, health, skipped


@stage("detect-moves")
def detect_moves(
    detector: Detector, store: StateStore, settings: Settings, parsed: Sequence[ParseResult | None]
) -> tuple[list[NewsItem], list[tuple[NewsItem, list[Move]]]]:
    now = cycle.utcnow()
    fresh = cycle.unseen(store, [i for p in parsed if p for i in p.items], settings.dedup.item_ttl, now)
    return fresh, cycle.detect(detector, cycle.recent(fresh, settings, now))


@stage("claim-events")
def claim_events(
    store: StateStore,
    settings: Settings,
    notifier: Notifier,
    fresh: list[NewsItem],
    detections: list[tuple[NewsItem, list[Move]]],
) -> list[tuple[Alert, str]]:
    return cycle.claim(store, settings, notifier, fresh, detections, cycle.utcnow())


@stage("record-health")
def record_health(
    store: StateStore,
    notifier: Notifier,
    settings: Settings,
    health: dict[str, FeedHealth],
    results: Sequence[FetchResult],
    parsed: Sequence[ParseResult | None],
    fresh: Sequence[NewsItem],
) -> list[cycle.FeedOutcome]:
    return cycle.record_health(store, notifier, settings, health, results, parsed, fresh, cycle.utcnow())


@stage("deliver-alerts")
def deliver_alerts(store: StateStore, notifier: Notifier, settings: Settings) -> DeliveryReport:
    return deliver(store, notifier, settings, cycle.utcnow(), cycle.worker_id())


@flow(name="poll-feeds", description="Poll the configured feeds and alert on big moves of watched tickers.")
def poll_feeds(config_path: str | None = None) -> dict[str, int]:
    """One poll cycle; returns counts (feeds, new items, alerts enqueued, sent, failed, dead)."""
    logger = get_run_logger()
    settings = resolve_secret_blocks(load_settings(config_path))
    store = open_store(settings.state_url(), settings.redis_prefix)
    try:
        detector = Detector(settings.load_watchlist())
        notifier = Notifier(
            settings.channels,
            console=lambda line: logger.info("ALERT %s", line),
            timezones=settings.load_watchlist().timezones(),
        )
        results, parsed, health, skipped = fetch_and_parse(q(settings), q(store))
        fresh, detections = detect_moves(q(detector), q(store), q(settings), q(parsed))
        enqueued = claim_events(q(store), q(settings), q(notifier), q(fresh), q(detections))
        outcomes = record_health(
            q(store), q(notifier), q(settings), q(health), q(results), q(parsed), q(fresh)
        )
        outcomes += skipped
        cycle.log_outcomes(logger, outcomes, enqueued)
        report = deliver_alerts(q(store), q(notifier), q(settings))
        _publish(report, outcomes, store)
        return {
            "feeds": len(outcomes),
            "new_items": len(fresh),
            "enqueued": len(enqueued),
            "sent": len(report.sent),
            "failed": len(report.failed),
            "dead": len(report.dead),
        }
    finally:
        store.close()


def _publish(report: DeliveryReport, outcomes: Sequence[cycle.FeedOutcome], store: StateStore) -> None:
    """Tables in the Prefect UI: alerts sent this run, feed health, dead alerts."""
    create_table_artifact(
        key="alerts-sent",
        table=[
            {
                "symbol": a.symbol,
                "direction": a.direction,
                "pct": a.pct,
                "kind": a.kind,
                "channel": ch,
                "headline": a.headline,
                "source": a.source,
                "url": a.url,
            }
            for a, ch in report.sent
        ]
        or [{"symbol": "(none)"}],
        description="Alerts delivered in this run",
    )
    # Feeds that failed or brought news, then one row counting the quiet ones (a 1,000-row table every five
    # minutes would bury the failures and load the API).
    notable = [o for o in outcomes if o.error or o.new or o.status not in ("ok", "not_modified", "not_due")]
    rows: list[dict[str, Any]] = [
        {
            "feed": o.name,
            "status": o.status,
            "http": o.http,
            "items": o.items,
            "new": o.new,
            "ms": round(o.ms),
            "error": o.error or "",
        }
        for o in sorted(notable, key=lambda o: (o.error is None, o.name))
    ]
    quiet = len(outcomes) - len(notable)
    if quiet or not rows:
        rows.append({"feed": f"({quiet} more feeds: unchanged or not due)", "status": "ok"})
    create_table_artifact(key="feed-health", table=rows, description="Feed status in this run")
    dead = store.dead_letters()
    if dead:
        create_table_artifact(
            key="dead-alerts",
            table=[
                {
                    "channel": d["channel"],
                    "symbol": d["alert"]["symbol"],
                    "attempts": d["attempts"],
                    "error": d["error"],
                    "headline": d["alert"]["headline"],
                }
                for d in dead
            ],
            description="Alerts that could not be delivered after max_attempts",
        )


def serve(config_path: str | None, interval: timedelta) -> None:
    """Run the flow on its schedule in this process until interrupted.

    With a Prefect server (PREFECT_API_URL set) the server schedules the served deployment and runs show
    in its UI. Without one, Prefect's ephemeral API cannot schedule, so we run the flow every `interval`
    ourselves: each cycle is still a flow run with its task runs and logs.
    """
    if PREFECT_API_URL.value():
        poll_feeds.serve(name="moverwatch", interval=interval, parameters={"config_path": config_path})
        return
    log = logging.getLogger("moverwatch.serve")
    log.warning("no Prefect server configured (PREFECT_API_URL): polling every %s in this process", interval)
    while True:
        started = time.monotonic()
        try:
            poll_feeds(config_path)
        except MoverwatchError as exc:  # the next cycle may succeed (Redis back, feed fixed)
            log.error("cycle failed: %s", exc)
        time.sleep(max(0.0, interval.total_seconds() - (time.monotonic() - started)))
