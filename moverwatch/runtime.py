"""The one wiring: settings → watchlist → state store → detector → notifier, opened and closed together.

The CLI, the Prefect flows and the benchmarks all get their runtime here, so a new dependency of the cycle
is added once and none of them can miss it.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from moverwatch.config import Settings, load_settings
from moverwatch.detect import Detector
from moverwatch.notify import Notifier
from moverwatch.state import StateStore, open_store, store_was_wiped
from moverwatch.watchlist import Ticker, Watchlist

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def worker_id() -> str:
    """A name for this process in the outbox consumer group."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class Runtime:
    """What a cycle runs with: the settings and the live objects built from them."""

    settings: Settings
    watchlist: Watchlist
    store: StateStore
    detector: Detector
    notifier: Notifier
    clock: Clock = utcnow
    worker: str = field(default_factory=worker_id)
    # This cycle records what the feeds hold as seen and alerts nothing (the shared store was wiped).
    reseed: bool = False

    @cached_property
    def tickers(self) -> dict[str, Ticker]:
        """Watched tickers by symbol (routing tags and display names of alerts)."""
        return self.watchlist.by_symbol()


@contextmanager
def open_runtime(
    config: Settings | str | Path | None = None,
    *,
    console: Callable[[str], None] | None = None,
    clock: Clock = utcnow,
    worker: str | None = None,
) -> Iterator[Runtime]:
    """Load the config (a path, loaded settings, or None for the bundled demo) and open everything a cycle
    needs; the state store is closed on exit. ``console`` receives alerts when no channel is configured."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    watchlist = settings.load_watchlist()
    settings = settings.expanded(watchlist)
    if any(f.site for f in settings.feeds):
        from scrapers.sites import adapter_for  # bs4 loads only for configs that scrape

        for f in settings.feeds:
            if f.site:
                adapter_for(f.site)  # an unknown site adapter is a config error before any work
    detector = Detector(watchlist)
    notifier = Notifier(
        settings.channels,
        console=console,
        timezones=watchlist.timezones(),
        timeout_s=settings.delivery.timeout.total_seconds(),
    )
    store = open_store(settings.state_url(), settings.redis_prefix)
    try:
        reseed = store_was_wiped(store, Path(settings.cache_dir).expanduser() / "store-generations.json")
        if reseed and settings.on_state_loss == "reseed":
            log.warning(
                "state store %s was wiped since its last use: this cycle marks what the feeds hold as seen and "
                "alerts nothing (on_state_loss: alert to alert instead)",
                store.where(),
            )
        rt = Runtime(settings, watchlist, store, detector, notifier, clock, worker or worker_id())
        rt.reseed = reseed and settings.on_state_loss == "reseed"
        yield rt
    finally:
        store.close()
