"""Concurrent feed fetching against a real HTTP server on loopback (pytest-httpserver)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from moverwatch.errors import BlockedFeedError, PermanentFeedError, TransientFeedError
from scrapers.fetch import FeedRequest, FetchResult, FetchSettings, fetch_feeds_sync, parse_retry_after

FIXTURES = Path(__file__).parent.parent / "fixtures" / "feeds"
FEED = (FIXTURES / "asiafinancial.xml").read_bytes()
CHALLENGE = (FIXTURES / "broken" / "cloudflare_challenge.html").read_bytes()
FAST = FetchSettings(timeout_s=5)


@pytest.fixture(scope="module")
def make_httpserver() -> Iterator[HTTPServer]:
    """A threaded server for this module, so concurrent and slow requests are served concurrently."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def fetch_one(req: FeedRequest, settings: FetchSettings = FAST) -> FetchResult:
    (result,) = fetch_feeds_sync([req], settings)
    return result


def test_200_then_304_with_etag(httpserver: HTTPServer) -> None:
    """A feed answered with an ETag is asked again with If-None-Match, and 304 means not modified."""
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    httpserver.expect_request("/feed").respond_with_data(
        FEED, content_type="application/rss+xml", headers={"ETag": '"v1"'}
    )
    url = httpserver.url_for("/feed")
    first = fetch_one(FeedRequest("af", url))
    assert first.error is None and first.status == 200 and first.body == FEED
    assert first.etag == '"v1"' and first.body_hash == hashlib.sha256(FEED).hexdigest()
    assert first.content_type == "application/rss+xml" and not first.not_modified

    second = fetch_one(FeedRequest("af", url, etag=first.etag, body_hash=first.body_hash))
    assert second.status == 304 and second.not_modified and second.body is None and second.error is None
    assert second.etag == '"v1"'  # kept for the next poll
    request, _ = httpserver.log[-1]
    assert request.headers["If-None-Match"] == '"v1"'


def test_last_modified_is_sent_as_if_modified_since(httpserver: HTTPServer) -> None:
    """A remembered Last-Modified goes out as If-Modified-Since; 304 means not modified."""
    stamp = "Fri, 21 Feb 2025 10:42:17 GMT"
    httpserver.expect_request("/feed", headers={"If-Modified-Since": stamp}).respond_with_data("", status=304)
    httpserver.expect_request("/feed").respond_with_data(FEED, headers={"Last-Modified": stamp})
    url = httpserver.url_for("/feed")
    first = fetch_one(FeedRequest("af", url))
    assert first.last_modified == stamp and first.body == FEED
    second = fetch_one(FeedRequest("af", url, last_modified=first.last_modified))
    assert second.not_modified and second.status == 304
    assert httpserver.log[-1][0].headers["If-Modified-Since"] == stamp


def test_unchanged_body_hash_counts_as_not_modified(httpserver: HTTPServer) -> None:
    """A server that ignores conditional GET but sends the same bytes costs no parsing: not_modified."""
    httpserver.expect_request("/feed").respond_with_data(FEED)
    url = httpserver.url_for("/feed")
    first = fetch_one(FeedRequest("af", url))
    second = fetch_one(FeedRequest("af", url, body_hash=first.body_hash))
    assert second.status == 200 and second.not_modified and second.body is None
    assert second.body_hash == first.body_hash


def test_410_disables_the_feed(httpserver: HTTPServer) -> None:
    """410 Gone is a permanent error whose reason says the feed is disabled."""
    httpserver.expect_request("/feed").respond_with_data("gone", status=410)
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")))
    assert isinstance(result.error, PermanentFeedError)
    assert "gone (410): feed disabled" in result.error.reason
    assert result.error.status == 410 and result.body is None


def test_404_is_permanent(httpserver: HTTPServer) -> None:
    """404 is a permanent (not blocked, not transient) error naming the feed and URL."""
    httpserver.expect_request("/feed").respond_with_data("nope", status=404)
    url = httpserver.url_for("/feed")
    result = fetch_one(FeedRequest("af", url))
    assert type(result.error) is PermanentFeedError and result.status == 404
    assert "404" in str(result.error) and url in str(result.error) and "'af'" in str(result.error)


def test_429_with_retry_after_seconds(httpserver: HTTPServer) -> None:
    """429 is transient and carries the server's Retry-After in seconds."""
    httpserver.expect_request("/feed").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")))
    assert isinstance(result.error, TransientFeedError)
    assert result.retry_after_s == 120.0
    assert "429" in result.error.reason and "will retry in 2 min" in result.error.reason


def test_503_with_retry_after_http_date(httpserver: HTTPServer) -> None:
    """A 5xx with an HTTP-date Retry-After is transient and the date becomes seconds from now."""
    later = format_datetime(datetime.now(UTC) + timedelta(minutes=10), usegmt=True)
    httpserver.expect_request("/feed").respond_with_data("down", status=503, headers={"Retry-After": later})
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")))
    assert isinstance(result.error, TransientFeedError) and result.status == 503
    assert result.retry_after_s is not None and 500 < result.retry_after_s <= 600


