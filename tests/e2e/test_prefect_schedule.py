"""Polling on time and replays: the cycle scheduled one interval after another finds its feeds due (the poll
slack); `moverwatch run --since` after an outage alerts only on news published after the given time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from moverwatch.cli import app
from moverwatch.config import load_settings
from moverwatch.detect import Detector
from moverwatch.notify import Notifier
from moverwatch.state import SQLiteStore

from ..conftest import FEEDS, Webhook, run_cycle, write_config

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


def test_run_since_alerts_only_news_after_it_and_records_the_rest(
    tmp_path: Path, httpserver: HTTPServer, webhook: Webhook
) -> None:
    """`moverwatch run --since T` on a feed full of unseen news alerts only items published after T, marks
    the older ones seen (a later plain run sends none of them), and rejects a time in the future."""
    httpserver.expect_request("/af.xml").respond_with_data(
        (FEEDS / "asiafinancial.xml").read_bytes(), content_type="application/rss+xml"
    )
    cfg = write_config(
        tmp_path / "moverwatch.yaml",
        feeds=[{"name": "af", "url": httpserver.url_for("/af.xml")}],
        channels=[{"url": webhook.url()}],
        max_age="100000d",
    )
    everything = tmp_path / "all.yaml"
    everything.write_text(cfg.read_text().replace("state.db", "state-all.db"))
    runner = CliRunner()
    assert runner.invoke(app, ["run", "-c", str(everything)]).exit_code == 0
    all_moves = webhook.moves()
    webhook.messages.clear()
    # The seed story (BABA up 14%) is dated 2025-02-21 09:45Z; the replay starts after it.
    result = runner.invoke(app, ["run", "-c", str(cfg), "--since", "2025-02-21T10:00:00+00:00"])
    assert result.exit_code == 0, result.output
    replayed = webhook.moves()
    assert "BABA ▲" in all_moves and "BABA ▲" not in replayed and len(replayed) < len(all_moves)
    assert runner.invoke(app, ["run", "-c", str(cfg)]).exit_code == 0
    assert webhook.moves() == replayed  # the older news was recorded as seen, not held back
    bad = runner.invoke(app, ["run", "-c", str(cfg), "--since", "2999-01-01T00:00:00+00:00"])
    assert bad.exit_code == 2 and "not in the past" in " ".join(bad.output.replace("│", " ").split())
