"""Polling on time: the cycle scheduled one interval after another finds its feeds due (the poll slack)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer

from moverwatch.config import load_settings
from moverwatch.detect import Detector
from moverwatch.notify import Notifier
from moverwatch.state import SQLiteStore

from .conftest import FEEDS, run_cycle, write_config

SCHEDULED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_two_scheduled_cycles_one_interval_apart_both_poll(tmp_path: Path, httpserver: HTTPServer) -> None:
    """A run that starts 2 s late and the next one, scheduled one interval later, starting only 0.1 s late
    (so it reads the clock earlier in its slot than the first did), both poll the feed: none is 'not_due'."""
    httpserver.expect_request("/af.xml").respond_with_data(
        (FEEDS / "asiafinancial.xml").read_bytes(), content_type="application/rss+xml"
    )
    cfg = write_config(
        tmp_path / "moverwatch.yaml",
        feeds=[{"name": "af", "url": httpserver.url_for("/af.xml")}],
        schedule="5m",
    )
    settings = load_settings(cfg)
    store = SQLiteStore(tmp_path / "state.db")
    detector = Detector(settings.load_watchlist())
    notifier = Notifier((), console=lambda _line: None)
    starts = [SCHEDULED + timedelta(seconds=2), SCHEDULED + timedelta(minutes=5, seconds=0.1)]
    statuses = []
    try:
        for start in starts:
            report = run_cycle(settings, store, detector, notifier, clock=lambda start=start: start)
            statuses.append([o.status for o in report.feeds])
    finally:
        store.close()
    assert statuses == [["ok"], ["not_modified"]]  # polled both times (the body had not changed)
    assert len(httpserver.log) == 2