def test_500_is_transient(httpserver: HTTPServer) -> None:
    """500 is a transient error with no Retry-After, retried on a later poll."""
    httpserver.expect_request("/feed").respond_with_data("boom", status=500)
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")))
    assert isinstance(result.error, TransientFeedError) and result.retry_after_s is None
    assert "500" in result.error.reason and "later poll" in result.error.reason


@pytest.mark.parametrize("header", [{"cf-mitigated": "challenge"}, {}])
def test_403_cloudflare_challenge_is_blocked(httpserver: HTTPServer, header: dict[str, str]) -> None:
    """403 with cf-mitigated, or with a "Just a moment..." page, is a bot challenge: BlockedFeedError."""
    httpserver.expect_request("/feed").respond_with_data(
        CHALLENGE, status=403, content_type="text/html", headers=header
    )
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")))
    assert isinstance(result.error, BlockedFeedError)
    assert "blocked by a bot challenge (Cloudflare)" in result.error.reason
    assert result.body is None


def test_plain_403_is_permanent_not_blocked(httpserver: HTTPServer) -> None:
    """A 403 without challenge markers is an ordinary permanent error."""
    httpserver.expect_request("/feed").respond_with_data("forbidden", status=403)
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")))
    assert type(result.error) is PermanentFeedError


def test_empty_200_is_an_error(httpserver: HTTPServer) -> None:
    """200 with a 0-byte body is a failure, not an empty feed."""
    httpserver.expect_request("/feed").respond_with_data(b"")
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")))
    assert isinstance(result.error, PermanentFeedError)
    assert "empty response (0 bytes)" in result.error.reason


@pytest.mark.parametrize("compressed", [False, True])
def test_oversize_body_is_refused(httpserver: HTTPServer, compressed: bool) -> None:
    """A body over max_bytes is refused, counting decoded bytes so a gzip bomb is cut off too."""
    big = b"<rss>" + b"x" * 50_000 + b"</rss>"
    if compressed:
        httpserver.expect_request("/feed").respond_with_data(
            gzip.compress(big), headers={"Content-Encoding": "gzip"}
        )
    else:
        httpserver.expect_request("/feed").respond_with_data(big)
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")), FetchSettings(max_bytes=10_000))
    assert isinstance(result.error, PermanentFeedError)
    assert "response larger than 10000 bytes" in result.error.reason
    assert result.body is None


def test_gzip_body_is_decoded(httpserver: HTTPServer) -> None:
    """A gzip-encoded feed arrives decoded, and its hash is of the decoded bytes."""
    httpserver.expect_request("/feed").respond_with_data(
        gzip.compress(FEED), headers={"Content-Encoding": "gzip"}
    )
    result = fetch_one(FeedRequest("af", httpserver.url_for("/feed")))
    assert result.body == FEED and result.body_hash == hashlib.sha256(FEED).hexdigest()


def test_slow_server_times_out(httpserver: HTTPServer) -> None:
    """A server slower than timeout_s gives a transient error naming the timeout, without waiting it out."""

    def slow(_: Request) -> Response:
        time.sleep(1.5)
        return Response(FEED)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.perf_counter()
    result = fetch_one(FeedRequest("af", httpserver.url_for("/slow")), FetchSettings(timeout_s=0.5))
    assert time.perf_counter() - started < 1.4
    assert isinstance(result.error, TransientFeedError)
    assert "timed out" in result.error.reason


def test_connection_refused_is_transient() -> None:
    """A closed port gives a transient error naming the connection failure."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch_one(FeedRequest("down", f"http://127.0.0.1:{port}/feed"))
    assert isinstance(result.error, TransientFeedError)
    assert "connection failed" in result.error.reason and result.status is None


def test_invalid_url_is_permanent() -> None:
    """A URL httpx cannot fetch (wrong scheme) is a permanent configuration error."""
    result = fetch_one(FeedRequest("bad", "ftp://example.invalid/feed"))
    assert isinstance(result.error, PermanentFeedError)


def test_permanent_redirect_reports_moved_to(httpserver: HTTPServer) -> None:
    """A 301/308 chain is followed and its target reported in moved_to so the stored URL is updated."""
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/newer"})
    httpserver.expect_request("/newer").respond_with_data("", status=308, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data(FEED)
    result = fetch_one(FeedRequest("af", httpserver.url_for("/old")))
    assert result.error is None and result.body == FEED
    assert result.moved_to == httpserver.url_for("/new") == result.final_url
    assert result.url == httpserver.url_for("/old")


def test_temporary_redirect_keeps_the_url(httpserver: HTTPServer) -> None:
    """A 302 is followed but not remembered: moved_to stays None."""
    httpserver.expect_request("/old").respond_with_data("", status=302, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data(FEED)
    result = fetch_one(FeedRequest("af", httpserver.url_for("/old")))
    assert result.body == FEED and result.moved_to is None
    assert result.final_url == httpserver.url_for("/new")


def test_user_agent_is_sent(httpserver: HTTPServer) -> None:
    """Requests identify themselves; a per-feed user agent overrides the default."""
    httpserver.expect_request("/feed").respond_with_data(FEED)
    url = httpserver.url_for("/feed")
    fetch_one(FeedRequest("af", url))
    assert httpserver.log[-1][0].headers["User-Agent"] == FetchSettings().user_agent
    fetch_one(FeedRequest("af", url, user_agent="custom/1.0"))
    assert httpserver.log[-1][0].headers["User-Agent"] == "custom/1.0"


def test_credentials_in_the_url_are_sent_as_basic_auth(httpserver: HTTPServer) -> None:
    """A private feed configured as https://user:pass@host/... authenticates with HTTP Basic."""
    httpserver.expect_request("/private").respond_with_data(FEED)
    url = httpserver.url_for("/private").replace("http://", "http://reader:s3cret@")
    assert fetch_one(FeedRequest("af", url)).body == FEED
    assert httpserver.log[-1][0].authorization.parameters == {"username": "reader", "password": "s3cret"}


