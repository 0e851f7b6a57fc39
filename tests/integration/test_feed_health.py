"""Feed health through whole cycles: one "feed down" notice after a long failure, one "recovered" after."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from moverwatch.config import load_settings
from moverwatch.detect import Detector
from moverwatch.notify import Notifier
from moverwatch.state import SQLiteStore

from ..conftest import FEEDS, run_cycle, write_config


def test_feed_down_then_recovered_notices_once_each(tmp_path: Path, httpserver: HTTPServer) -> None:
    """A feed failing past feed_down_after raises one notice; its recovery one more; nothing repeats."""
    state = {"up": False}
    notices: list[dict[str, Any]] = []

    def feed(_req: Request) -> Response:
        if state["up"]:
            return Response(
                (FEEDS / "asiamarketsdigest_syndication.xml").read_bytes(), content_type="application/rss+xml"
            )
        return Response("upstream down", status=503)

    def hook(req: Request) -> Response:
        notices.append(json.loads(req.get_data(as_text=True)))
        return Response("ok")

    httpserver.expect_request("/feed").respond_with_handler(feed)
    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    cfg = write_config(
        tmp_path / "c.yaml",
        feeds=[{"name": "digest", "url": httpserver.url_for("/feed")}],
        channels=[{"url": f"json://127.0.0.1:{httpserver.port}/hook", "name": "hook"}],
        fetch={"feed_down_after": "1h"},
    )
    settings = load_settings(cfg)
    store = SQLiteStore(tmp_path / "state.db")
    detector = Detector(settings.load_watchlist())
    notifier = Notifier(settings.channels)
    t = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for _ in range(8):  # failing for ~8 hours, polled whenever the backoff allows
        run_cycle(settings, store, detector, notifier, clock=lambda t=t: t)
        t += timedelta(hours=1, minutes=1)
    titles = [n["title"] for n in notices]
    assert titles == ["Feed down: digest"]
    assert "503" in notices[0]["message"]
    state["up"] = True
    for _ in range(3):
        run_cycle(settings, store, detector, notifier, clock=lambda t=t: t)
        t += timedelta(hours=7)
    titles = [n["title"] for n in notices]
    assert titles[:2] == ["Feed down: digest", "Feed recovered: digest"]
    assert titles.count("Feed recovered: digest") == 1


def test_same_stories_across_rss_category_and_atom_feeds_count_once(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Polling AF's main RSS, its Markets category feed and its Atom feed stores 20 stories, not 34."""
    feeds = []
    for name in ("asiafinancial.xml", "asiafinancial_markets.xml", "asiafinancial_atom.xml"):
        httpserver.expect_request(f"/{name}").respond_with_data((FEEDS / name).read_bytes())
        feeds.append({"name": name.removesuffix(".xml"), "url": httpserver.url_for(f"/{name}")})
    settings = load_settings(write_config(tmp_path / "c.yaml", feeds=feeds))
    store = SQLiteStore(tmp_path / "state.db")
    report = run_cycle(
        settings, store, Detector(settings.load_watchlist()), Notifier([]), clock=lambda: datetime.now(UTC)
    )
    assert sum(o.items for o in report.feeds) == 34
    assert sum(o.new for o in report.feeds) == 20


def test_gone_feed_is_disabled_until_its_url_is_changed(tmp_path: Path, httpserver: HTTPServer) -> None:
    """A 410 disables the feed (not polled again); editing its URL in the config brings it back."""
    httpserver.expect_request("/old").respond_with_data("gone", status=410)
    httpserver.expect_request("/new").respond_with_data(
        (FEEDS / "asiamarketsdigest_syndication.xml").read_bytes()
    )
    store = SQLiteStore(tmp_path / "state.db")
    t = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def cycle(path: str) -> list[Any]:
        settings = load_settings(
            write_config(tmp_path / "c.yaml", feeds=[{"name": "digest", "url": httpserver.url_for(path)}])
        )
        report = run_cycle(
            settings, store, Detector(settings.load_watchlist()), Notifier([]), clock=lambda: t
        )
        return [(o.status, o.http) for o in report.feeds]

    assert cycle("/old") == [("disabled", 410)]
    assert cycle("/old") == [("disabled", None)]  # skipped, no request
    assert len([r for r, _ in httpserver.log if r.path == "/old"]) == 1
    assert cycle("/new") == [("ok", 200)]


