"""Delivery under attack without a crash: lease takeover while sending, long digests, notices to a failing
channel. Real Redis and SQLite, real webhooks on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from moverwatch.models import Notice
from moverwatch.notify import Notifier
from moverwatch.outbox import deliver
from moverwatch.state import RedisStore, SQLiteStore, StateStore

from ..contract.test_state import _claim
from .test_delivery import NOW, _enqueue, _settings


def test_a_stale_worker_cannot_renew_ack_or_requeue_a_delivery_taken_over(store: StateStore) -> None:
    """After another worker took a delivery over, the first one's renew, ack, retry and bury all fail."""
    _claim(store)
    [stale] = store.take_deliveries(NOW, 10, "slow-worker", timedelta(0))
    [fresh] = store.take_deliveries(NOW, 10, "next-worker", timedelta(0))
    assert not store.renew(stale, NOW, timedelta(minutes=5))
    assert not store.ack(stale, NOW)
    assert not store.retry_later(stale, NOW, "boom")
    assert not store.bury(stale, "boom", NOW)
    assert store.pending_count() == 1 and store.dead_letters() == []
    assert store.renew(fresh, NOW, timedelta(minutes=5))
    assert store.ack(fresh, NOW)
    assert store.pending_count() == 0


def test_a_batch_slower_than_the_claim_timeout_is_sent_once(
    store: StateStore, httpserver: HTTPServer
) -> None:
    """Two workers on a slow channel (each send 0.5 s, claim_timeout 1 s, 4 alerts): every alert once."""
    received: list[str] = []
    lock = threading.Lock()

    def slow(req: Request) -> Response:
        time.sleep(0.5)
        with lock:
            received.append(json.loads(req.get_data(as_text=True))["title"].split()[0])
        return Response("ok")

    httpserver.expect_request("/slow", method="POST").respond_with_handler(slow)
    settings = _settings(
        [{"url": f"json://127.0.0.1:{httpserver.port}/slow", "name": "slow"}],
        claim_timeout="1s",
        max_delay="100000d",
    )
    notifier = Notifier(settings.channels)
    symbols = ["BABA", "JD", "BIDU", "PDD"]
    for s in symbols:
        _enqueue(store, notifier, symbol=s, headline=f"{s} shares jump 14%")

    def worker(name: str) -> None:
        own = _twin(store)  # each worker process has its own connection
        try:
            deliver(
                own, notifier, settings.delivery, datetime.now(UTC), name, clock=lambda: datetime.now(UTC)
            )
        finally:
            own.close()

    first = threading.Thread(target=worker, args=("first",))
    first.start()
    time.sleep(1.3)  # past the claim timeout of the deliveries "first" has not reached yet
    worker("second")
    first.join()
    assert sorted(received) == sorted(symbols)
    assert store.pending_count() == 0


def _twin(store: StateStore) -> StateStore:
    """Another connection to the same store."""
    if isinstance(store, SQLiteStore):
        return SQLiteStore(store.path)
    assert isinstance(store, RedisStore)
    return RedisStore(store.url, store.prefix)


def test_a_long_burst_reaches_the_channel_alert_by_alert(
    store: StateStore, make_webhook: Callable[..., Any]
) -> None:
    """45 alerts at 3 messages a minute: every alert's symbol reaches the channel; none is acked unseen."""
    hook = make_webhook()
    settings = _settings([{"url": hook.url(), "name": "hook"}], per_channel_per_minute=3)
    notifier = Notifier(settings.channels)
    symbols = [f"ZZ{n:02d}" for n in range(45)]
    for s in symbols:
        _enqueue(store, notifier, symbol=s, headline=f"{s} shares jump 14%")
    sent = []
    for minute in range(4):
        report = deliver(store, notifier, settings.delivery, NOW + timedelta(minutes=minute), "w")
        sent += [a.symbol for a, _ch in report.sent]
        assert len(hook.messages) <= 3 * (minute + 1)
    text = " ".join(m["title"] + " " + m["message"] for m in hook.messages)
    assert sorted(sent) == symbols and all(s in text for s in symbols)
    assert "…and" not in text  # no "…and N more" line standing in for alerts
    assert store.pending_count() == 0


def test_a_notice_to_a_failing_channel_is_retried_not_lost(
    store: StateStore, make_webhook: Callable[..., Any]
) -> None:
    """A feed-down notice the channel refuses waits in the outbox and arrives on a later pass."""
    hook = make_webhook(failures=1)
    settings = _settings([{"url": hook.url(), "name": "hook"}])
    notifier = Notifier(settings.channels)
    notice = Notice("feed-down:af:1", "feed_down", "Feed down: af", "af has been failing: HTTP 503")
    store.enqueue([(notice, "hook")], NOW)
    assert deliver(store, notifier, settings.delivery, NOW, "w").notices == []
    assert store.pending_count() == 1
    later = deliver(store, notifier, settings.delivery, NOW + timedelta(minutes=5), "w")
    assert later.notices == [(notice, "hook")]
    assert [m["title"] for m in hook.messages] == ["Feed down: af"]


@pytest.fixture
def slow_server() -> Iterator[HTTPServer]:
    """A threaded loopback server: a request still sleeping does not hold up the next one."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def _slow_hook(httpserver: HTTPServer, delay_s: float) -> list[float]:
    calls: list[float] = []

    def handler(_req: Request) -> Response:
        calls.append(time.monotonic())
        time.sleep(delay_s)
        return Response("ok")

    httpserver.expect_request("/slow", method="POST").respond_with_handler(handler)
    return calls


def test_an_endpoint_slower_than_the_timeout_gets_two_copies_at_most(
    store: StateStore, slow_server: HTTPServer
) -> None:
    """No answer within delivery.timeout: one retry, then taken as delivered; not 4 copies and dead."""
    calls = _slow_hook(slow_server, 1.5)
    url = f"json://127.0.0.1:{slow_server.port}/slow"
    settings = _settings([{"url": url, "name": "slow"}], max_attempts=4)
    notifier = Notifier(settings.channels, timeout_s=0.5)
    _enqueue(store, notifier)
    for minute in range(0, 40, 5):
        deliver(store, notifier, settings.delivery, NOW + timedelta(minutes=minute), "w")
    assert len(calls) == 2
    assert store.pending_count() == 0 and store.dead_letters() == []


def test_a_slow_endpoint_within_the_timeout_gets_one_copy(store: StateStore, slow_server: HTTPServer) -> None:
    """An endpoint answering after 1 s, within delivery.timeout, is sent once and acknowledged."""
    calls = _slow_hook(slow_server, 1.0)
    settings = _settings([{"url": f"json://127.0.0.1:{slow_server.port}/slow", "name": "slow"}])
    notifier = Notifier(settings.channels, timeout_s=3.0)
    _enqueue(store, notifier)
    report = deliver(store, notifier, settings.delivery, NOW, "w")
    assert len(report.sent) == 1 and len(calls) == 1
