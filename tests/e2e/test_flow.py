"""End to end: feeds on a local HTTP server → the real Prefect flow → a local webhook, on both stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from prefect.testing.utilities import prefect_test_harness
from pytest_httpserver import HTTPServer

from flows.poll import poll_feeds
from moverwatch import pipeline

from ..conftest import FEEDS, FIXTURES, Webhook, write_config

# Feed fixtures are dated February 2025: a max_age this long keeps them alertable in tests.
EVER = "100000d"


@pytest.fixture(scope="session", autouse=True)
def prefect_api() -> Iterator[None]:
    """One ephemeral Prefect API for the whole session (it costs ~10 s to start)."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def feed_server(httpserver: HTTPServer) -> HTTPServer:
    """Asia Financial's feed and a blog that syndicates the same story under another URL."""
    for path, name in [
        ("/af.xml", "asiafinancial.xml"),
        ("/digest.xml", "asiamarketsdigest_syndication.xml"),
    ]:
        httpserver.expect_request(path).respond_with_data(
            (FEEDS / name).read_bytes(), content_type="application/rss+xml"
        )
    return httpserver


def _config(tmp_path: Path, feed_server: HTTPServer, webhook: Webhook, state: str, **extra: Any) -> str:
    return str(
        write_config(
            tmp_path / "moverwatch.yaml",
            feeds=[
                {"name": "asiafinancial", "url": feed_server.url_for("/af.xml")},
                {"name": "asiamarketsdigest", "url": feed_server.url_for("/digest.xml")},
            ],
            channels=[{"url": webhook.url(), "name": "desk-hook"}],
            state=state,
            max_age=EVER,
            **extra,
        )
    )


