"""Fairness: one huge feed never stalls the others (parsing runs off the fetch loop at any feed count)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from moverwatch.config import load_settings
from moverwatch.detect import Detector
from moverwatch.notify import Notifier
from moverwatch.state import SQLiteStore

from ..conftest import FEEDS, run_cycle, write_config


def _huge_feed(items: int) -> bytes:
    entry = (
        "<item><title>Story {n}: markets steady as traders await data</title>"
        "<link>https://example.com/story/{n}</link><guid>https://example.com/story/{n}</guid>"
        "<pubDate>Fri, 21 Feb 2025 09:00:00 GMT</pubDate>"
        "<description>" + "<p>Quiet session, nothing moved much. </p>" * 12 + "</description></item>"
    )
    body = "".join(entry.format(n=n) for n in range(items))
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>{body}</channel></rss>'.encode()
    )


def test_a_huge_feed_does_not_make_a_healthy_one_time_out(tmp_path: Path) -> None:
    """A 4 MB feed and a feed answering in 0.3 s with a 1.5 s timeout, few feeds (no process pool): both ok."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        big = _huge_feed(6000)
        assert len(big) > 4_000_000
        server.expect_request("/big.xml").respond_with_data(big, content_type="application/rss+xml")

        def slowish(_req: Request) -> Response:
            time.sleep(0.3)
            return Response((FEEDS / "asiafinancial.xml").read_bytes(), content_type="application/rss+xml")

        server.expect_request("/af.xml").respond_with_handler(slowish)
        cfg = write_config(
            tmp_path / "c.yaml",
            feeds=[
                {"name": "big", "url": server.url_for("/big.xml")},
                {"name": "af", "url": server.url_for("/af.xml")},
            ],
            fetch={"timeout": 1.5, "max_bytes": 10_000_000, "parse_pool_min": 1000},
        )
        settings = load_settings(cfg)
        store = SQLiteStore(tmp_path / "state.db")
        report = run_cycle(
            settings,
            store,
            Detector(settings.load_watchlist()),
            Notifier([]),
            clock=lambda: datetime.now(UTC),
        )
        status = {o.name: (o.status, o.error) for o in report.feeds}
        assert status["af"] == ("ok", None) and status["big"][0] == "ok", status
    finally:
        server.stop()
