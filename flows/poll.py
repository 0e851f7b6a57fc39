"""The Prefect flow `poll-feeds`: the one cycle of ``moverwatch.pipeline``, each stage a Prefect task.

Tasks are per stage, not per item (Prefect costs ~4 ms per task run; a thousand per cycle would dominate).
Remove the decorators and this is ``moverwatch run``. With ``shard_size`` set and more feeds than that, the
due feeds are polled by ``poll-shard`` runs on the work pool instead (flows/shard.py) and this run delivers.
"""

from __future__ import annotations

from dataclasses import asdict

from prefect import flow, get_run_logger

from flows.common import as_task, core_logs_to, run_settings
from flows.report import (
    RunCounts,
    check_delivered,
    emit_delivery_events,
    emit_feed_events,
    feed_transitions,
    publish_cycle,
    publish_sharded,
)
from flows.shard import SHARD_DEPLOYMENT, fan_out
from moverwatch.pipeline import replay_settings, run_cycle
from moverwatch.runtime import open_runtime, utcnow


@flow(name="poll-feeds", description="Poll the configured feeds and alert on big moves of watched tickers.")
def poll_feeds(
    config_path: str | None = None,
    shard_size: int = 0,
    shard_deployment: str = SHARD_DEPLOYMENT,
    shard_timeout_s: float = 600.0,
    since: str | None = None,
) -> dict[str, int]:
    """One poll cycle; returns its counts. ``config_path`` None: $MOVERWATCH_CONFIG on the worker, else the
    demo. ``shard_size`` > 0: more feeds than that are fanned out to ``shard_deployment`` runs. ``since``
    (6h, or an ISO time): a replay that alerts only on news published after it."""
    logger = get_run_logger()
    settings = run_settings(config_path)
    if since:
        settings = replay_settings(settings, since, utcnow())
    names = [f.name for f in settings.feeds]
    with (
        core_logs_to(logger),
        open_runtime(settings, console=lambda line: logger.info("ALERT %s", line)) as rt,
    ):
        if shard_size > 0 and len(names) > shard_size:
            counts, delivery = fan_out(rt, config_path, shard_size, shard_deployment, shard_timeout_s, since)
            logger.info(counts.line())
            publish_sharded(counts, delivery)
            emit_delivery_events(delivery)
            check_delivered(counts, delivery)
            return asdict(counts)
        before = rt.store.load_feeds(names)
        report = run_cycle(rt, stage=as_task, logger=logger)
        transitions = feed_transitions(before, rt.store.load_feeds(names))
        counts = RunCounts.of(report)
        logger.info(counts.line())
        publish_cycle(report, counts, rt.store.dead_letters())
    emit_delivery_events(report.delivery)
    emit_feed_events(transitions)
    check_delivered(counts, report.delivery)
    return asdict(counts)