def test_big_cycles_parse_in_a_process_pool_with_the_same_result(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """With the parse pool on (as on a 1,000-feed cycle) the stories and alerts are the same as inline."""
    feeds = []
    for name in ("asiafinancial.xml", "asiafinancial_markets.xml", "asiamarketsdigest_syndication.xml"):
        httpserver.expect_request(f"/{name}").respond_with_data((FEEDS / name).read_bytes())
        feeds.append({"name": name.removesuffix(".xml"), "url": httpserver.url_for(f"/{name}")})
    outcomes = []
    for pool_min in (1, 1000):
        cfg = write_config(
            tmp_path / f"c{pool_min}.yaml",
            feeds=feeds,
            max_age="100000d",
            fetch={"parse_pool_min": pool_min},
            state=f"sqlite:///{tmp_path}/state{pool_min}.db",
        )
        settings = load_settings(cfg)
        store = SQLiteStore(tmp_path / f"state{pool_min}.db")
        report = run_cycle(
            settings,
            store,
            Detector(settings.load_watchlist()),
            Notifier([]),
            clock=lambda: datetime.now(UTC),
        )
        outcomes.append(sorted((a.symbol, a.direction, a.pct) for a, _ in report.enqueued))
    assert outcomes[0] == outcomes[1] and outcomes[0]


def test_crashed_parser_process_costs_one_poll_not_the_cycle() -> None:
    """If a parse worker dies, its feed reports a retryable error and the pool is rebuilt next cycle."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    from moverwatch import pool
    from moverwatch.errors import TransientFeedError
    from moverwatch.models import FetchResult

    parser = pool.Parser(datetime.now(UTC), pooled=False)
    parser.submit(
        FetchResult(
            "f", "http://127.0.0.1:1/f", "http://127.0.0.1:1/f", 200, None, None, None, None, False, None, 1.0
        )
    )
    dead: Future[Any] = Future()
    dead.set_exception(BrokenProcessPool("worker killed"))
    parser._parsed["f"] = dead
    pool._POOL = object()  # type: ignore[assignment]
    _results, [parsed] = parser.results(["f"])
    assert parsed is not None and isinstance(parsed.error, TransientFeedError)
    assert "parser process failed" in str(parsed.error)
    assert pool._POOL is None


def test_google_news_and_yahoo_copies_of_a_move_make_one_alert(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """The same BABA move via Asia Financial, Google News and Yahoo Finance is one alert (plus at most one
    escalation when a later outlet reports it 5 points larger), with the other outlets as 'also reported by'."""
    feeds = []
    for name in ("asiafinancial.xml", "google_news_alibaba.xml", "yahoo_finance_BABA.xml"):
        httpserver.expect_request(f"/{name}").respond_with_data((FEEDS / name).read_bytes())
        feeds.append({"name": name.split(".")[0], "url": httpserver.url_for(f"/{name}")})
    settings = load_settings(write_config(tmp_path / "c.yaml", feeds=feeds, max_age="100000d"))
    store = SQLiteStore(tmp_path / "state.db")
    report = run_cycle(
        settings, store, Detector(settings.load_watchlist()), Notifier([]), clock=lambda: datetime.now(UTC)
    )
    baba = [a for a, _ in report.delivery.sent if a.symbol == "BABA"]
    assert [a.kind for a in baba][:1] == ["new"] and len(baba) <= 2
    assert all(a.kind == "escalation" for a in baba[1:])
    event = store.get_event("BABA|up")
    assert event is not None and len(event.sources) >= 2


def test_big_detection_batches_in_worker_processes_find_the_same_moves() -> None:
    """Detection split over worker processes (as on a cold cycle) gives exactly the inline result."""
    from moverwatch import pool
    from moverwatch.watchlist import load_watchlist
    from scrapers.parse import parse_feed

    from ..conftest import CORPUS

    detector = Detector(load_watchlist(CORPUS / "watchlist.yaml"))
    items = [
        i
        for name in ("asiafinancial.xml", "scmp_business.xml", "google_news_alibaba.xml")
        for i in parse_feed(
            name, "https://example.com/feed", (FEEDS / name).read_bytes(), datetime.now(UTC)
        ).items
    ]
    inline = [
        (i, m) for i, m in zip(items, pool.detect_all(detector, items, pool_min=10**9), strict=True) if m
    ]
    pooled = [(i, m) for i, m in zip(items, pool.detect_all(detector, items, pool_min=1), strict=True) if m]
    assert inline and [(i.guid, m) for i, m in pooled] == [(i.guid, m) for i, m in inline]


def test_feed_warnings_are_shown_once_per_feed_and_kind(
    tmp_path: Path, httpserver: HTTPServer, caplog: Any
) -> None:
    """A malformed feed is reported in the log and in `moverwatch feeds` once per kind, not every cycle."""
    import logging

    from moverwatch.health import health_table

    httpserver.expect_request("/m.xml").respond_with_data(
        (FEEDS / "broken" / "malformed_unclosed.xml").read_bytes()
    )
    settings = load_settings(
        write_config(
            tmp_path / "c.yaml", feeds=[{"name": "mal", "url": httpserver.url_for("/m.xml")}], schedule="1s"
        )
    )
    store = SQLiteStore(tmp_path / "state.db")
    caplog.set_level(logging.WARNING, logger="moverwatch")
    for _ in range(2):
        run_cycle(
            settings,
            store,
            Detector(settings.load_watchlist()),
            Notifier([]),
            clock=lambda: datetime.now(UTC),
        )
    shown = [r.getMessage() for r in caplog.records if "warning:" in r.getMessage()]
    assert any("not well-formed" in m for m in shown)
    assert len(shown) == len(set(shown)), shown  # the second cycle repeats none
    health = store.load_feeds(["mal"])["mal"]
    assert "feed is not well-formed" in health.warnings
    assert "feed is not well-formed" in health_table([("mal", "u", health)])