def test_a_configured_proxy_is_used(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """With HTTP_PROXY set (a desk behind a corporate proxy), feeds are fetched through it."""
    for var in ("NO_PROXY", "no_proxy", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{httpserver.port}")
    httpserver.expect_request("/rss").respond_with_data(FEED)
    # .invalid never resolves: only the proxy can answer this request.
    result = fetch_one(FeedRequest("af", "http://feeds.example.invalid/rss"))
    assert result.error is None and result.body == FEED
    assert httpserver.log[-1][0].headers["Host"] == "feeds.example.invalid"


def test_unchanged_feeds_reuse_connections() -> None:
    """A quiet cycle of 304s keeps its connections alive: 40 feeds on one host cost per_host connections."""
    peers: set[int] = set()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            peers.add(self.client_address[1])
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        reqs = [FeedRequest(f"f{i}", f"{base}/feed/{i}", etag='"v1"') for i in range(40)]
        results = fetch_feeds_sync(reqs, FetchSettings(timeout_s=5, concurrency=8, per_host=2))
    finally:
        server.shutdown()
        server.server_close()
    assert all(r.not_modified and r.error is None for r in results)
    assert len(peers) <= 2, f"{len(peers)} connections for 40 requests"


def test_one_broken_feed_does_not_stop_the_others(httpserver: HTTPServer) -> None:
    """Good feeds succeed around failing ones, results keep the request order, on_done sees each once."""
    httpserver.expect_request("/good").respond_with_data(FEED)
    httpserver.expect_request("/bad").respond_with_data("boom", status=500)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/feed"
    requests = [
        FeedRequest("good1", httpserver.url_for("/good")),
        FeedRequest("bad", httpserver.url_for("/bad")),
        FeedRequest("down", closed),
        FeedRequest("good2", httpserver.url_for("/good")),
    ]
    done: list[str] = []
    results = fetch_feeds_sync(requests, FAST, on_done=lambda r: done.append(r.name))
    assert [r.name for r in results] == ["good1", "bad", "down", "good2"]
    assert results[0].body == FEED and results[3].body == FEED
    assert isinstance(results[1].error, TransientFeedError) and isinstance(
        results[2].error, TransientFeedError
    )
    assert sorted(done) == sorted(r.name for r in requests)


def test_failing_progress_callback_does_not_lose_results(httpserver: HTTPServer) -> None:
    """An exception in on_done is logged, and the batch still returns every result."""
    httpserver.expect_request("/good").respond_with_data(FEED)

    def explode(_: FetchResult) -> None:
        raise RuntimeError("display broke")

    results = fetch_feeds_sync([FeedRequest("a", httpserver.url_for("/good"))], FAST, on_done=explode)
    assert results[0].body == FEED


class _Gauge:
    """Counts requests in flight inside the server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0

    def handler(self, _: Request) -> Response:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(0.15)
        with self.lock:
            self.active -= 1
        return Response(FEED)


@pytest.mark.parametrize(
    ("settings", "bound"),
    [(FetchSettings(concurrency=32, per_host=2), 2), (FetchSettings(concurrency=3, per_host=32), 3)],
    ids=["per_host", "global"],
)
def test_concurrency_bounds_are_respected(
    httpserver: HTTPServer, settings: FetchSettings, bound: int
) -> None:
    """No more than per_host requests hit one host, and no more than concurrency run overall."""
    gauge = _Gauge()
    httpserver.expect_request("/feed").respond_with_handler(gauge.handler)
    requests = [FeedRequest(f"f{i}", httpserver.url_for("/feed")) for i in range(8)]
    results = fetch_feeds_sync(requests, settings)
    assert all(r.body == FEED for r in results)
    assert gauge.peak == bound


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("Fri, 21 Feb 2025 11:35:00 GMT", 300.0),
    ],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    """Retry-After is read as delta-seconds or as an HTTP date relative to now; junk is ignored."""
    assert parse_retry_after(value, now=datetime(2025, 2, 21, 11, 30, tzinfo=UTC)) == expected
