"""Shared fixtures: real Redis on loopback, SQLite in a temp dir, fixture paths, config writer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from moverwatch.state import RedisStore, SQLiteStore, StateStore

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

FIXTURES = Path(__file__).parent / "fixtures"
FEEDS = FIXTURES / "feeds"
CORPUS = FIXTURES / "corpus"
REDIS_URL = os.environ.get("MOVERWATCH_TEST_REDIS", "redis://127.0.0.1:6379/15")


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
    }
    data.update(overrides)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path
