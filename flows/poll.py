"""The Prefect flow `poll-feeds`: the one cycle of ``moverwatch.pipeline``, each stage a Prefect task.

Tasks are per stage, not per item (Prefect costs ~4 ms per task run; a thousand per cycle would dominate).
Remove the decorators and this is ``moverwatch run``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.utilities.annotations import quote

from flows.secrets import resolve_secret_blocks
from moverwatch.config import load_settings
from moverwatch.models import FeedOutcome
from moverwatch.pipeline import CycleReport, run_cycle
from moverwatch.runtime import open_runtime
from moverwatch.state import StateStore


def as_task(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """One stage as a Prefect task. Inputs are live objects (store, notifier): never cached or persisted.

    Arguments go in quote(): Prefect otherwise walks every element of every argument (50,000 NewsItems,
    1,000 feed configs) twice per task call, which measured ~20 s of a cold 1,000-feed cycle.
    """
    t = task(name=name, cache_policy=NONE, persist_result=False)(fn)
    return lambda *args: t(*(quote(a) for a in args))


@flow(name="poll-feeds", description="Poll the configured feeds and alert on big moves of watched tickers.")
def poll_feeds(config_path: str | None = None) -> dict[str, int]:
    """One poll cycle; returns counts (feeds, new items, alerts enqueued, sent, failed, dead)."""
    logger = get_run_logger()
    settings = resolve_secret_blocks(load_settings(config_path))
    with open_runtime(settings, console=lambda line: logger.info("ALERT %s", line)) as rt:
        report = run_cycle(rt, stage=as_task, logger=logger)
        _publish(report, rt.store)
    return {
        "feeds": len(report.feeds),
        "new_items": report.new_items,
        "enqueued": len(report.enqueued),
        "sent": len(report.delivery.sent),
        "failed": len(report.delivery.failed),
        "dead": len(report.delivery.dead),
    }


def _publish(report: CycleReport, store: StateStore) -> None:
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
            for a, ch in report.delivery.sent
        ]
        or [{"symbol": "(none)"}],
        description="Alerts delivered in this run",
    )
    create_table_artifact(
        key="feed-health", table=_health_rows(report.feeds), description="Feed status in this run"
    )
    dead = store.dead_letters()
    if dead:
        create_table_artifact(
            key="dead-alerts",
            table=[
                {
                    "channel": d.channel,
                    "symbol": getattr(d.message, "symbol", "(notice)"),
                    "attempts": d.attempts,
                    "error": d.error,
                    "headline": getattr(d.message, "headline", None) or getattr(d.message, "title", ""),
                }
                for d in dead
            ],
            description="Alerts that could not be delivered after max_attempts",
        )


def _health_rows(outcomes: Sequence[FeedOutcome]) -> list[dict[str, Any]]:
    """Feeds that failed or brought news, then one row counting the quiet ones (a 1,000-row table every five
    minutes would bury the failures and load the API)."""
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
    return rows
