"""Delivery faults with real servers: every alert is delivered exactly once per channel in the end."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from moverwatch.config import Settings, parse_settings
from moverwatch.dedup import EventRecord, decide
from moverwatch.models import Alert, Move, NewsItem
from moverwatch.notify import Notifier
from moverwatch.outbox import deliver
from moverwatch.state import StateStore

from ..conftest import CORPUS, FEEDS, Webhook, run_cycle

NOW = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)
HEADLINE = "Alibaba Shares Jump 14% as <China> Tech & Stocks Hit a Hot Streak"
URL = "https://www.asiafinancial.com/alibaba-shares-jump-14-as-china-tech-stocks-hit-a-hot-streak"


def _settings(channels: list[dict[str, Any]], **delivery: Any) -> Settings:
    data = {
        "feeds": [{"name": "af", "url": "http://127.0.0.1:1/feed"}],
        "watchlist": str(CORPUS / "watchlist.yaml"),
        "channels": channels,
        "delivery": {"backoff": "1m", "max_attempts": 8, **delivery},
    }
    return parse_settings(data, "(test)", Path("."))


def _enqueue(
    store: StateStore,
    notifier: Notifier,
    symbol: str = "BABA",
    pct: float = 14.0,
    headline: str = HEADLINE,
    source: str = "asiafinancial",
) -> None:
    item = NewsItem(source, URL + symbol, URL, URL, headline, "", NOW, NOW)
    move = Move(symbol, "up", pct)

    def update(existing: EventRecord | None) -> tuple[EventRecord, list[tuple[Alert, str]]]:
        _d, rec, alert = decide(existing, item, move, NOW, NOW, timedelta(hours=12), 5.0)
        return rec, [(alert, ch) for ch in notifier.route(alert)] if alert else []

    store.claim_event(f"{symbol}|up", update, NOW)


def test_channel_down_for_three_runs_then_recovers_delivers_once(
    store: StateStore, make_webhook: Callable[..., Webhook]
) -> None:
    """A channel answering 500 three times gets the alert exactly once when it recovers."""
    hook = make_webhook(failures=3)
    settings = _settings([{"url": hook.url(), "name": "hook"}])
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    now = NOW
    reports = []
    for _ in range(6):
        reports.append(deliver(store, notifier, settings.delivery, now, "w"))
        now += timedelta(hours=1)  # past any backoff
    assert [len(r.failed) for r in reports[:3]] == [1, 1, 1]
    assert len(hook.messages) == 1
    assert sum(len(r.sent) for r in reports) == 1
    assert store.pending_count() == 0


def test_failed_send_waits_for_its_backoff(store: StateStore, make_webhook: Callable[..., Webhook]) -> None:
    """A failed alert is not retried before its backoff delay, so a down channel is not hammered."""
    hook = make_webhook(failures=1)
    settings = _settings([{"url": hook.url(), "name": "hook"}], backoff="5m")
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    deliver(store, notifier, settings.delivery, NOW, "w")
    assert deliver(store, notifier, settings.delivery, NOW + timedelta(minutes=4), "w").sent == []
    assert len(deliver(store, notifier, settings.delivery, NOW + timedelta(minutes=5), "w").sent) == 1


def test_alert_is_parked_dead_after_max_attempts(
    store: StateStore, make_webhook: Callable[..., Webhook]
) -> None:
    """After max_attempts failures the alert is listed as dead with the reason, not dropped."""
    hook = make_webhook(failures=100)
    settings = _settings([{"url": hook.url(), "name": "hook"}], max_attempts=3)
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    for i in range(5):
        deliver(store, notifier, settings.delivery, NOW + timedelta(hours=i), "w")
    assert hook.calls == 3
    [dead] = store.dead_letters()
    assert dead.alert.symbol == "BABA" and dead.attempts == 3
    assert "500" in dead.error or "error" in dead.error.lower()


def test_one_channel_failing_does_not_resend_to_the_other(
    store: StateStore, make_webhook: Callable[..., Webhook]
) -> None:
    """Per-channel acks: a success on one channel and a failure on another retry only the failed one."""
    good, bad = make_webhook(), make_webhook(failures=1)
    settings = _settings([{"url": good.url(), "name": "good"}, {"url": bad.url(), "name": "bad"}])
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    for i in range(3):
        deliver(store, notifier, settings.delivery, NOW + timedelta(hours=i), "w")
    assert len(good.messages) == 1 and len(bad.messages) == 1


def test_crash_after_claim_delivers_on_next_run(
    store: StateStore, make_webhook: Callable[..., Webhook]
) -> None:
    """A worker that dies after claiming (before sending) loses nothing: the next run sends it."""
    hook = make_webhook()
    settings = _settings([{"url": hook.url(), "name": "hook"}], claim_timeout="0s")
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    # The dead worker even took the delivery from the outbox before dying.
    assert len(store.take_deliveries(NOW, 10, "dead-worker", timedelta(0))) == 1
    report = deliver(store, notifier, settings.delivery, NOW + timedelta(seconds=1), "next-worker")
    assert len(report.sent) == 1 and len(hook.messages) == 1


def test_flood_control_sends_a_digest_for_the_rest(
    store: StateStore, make_webhook: Callable[..., Webhook]
) -> None:
    """Beyond per_channel_per_minute, the rest of a burst arrives as one digest; nothing is lost."""
    hook = make_webhook()
    settings = _settings([{"url": hook.url(), "name": "hook"}], per_channel_per_minute=3)
    notifier = Notifier(settings.channels)
    symbols = ["BABA", "JD", "BIDU", "PDD", "NIO", "LI"]
    for s in symbols:
        _enqueue(store, notifier, symbol=s, headline=f"{s} shares jump 14%")
    report = deliver(store, notifier, settings.delivery, NOW, "w")
    assert len(hook.messages) == 3  # two single alerts and one digest
    assert report.digests == 1
    digest = hook.messages[-1]["message"]
    assert all(s in digest for s in symbols[2:])
    assert len(report.sent) == len(symbols) and store.pending_count() == 0


def test_secret_in_channel_url_never_logged(
    store: StateStore, make_webhook: Callable[..., Webhook], caplog: pytest.LogCaptureFixture
) -> None:
    """A failing channel's password/token appears in no log line, error or dead letter."""
    hook = make_webhook(failures=100)
    secret = "S3cretT0kenValue"
    settings = _settings([{"url": hook.url(f"user:{secret}@")}], max_attempts=2)
    caplog.set_level(logging.DEBUG)
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    r1 = deliver(store, notifier, settings.delivery, NOW, "w")
    deliver(store, notifier, settings.delivery, NOW + timedelta(hours=1), "w")
    assert r1.failed
    texts = [
        caplog.text,
        str(store.dead_letters()),
        *(f[2] for f in r1.failed),
        *(c.label for c in notifier.channels.values()),
    ]
    assert all(secret not in t for t in texts)


