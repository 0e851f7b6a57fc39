"""State loss and replay: a wiped Redis store re-seeds silently instead of re-alerting a day of news;
dead letters can be redriven. Real Redis, a real feed on loopback, a local webhook."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from moverwatch.cli import app
from moverwatch.pipeline import run_cycle
from moverwatch.runtime import open_runtime
from moverwatch.state import StateStore

from ..conftest import FEEDS, write_config
from .test_delivery import NOW, _enqueue, _settings


def _wipe(redis_url: str, prefix: str) -> None:
    r = redis.Redis.from_url(redis_url)
    for k in r.scan_iter(match=prefix + "*", count=1000):
        r.delete(k)


@pytest.mark.parametrize("policy, realerts", [("reseed", False), ("alert", True)])
def test_a_wiped_redis_store_reseeds_silently_unless_asked(
    tmp_path: Path,
    httpserver: HTTPServer,
    make_webhook: Callable[..., Any],
    redis_url: str,
    redis_prefix: str,
    policy: str,
    realerts: bool,
) -> None:
    """After Redis loses everything, the next cycle alerts nothing again (reseed) or everything (alert)."""
    httpserver.expect_request("/af.xml").respond_with_data((FEEDS / "asiafinancial.xml").read_bytes())
    hook = make_webhook()
    cfg = write_config(
        tmp_path / "c.yaml",
        feeds=[{"name": "af", "url": httpserver.url_for("/af.xml")}],
        channels=[{"url": hook.url(), "name": "hook"}],
        state=redis_url,
        redis_prefix=redis_prefix,
        max_age="100000d",
        schedule="1s",
        on_state_loss=policy,
    )
    with open_runtime(cfg) as rt:
        first = len(run_cycle(rt).delivery.sent)
    assert first > 0 and len(hook.messages) == first
    _wipe(redis_url, redis_prefix)
    with open_runtime(cfg) as rt:
        assert rt.reseed is not realerts
        again = run_cycle(rt)
    assert len(again.delivery.sent) == (first if realerts else 0)
    with open_runtime(cfg) as rt:  # the store is known again: an ordinary cycle, nothing new
        assert not rt.reseed and run_cycle(rt).new_items == 0


def test_dead_letters_are_redriven_by_dead_requeue(
    store: StateStore, make_webhook: Callable[..., Any], tmp_path: Path
) -> None:
    """`moverwatch dead --requeue` puts parked alerts back in the outbox; the next pass delivers them."""
    from moverwatch.outbox import deliver

    hook = make_webhook(failures=2)
    settings = _settings([{"url": hook.url(), "name": "hook"}], max_attempts=2)
    from moverwatch.notify import Notifier

    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    deliver(store, notifier, settings.delivery, NOW, "w")
    deliver(store, notifier, settings.delivery, NOW + timedelta(hours=1), "w")
    assert len(store.dead_letters()) == 1
    assert store.requeue_dead(NOW + timedelta(hours=2)) == 1
    assert store.dead_letters() == [] and store.pending_count() == 1
    report = deliver(store, notifier, settings.delivery, NOW + timedelta(hours=2), "w")
    assert [a.symbol for a, _ch in report.sent] == ["BABA"] and len(hook.messages) == 1


def test_dead_requeue_command_reports_the_count(tmp_path: Path) -> None:
    """The CLI's `dead --requeue` says how many alerts went back to the outbox."""
    cfg = write_config(tmp_path / "c.yaml", feeds=[{"name": "af", "url": "http://127.0.0.1:1/f"}])
    result = CliRunner().invoke(app, ["dead", "--config", str(cfg), "--requeue"])
    assert result.exit_code == 0, result.output
    assert "0 dead alerts requeued" in result.output


def test_an_alert_older_than_max_delay_is_parked_not_sent_as_news(
    store: StateStore, make_webhook: Callable[..., Any]
) -> None:
    """After a 7-hour outage the queued alert is a dead letter with the reason; requeued, it is sent."""
    from moverwatch.notify import Notifier
    from moverwatch.outbox import deliver

    hook = make_webhook()
    settings = _settings([{"url": hook.url(), "name": "hook"}], max_delay="6h")
    notifier = Notifier(settings.channels)
    _enqueue(store, notifier)
    late = deliver(store, notifier, settings.delivery, NOW + timedelta(hours=7), "w")
    assert late.sent == [] and hook.messages == []
    [dead] = store.dead_letters()
    assert "longer than delivery.max_delay" in dead.error
    store.requeue_dead(NOW + timedelta(hours=8))
    assert len(deliver(store, notifier, settings.delivery, NOW + timedelta(hours=8), "w").sent) == 1
