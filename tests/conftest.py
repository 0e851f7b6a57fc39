"""Shared fixtures: real Redis on loopback, SQLite in a temp dir, fixture paths, config writer."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from moverwatch.config import Settings
from moverwatch.detect import Detector
from moverwatch.notify import Notifier
from moverwatch.pipeline import CycleReport
from moverwatch.pipeline import run_cycle as pipeline_run_cycle
from moverwatch.runtime import Clock, Runtime, utcnow, worker_id
from moverwatch.state import RedisStore, SQLiteStore, StateStore

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

FIXTURES = Path(__file__).parent / "fixtures"
FEEDS = FIXTURES / "feeds"
CORPUS = FIXTURES / "corpus"
REDIS_URL = os.environ.get("MOVERWATCH_TEST_REDIS", "redis://127.0.0.1:6379/15")


def run_cycle(
    settings: Settings,
    store: StateStore,
    detector: Detector,
    notifier: Notifier,
    clock: Clock = utcnow,
    worker: str | None = None,
) -> CycleReport:
    """One pipeline cycle on live objects the test built itself (a store fixture, a patched notifier)."""
    rt = Runtime(settings, settings.load_watchlist(), store, detector, notifier, clock, worker or worker_id())
    return pipeline_run_cycle(rt)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what each test needs, from the fixtures it uses: `redis` (the server on loopback) and `prefect`
    (a Prefect API), so `make test-fast` (-m "not redis and not prefect") runs the unit layer alone."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if names & {"redis_url", "redis_prefix"} or "redis" in (params.get("store"), params.get("state")):
            item.add_marker(pytest.mark.redis)
        if "prefect_api" in names or item.get_closest_marker("prefect"):
            item.add_marker(pytest.mark.prefect)


@pytest.fixture
def redis_url() -> str:
    """The test Redis URL; fails loudly (not skips) when Redis is down: CI must provide it."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"Redis is not answering at {REDIS_URL}: {exc} (run .ci/run or start redis-server)")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A fresh key prefix per test, deleted afterwards."""
    prefix = f"mwtest:{uuid.uuid4().hex[:8]}:"
    yield prefix
    r = redis.Redis.from_url(redis_url)
    for k in r.scan_iter(match=prefix + "*", count=1000):
        r.delete(k)


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """Each state-store backend in turn (the contract suite runs on both)."""
    s: StateStore
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "state.db")
    else:
        prefix = request.getfixturevalue("redis_prefix")
        s = RedisStore(request.getfixturevalue("redis_url"), prefix)
    s.ping()
    yield s
    s.close()


def write_config(path: Path, **overrides: Any) -> Path:
    """Write a config file using the corpus watchlist, with the given top-level keys."""
    data: dict[str, Any] = {
        "watchlist": str(CORPUS / "watchlist.yaml"),
        "state": f"sqlite:///{path.parent}/state.db",
        "cache_dir": str(path.parent / "cache"),  # this machine's memory of store generations, per test
    }
    data.update(overrides)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class Webhook:
    """A local HTTP endpoint that records what Apprise posts; answers 500 to the first `failures` requests."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.messages: list[dict[str, Any]] = []
        self.server = HTTPServer(host="127.0.0.1", port=0)
        self.server.expect_request("/hook", method="POST").respond_with_handler(self._handle)
        self.server.start()

    def _handle(self, request: Request) -> Response:
        self.calls += 1
        if self.calls <= self.failures:
            return Response("boom", status=500)
        self.messages.append(json.loads(request.get_data(as_text=True)))
        return Response("ok", status=200)

    @property
    def port(self) -> int:
        return int(self.server.port)

    def url(self, auth: str = "") -> str:
        """The Apprise json:// URL of this hook (`auth` like "user:pass@")."""
        return f"json://{auth}127.0.0.1:{self.port}/hook"

    def moves(self) -> list[str]:
        """'SYMBOL ▲' / 'SYMBOL ▼' of each alert received (the push title starts with them)."""
        return [" ".join(m["title"].split()[:2]) for m in self.messages]


@pytest.fixture
def make_webhook() -> Iterator[Callable[..., Webhook]]:
    """A factory of local webhooks, all stopped after the test."""
    made: list[Webhook] = []

    def make(failures: int = 0) -> Webhook:
        made.append(Webhook(failures))
        return made[-1]

    yield make
    for w in made:
        if w.server.is_running():
            w.server.stop()


@pytest.fixture
def webhook(make_webhook: Callable[..., Webhook]) -> Webhook:
    """One local webhook that accepts everything."""
    return make_webhook()