def test_routing_by_tags(store: StateStore, make_webhook: Callable[..., Webhook]) -> None:
    """A tagged channel gets alerts of tickers naming its tag; untagged channels get everything."""
    desk, all_ = make_webhook(), make_webhook()
    settings = _settings(
        [{"url": desk.url(), "name": "desk", "tags": ["china"]}, {"url": all_.url(), "name": "all"}]
    )
    notifier = Notifier(settings.channels)
    tagged = Alert("BABA|up", "BABA", "up", 14.0, "h", URL, "af", NOW, tags=("china",))
    other = Alert("AAPL|up", "AAPL", "up", 5.0, "h", URL, "af", NOW, tags=("us",))
    assert sorted(notifier.route(tagged)) == ["all", "desk"]
    assert notifier.route(other) == ["all"]


class _RefuseThenAccept:
    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 try again later"
        assert isinstance(envelope.content, bytes)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, _RefuseThenAccept]]:
    handler = _RefuseThenAccept(refusals=1)
    with socket.socket() as probe:  # aiosmtpd cannot start on port 0: pick a free port first
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, handler
    controller.stop()


def test_email_refused_then_accepted_arrives_once_escaped(
    store: StateStore, smtp: tuple[Controller, _RefuseThenAccept]
) -> None:
    """SMTP refusing once then accepting delivers one email: subject, text and escaped HTML parts."""
    controller, handler = smtp
    port = controller.port
    url = f"mailto://127.0.0.1:{port}?to=desk@example.com&from=alerts@example.com&name=moverwatch"
    settings = _settings([{"url": url, "name": "mail"}])
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    r1 = deliver(store, notifier, settings.delivery, NOW, "w")
    r2 = deliver(store, notifier, settings.delivery, NOW + timedelta(hours=1), "w")
    assert len(r1.failed) == 1 and len(r2.sent) == 1
    [msg] = handler.messages
    assert msg["Subject"].startswith("BABA ▲ 14% — Alibaba Shares Jump 14%")
    html = msg.get_body(("html",))
    text = msg.get_body(("plain",))
    assert html is not None and text is not None
    html_s = html.get_content()
    assert "&lt;China&gt; Tech &amp; Stocks" in html_s and "<China>" not in html_s
    assert "Alibaba Shares Jump 14%" in text.get_content()


