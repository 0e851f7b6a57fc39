"""Article scraping end to end through the pipeline: a feed item too thin to size a move is read from its
article page (served on loopback by the real site adapter); robots.txt and the on/off switch are honoured."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from moverwatch import pipeline
from moverwatch.pipeline import run_cycle
from moverwatch.runtime import open_runtime

from ..conftest import FIXTURES, write_config

PAGE = FIXTURES / "pages" / "asiafinancial_article_alibaba.html"


def _feed(link: str) -> bytes:
    when = format_datetime(datetime.now(UTC))
    return f"""<?xml version="1.0"?><rss version="2.0"><channel><title>AF</title><link>https://example.com</link>
<item><title>Alibaba shares surge as earnings beat</title><link>{link}</link><guid>{link}</guid>
<pubDate>{when}</pubDate><description></description></item></channel></rss>""".encode()


@pytest.fixture(autouse=True)
def fresh_reader() -> None:
    """Each test starts with no cached robots.txt or article (the reader is kept per process)."""
    pipeline._READER = None


def _run(tmp_path: Path, server: HTTPServer, robots: str, **extra: Any) -> list[Any]:
    server.expect_request("/robots.txt").respond_with_data(robots, content_type="text/plain")
    server.expect_request("/feed.xml").respond_with_data(_feed(server.url_for("/markets/alibaba-jumps")))
    server.expect_request("/markets/alibaba-jumps").respond_with_data(
        PAGE.read_bytes(), content_type="text/html"
    )
    lines: list[str] = []
    cfg = write_config(
        tmp_path / "c.yaml",
        feeds=[{"name": "af", "url": server.url_for("/feed.xml"), "site": "asiafinancial"}],
        **extra,
    )
    with open_runtime(cfg, console=lines.append) as rt:
        report = run_cycle(rt)
    return [*((a.symbol, a.direction, a.pct, a.where) for a, _ch in report.delivery.sent), *lines]


def _page_requests(server: HTTPServer) -> int:
    return sum(1 for req, _resp in server.log if req.path == "/markets/alibaba-jumps")


def test_a_thin_item_is_sized_from_its_article_page(tmp_path: Path, httpserver: HTTPServer) -> None:
    """'Alibaba shares surge…' with an empty summary alerts BABA up 14% from the page, saying so."""
    sent = _run(tmp_path, httpserver, "User-agent: *\nAllow: /\n")
    assert ("BABA", "up", 14.0, "body") in sent
    assert any("BABA up 14% (per the article page)" in str(line) for line in sent)
    assert _page_requests(httpserver) == 1


def test_with_scraping_off_the_feed_text_decides(tmp_path: Path, httpserver: HTTPServer) -> None:
    """scrape.enabled false: BABA up with no pct, and the page is never requested."""
    sent = _run(tmp_path, httpserver, "User-agent: *\nAllow: /\n", scrape={"enabled": False})
    assert ("BABA", "up", None, "title") in sent
    assert _page_requests(httpserver) == 0


def test_a_page_robots_txt_disallows_is_not_fetched(tmp_path: Path, httpserver: HTTPServer) -> None:
    """robots.txt disallows the article: no request for it, and the alert still goes out from the feed."""
    sent = _run(tmp_path, httpserver, "User-agent: *\nDisallow: /markets/\n")
    assert ("BABA", "up", None, "title") in sent
    assert _page_requests(httpserver) == 0


def test_catalogue_sources_and_per_ticker_feeds_are_polled(tmp_path: Path, httpserver: HTTPServer) -> None:
    """sources: [asiafinancial] and a watchlist's per_ticker_feeds: [yahoo] become polled feeds (hosts
    rewritten to a loopback server): the Asia Financial and Yahoo BABA copies of one move make one alert."""
    feeds = FIXTURES / "feeds"
    httpserver.expect_request("/feed").respond_with_data((feeds / "asiafinancial.xml").read_bytes())
    httpserver.expect_request("/rss/2.0/headline").respond_with_data(
        (feeds / "yahoo_finance_BABA.xml").read_bytes()
    )
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    watchlist = {
        "per_ticker_feeds": ["yahoo"],
        "tickers": [{"symbol": "BABA", "names": ["Alibaba", "Alibaba Group", "BABA", "9988.HK"]}],
    }
    cfg = write_config(
        tmp_path / "c.yaml",
        sources=["asiafinancial"],
        watchlist=watchlist,
        sources_base_url=httpserver.url_for("/").rstrip("/"),
        max_age="100000d",
        scrape={"enabled": False},
    )
    with open_runtime(cfg, console=lambda _l: None) as rt:
        assert [f.name for f in rt.settings.feeds] == ["asiafinancial", "yahoo:BABA"]
        report = run_cycle(rt)
    assert {o.name: o.status for o in report.feeds} == {"asiafinancial": "ok", "yahoo:BABA": "ok"}
    assert [a.symbol for a, _ch in report.delivery.sent if a.kind == "new"] == ["BABA"]