@pytest.fixture(params=["redis", "sqlite"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "redis":
        return {
            "state": request.getfixturevalue("redis_url"),
            "redis_prefix": request.getfixturevalue("redis_prefix"),
        }
    return {"state": f"sqlite:///{tmp_path}/state.db"}


def test_flow_alerts_each_move_once_and_nothing_on_rerun(
    tmp_path: Path, feed_server: HTTPServer, webhook: Webhook, state: dict[str, str]
) -> None:
    """The seed story alerts BABA up 14% once, every move once, and a second run sends nothing."""
    cfg = _config(tmp_path, feed_server, webhook, state.pop("state"), **state)
    counts = poll_feeds(cfg)
    moves = webhook.moves()
    assert counts["sent"] == len(moves) > 0
    # The big single-stock moves of the fixture's ground truth (expected.json) are all alerted.
    for expected in ["BABA ▲", "0992.HK ▲", "000660.KS ▲", "NIO ▼"]:
        assert expected in moves
    assert len(moves) == len(set(moves)), f"a move was alerted twice: {moves}"
    baba = next(m for m in webhook.messages if m["title"].startswith("BABA ▲"))
    assert baba["title"].startswith("BABA ▲ 14%")
    assert "https://www.asiafinancial.com/alibaba-shares-jump-14" in baba["message"]

    again = poll_feeds(cfg)
    assert again["sent"] == 0 and again["new"] == 0
    assert webhook.moves() == moves


def test_syndicated_copy_is_not_a_second_alert(
    tmp_path: Path, feed_server: HTTPServer, webhook: Webhook, redis_url: str, redis_prefix: str
) -> None:
    """The same story republished under another URL by another outlet does not alert again."""
    cfg = _config(tmp_path, feed_server, webhook, redis_url, redis_prefix=redis_prefix)
    poll_feeds(cfg)
    assert webhook.moves().count("BABA ▲") == 1
    baba = next(m for m in webhook.messages if m["title"].startswith("BABA ▲"))
    # The first outlet (Asia Financial, 09:45Z) is alerted, not the blog that copied it at 10:20Z.
    assert "asiafinancial.com" in baba["message"]
    assert "asiamarketsdigest" not in baba["message"]


def test_old_items_are_recorded_but_not_alerted(
    tmp_path: Path, feed_server: HTTPServer, webhook: Webhook
) -> None:
    """A first run on a feed full of old news (older than max_age) does not flood the channel."""
    cfg = _config(tmp_path, feed_server, webhook, f"sqlite:///{tmp_path}/state.db")
    Path(cfg).write_text(Path(cfg).read_text().replace(f"max_age: {EVER}", "max_age: 24h"))
    counts = poll_feeds(cfg)
    assert counts["new"] > 0 and counts["sent"] == 0
    assert poll_feeds(cfg)["new"] == 0


def test_channel_url_from_prefect_secret_block(
    tmp_path: Path, feed_server: HTTPServer, webhook: Webhook
) -> None:
    """A channel named by a Prefect Secret block gets alerts; the URL never sits in the config file."""
    from prefect.blocks.system import Secret

    Secret(value=webhook.url()).save("mw-test-hook", overwrite=True)
    cfg = Path(_config(tmp_path, feed_server, webhook, f"sqlite:///{tmp_path}/state.db"))
    cfg.write_text(cfg.read_text().replace(f"url: {webhook.url()}", "secret_block: mw-test-hook"))
    assert webhook.url() not in cfg.read_text()
    counts = poll_feeds(str(cfg))
    assert counts["sent"] == len(webhook.messages) > 0


def test_run_whose_every_send_fails_ends_failed_and_says_why(
    tmp_path: Path, feed_server: HTTPServer, make_webhook: Any
) -> None:
    """Every send failing makes the run Failed with the reason; the delivery warnings and the summary line
    are in the run's own log; the summary artifact is keyed by the flow."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        LogFilter,
        LogFilterFlowRunId,
    )

    hook = make_webhook(failures=10_000)
    cfg = _config(tmp_path, feed_server, hook, f"sqlite:///{tmp_path}/state.db")
    state = poll_feeds(cfg, return_state=True)
    assert state.is_failed()
    assert "every send failed" in (state.message or "") and "500" in (state.message or "")
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 20
        while True:  # the API log handler ships logs in batches, a moment after the run ends
            logs = [
                log.message
                for log in client.read_logs(
                    log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), limit=200
                )
            ]
            if any(m.startswith("feeds=") for m in logs) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        summary = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["poll-feeds-summary"])), limit=200
        )
    assert any(m.startswith("moverwatch.outbox.deliver: alert ") and "failed" in m for m in logs), logs
    assert any(m.startswith("feeds=2 new=") and " sent=0 failed=" in m for m in logs), logs
    mine = [a for a in summary if a.flow_run_id == run_id]
    assert mine and "## Failing feeds" in str(mine[0].data) and "sent=0" in (mine[0].description or "")


# ------------------------------------------------------------------ article scraping through the flow
SCRAPE_PAGE = FIXTURES / "pages" / "asiafinancial_article_alibaba.html"


def _thin_feed(link: str) -> bytes:
    """One fresh item naming BABA with a move word but no size, and an empty summary."""
    when = format_datetime(datetime.now(UTC))
    return f"""<?xml version="1.0"?><rss version="2.0"><channel><title>AF</title><link>https://example.com</link>
<item><title>Alibaba shares surge as earnings beat</title><link>{link}</link><guid>{link}</guid>
<pubDate>{when}</pubDate><description></description></item></channel></rss>""".encode()


def _scrape_flow(
    tmp_path: Path, server: HTTPServer, webhook: Webhook, robots: str, **extra: Any
) -> tuple[dict[str, int], int]:
    """poll_feeds over a thin feed whose article page is on the same loopback server; counts, page hits."""
    pipeline._READER = None  # no robots.txt or article cached from an earlier test in this process
    server.expect_request("/robots.txt").respond_with_data(robots, content_type="text/plain")
    server.expect_request("/thin.xml").respond_with_data(
        _thin_feed(server.url_for("/markets/alibaba-jumps")), content_type="application/rss+xml"
    )
    server.expect_request("/markets/alibaba-jumps").respond_with_data(
        SCRAPE_PAGE.read_bytes(), content_type="text/html"
    )
    cfg = write_config(
        tmp_path / "moverwatch.yaml",
        feeds=[{"name": "af", "url": server.url_for("/thin.xml"), "site": "asiafinancial"}],
        channels=[{"url": webhook.url(), "name": "desk-hook"}],
        state=f"sqlite:///{tmp_path}/state.db",
        **extra,
    )
    counts = poll_feeds(str(cfg))
    return counts, sum(1 for req, _resp in server.log if req.path == "/markets/alibaba-jumps")


def test_flow_sizes_a_thin_item_from_its_article_page(
    tmp_path: Path, httpserver: HTTPServer, webhook: Webhook
) -> None:
    """An empty-summary 'Alibaba shares surge…' alerts BABA up 14% through the flow, from the page."""
    counts, page_hits = _scrape_flow(tmp_path, httpserver, webhook, "User-agent: *\nAllow: /\n")
    assert webhook.moves() == ["BABA ▲"] and counts["sent"] == 1
    (alert,) = webhook.messages
    assert alert["title"].startswith("BABA ▲ 14%")
    assert "size per the article page" in alert["message"]
    assert page_hits == 1


def test_flow_with_scraping_off_alerts_from_the_feed_text(
    tmp_path: Path, httpserver: HTTPServer, webhook: Webhook
) -> None:
    """scrape.enabled false: the flow alerts BABA up with no size, and never requests the page."""
    counts, page_hits = _scrape_flow(
        tmp_path, httpserver, webhook, "User-agent: *\nAllow: /\n", scrape={"enabled": False}
    )
    (alert,) = webhook.messages
    assert alert["title"].startswith("BABA ▲") and "%" not in alert["title"]
    assert counts["sent"] == 1 and page_hits == 0


def test_flow_does_not_fetch_a_page_robots_txt_disallows(
    tmp_path: Path, httpserver: HTTPServer, webhook: Webhook
) -> None:
    """robots.txt disallows the article: the flow never requests it and alerts from the feed text."""
    counts, page_hits = _scrape_flow(tmp_path, httpserver, webhook, "User-agent: *\nDisallow: /markets/\n")
    (alert,) = webhook.messages
    assert alert["title"].startswith("BABA ▲") and "%" not in alert["title"]
    assert counts["sent"] == 1 and page_hits == 0
