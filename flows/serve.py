"""`moverwatch serve`: `poll-feeds` and `deliver-outbox` on their schedules, in this process.

The served deployments are named ``serve`` (``poll-feeds/serve``, ``deliver-outbox/serve``), apart from the
work-pool deployments of deploy/prefect.yaml (``…/pool``): one never overwrites the other, and stopping
``serve`` pauses only its own.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import cast

from prefect import serve as prefect_serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.settings import PREFECT_API_URL

from flows.deliver import deliver_outbox
from flows.poll import poll_feeds
from moverwatch.errors import MoverwatchError

SERVED = "serve"
DELIVER_EVERY = timedelta(minutes=1)
TAGS = ["moverwatch", "serve"]


def serve(config_path: str | None, interval: timedelta) -> None:
    """Run the flows on their schedules in this process until interrupted.

    With a Prefect server (PREFECT_API_URL set) the server schedules the served deployments and runs show
    in its UI. Without one, Prefect's ephemeral API cannot schedule, so we run the poll flow every
    `interval` ourselves (it delivers too): each cycle is still a flow run with its task runs and logs.
    """
    if PREFECT_API_URL.value():
        one_at_a_time = ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        )
        # In a sync context to_deployment returns the deployment itself, not a coroutine.
        prefect_serve(
            cast(
                RunnerDeployment,
                poll_feeds.to_deployment(
                    name=SERVED,
                    interval=interval,
                    parameters={"config_path": config_path},
                    concurrency_limit=one_at_a_time,
                    tags=TAGS,
                ),
            ),
            cast(
                RunnerDeployment,
                deliver_outbox.to_deployment(
                    name=SERVED,
                    interval=DELIVER_EVERY,
                    parameters={"config_path": config_path},
                    concurrency_limit=one_at_a_time,
                    tags=TAGS,
                ),
            ),
        )
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
