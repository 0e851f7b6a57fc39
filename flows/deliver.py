"""The Prefect flow `deliver-outbox`: send what the outbox holds due, on its own short schedule.

Pending alerts (a channel that failed, a poll run killed between claim and send) are retried by this flow
every minute or so, whether or not news arrives and however long a poll takes, so a channel outage heals
without waiting for the next poll. It shares the outbox safely with `poll-feeds` (one consumer per entry).
"""

from __future__ import annotations

from dataclasses import asdict

from prefect import flow, get_run_logger

from flows.common import as_task, core_logs_to, run_settings
from flows.report import RunCounts, check_delivered, emit_delivery_events, publish_delivery
from moverwatch.pipeline import deliver_due
from moverwatch.runtime import open_runtime


@flow(
    name="deliver-outbox", description="Send pending alerts and notices from the outbox (retries included)."
)
def deliver_outbox(config_path: str | None = None) -> dict[str, int]:
    """One delivery pass; returns its counts. ``config_path`` None: $MOVERWATCH_CONFIG on the worker."""
    logger = get_run_logger()
    with (
        core_logs_to(logger),
        open_runtime(run_settings(config_path), console=lambda line: logger.info("ALERT %s", line)) as rt,
    ):
        d = as_task("deliver-alerts", deliver_due)(rt, rt.clock())
        counts = RunCounts(
            sent=len(d.sent),
            failed=len(d.failed),
            pending=rt.store.pending_count(),
            dead=len(rt.store.dead_letters()),
        )
    logger.info(counts.line())
    if d.sent or d.failed or d.dead:
        publish_delivery(d)  # a table a minute saying "(none)" would bury the ones that matter
    emit_delivery_events(d)
    check_delivered(counts, d)
    return asdict(counts)
