"""`moverwatch serve`: the `poll-feeds` flow on its schedule, in this process."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from prefect.settings import PREFECT_API_URL

from flows.poll import poll_feeds
from moverwatch.errors import MoverwatchError


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