def test_ntfy_push_arrives_with_short_line_and_link(store: StateStore) -> None:
    """An ntfy channel (a local ntfy-compatible server) gets the short title, the headline and the link."""
    server = HTTPServer(host="127.0.0.1", port=0)
    received: list[Request] = []

    def handle(request: Request) -> Response:
        received.append(request)
        return Response('{"id":"x"}', content_type="application/json")

    server.expect_request("/", method="POST").respond_with_handler(handle)
    server.start()
    try:
        settings = _settings([{"url": f"ntfy://127.0.0.1:{server.port}/desk-moves", "name": "ntfy"}])
        notifier = Notifier(settings.channels)
        _enqueue(store, notifier)
        report = deliver(store, notifier, settings.delivery, NOW, "w")
    finally:
        server.stop()
    assert len(report.sent) == 1 and len(received) == 1
    body = received[0].get_json()
    assert body["topic"] == "desk-moves"
    assert body["title"] == "BABA ▲ 14%"
    assert "Alibaba Shares Jump 14%" in body["message"] and URL in body["message"]


def test_worker_crash_after_claim_in_a_cycle_delivers_next_cycle(
    store: StateStore, make_webhook: Callable[..., Webhook], tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A cycle that dies right after claiming (before any send) leaves its alerts for the next cycle, once."""
    from moverwatch.detect import Detector
    from moverwatch.errors import MoverwatchError

    hook = make_webhook()
    httpserver.expect_request("/af.xml").respond_with_data((FEEDS / "asiafinancial.xml").read_bytes())
    settings = parse_settings(
        {
            "feeds": [{"name": "af", "url": httpserver.url_for("/af.xml")}],
            "watchlist": str(CORPUS / "watchlist.yaml"),
            "channels": [{"url": hook.url(), "name": "hook"}],
            "max_age": "100000d",
            # Redis measures a dead worker's idle time on its own clock: take over at once here.
            "delivery": {"claim_timeout": "0s"},
        },
        "(test)",
        tmp_path,
    )
    detector = Detector(settings.load_watchlist())
    notifier = Notifier(settings.channels)

    class Crash(MoverwatchError):
        pass

    def dying_send(channel: str, alert: Alert) -> None:
        raise Crash("worker killed")

    original = notifier.send
    notifier.send = dying_send  # type: ignore[method-assign]
    with pytest.raises(Crash):
        run_cycle(settings, store, detector, notifier, clock=lambda: NOW, worker="doomed")
    assert hook.messages == []
    notifier.send = original  # type: ignore[method-assign]
    later = NOW + settings.delivery.claim_timeout + timedelta(seconds=1)
    report = run_cycle(settings, store, detector, notifier, clock=lambda: later, worker="next")
    symbols = [m["title"].split()[0] for m in hook.messages]
    assert "BABA" in symbols and len(symbols) == len(set(symbols)) == len(report.delivery.sent)
    again = run_cycle(
        settings, store, detector, notifier, clock=lambda: later + timedelta(hours=1), worker="next"
    )
    assert again.delivery.sent == [] and len(hook.messages) == len(symbols)


def test_flood_control_holds_without_spending_attempts(
    store: StateStore, make_webhook: Callable[..., Webhook]
) -> None:
    """Alerts held back because the channel's minute is used up are sent next minute with no attempt spent."""
    hook = make_webhook()
    settings = _settings([{"url": hook.url(), "name": "hook"}], per_channel_per_minute=1)
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier, symbol="BABA")
    deliver(store, notifier, settings.delivery, NOW, "w")  # uses the minute's only slot
    _enqueue(store, notifier, symbol="JD", headline="JD shares jump 14%")
    held = deliver(store, notifier, settings.delivery, NOW + timedelta(seconds=10), "w")
    assert held.sent == [] and len(hook.messages) == 1
    [again] = store.take_deliveries(NOW + timedelta(minutes=1), 10, "w2", timedelta(minutes=5))
    assert again.alert.symbol == "JD" and again.attempts == 0
