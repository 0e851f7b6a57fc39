"""Scale-out: the flow `poll-shard` polls a given subset of the feeds (fetch → parse → detect → claim →
record health, the pipeline's own stages) on whichever worker of the pool picks it up.

``fan_out`` is the parent's side (``poll-feeds`` with ``shard_size``): it plans which feeds are due, starts
one ``poll-shard`` run per ``shard_size`` of them through ``run_deployment`` (so the work pool, its workers
and its concurrency apply), waits for them, then delivers the outbox once. The Redis claims keep every
alert single whichever shard saw the story first; the outbox stream hands each delivery to one consumer.
A shard returns its counts in its final state's message (``feeds=… new=… alerts=…``), which needs no shared
result storage between hosts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, cast

from prefect import flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, State
from prefect.deployments import run_deployment
from prefect.states import Completed

from flows.common import as_task, core_logs_to, run_settings
from flows.report import RunCounts, emit_feed_events, feed_transitions, publish_cycle
from moverwatch.errors import MoverwatchError
from moverwatch.outbox import DeliveryReport
from moverwatch.pipeline import deliver_due, plan, replay_settings, run_cycle
from moverwatch.runtime import Runtime, open_runtime, utcnow

SHARD_DEPLOYMENT = "poll-shard/pool"


def _no_delivery(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A shard's stages: every stage of the cycle but delivery, which the parent run does once for all."""
    if name in ("deliver-alerts", "deliver-scraped"):
        return lambda *_args: DeliveryReport()
    return as_task(name, fn)


@flow(name="poll-shard", description="Poll a subset of the feeds (a shard of poll-feeds); no delivery.")
def poll_shard(feeds: list[str], config_path: str | None = None, since: str | None = None) -> State[Any]:
    """Fetch, parse, detect and claim for the named feeds; the final state's message holds the counts."""
    logger = get_run_logger()
    settings = run_settings(config_path, feeds)
    if since:
        settings = replay_settings(settings, since, utcnow())
    names = [f.name for f in settings.feeds]
    with core_logs_to(logger), open_runtime(settings) as rt:
        before = rt.store.load_feeds(names)
        report = run_cycle(rt, stage=_no_delivery, logger=logger)
        transitions = feed_transitions(before, rt.store.load_feeds(names))
        counts = RunCounts.of(report)
        logger.info(counts.line())
        publish_cycle(report, counts, [])
    emit_feed_events(transitions)
    return Completed(message=counts.line(), data=asdict(counts))


def fan_out(
    rt: Runtime,
    config_path: str | None,
    shard_size: int,
    deployment: str,
    timeout_s: float,
    since: str | None = None,
) -> tuple[RunCounts, DeliveryReport]:
    """Poll the due feeds in shards on the work pool, then deliver; the counts of all shards and delivery."""
    logger = get_run_logger()
    due, _health, skipped = plan(rt, rt.clock())
    shards = [due[i : i + shard_size] for i in range(0, len(due), shard_size)]
    logger.info("%d due feeds in %d shards of up to %d (%s)", len(due), len(shards), shard_size, deployment)
    started = [
        cast(
            FlowRun,
            run_deployment(
                deployment,
                parameters={"feeds": shard, "config_path": config_path, "since": since},
                timeout=0,
                flow_run_name=f"shard-{i + 1}-of-{len(shards)}[{len(shard)} feeds]",
            ),
        )  # a sync flow: the FlowRun itself, not a coroutine
        for i, shard in enumerate(shards)
    ]
    finished = _wait(started, timeout_s)
    counts = RunCounts(feeds=len(skipped))
    problems = []
    for run in started:
        done = finished.get(run.id)
        if done is None or done.state is None or not done.state.is_completed():
            state = done.state.name if done and done.state else "not finished"
            problems.append(f"{run.name}: {state}")
            continue
        counts = counts + RunCounts.parse(done.state.message)
    delivery: DeliveryReport = as_task("deliver-alerts", deliver_due)(rt, rt.clock())
    counts = counts + RunCounts(
        sent=len(delivery.sent),
        failed=len(delivery.failed),
        pending=rt.store.pending_count(),
        dead=len(rt.store.dead_letters()),
    )
    if problems:
        # Delivered first: the shards that did finish have their alerts out. The others' feeds stay due.
        raise ShardError(f"{len(problems)} of {len(shards)} shards did not complete: {'; '.join(problems)}")
    return counts, delivery


def _wait(runs: list[FlowRun], timeout_s: float) -> dict[Any, FlowRun]:
    """Poll the runs until each is final or the timeout passes; the final ones by id."""
    final: dict[Any, FlowRun] = {}
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while len(final) < len(runs) and time.monotonic() < deadline:
            for r in runs:
                if r.id not in final:
                    fr = client.read_flow_run(r.id)
                    if fr.state is not None and fr.state.is_final():
                        final[r.id] = fr
            if len(final) < len(runs):
                time.sleep(1.0)
    return final


class ShardError(MoverwatchError):
    """A shard run failed, crashed or did not finish in time (its feeds are polled again next cycle)."""
