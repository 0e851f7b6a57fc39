"""The CLI as a user runs it: the offline demo, feeds table, notify-test, store outages, parallel workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from ..conftest import FEEDS, Webhook, write_config

EVER = "100000d"  # fixture news is from February 2025


def mw(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.run(
        [sys.executable, "-m", "moverwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def test_demo_run_alerts_seed_story_then_nothing_new(tmp_path: Path) -> None:
    """`moverwatch run` with no config alerts the bundled seed story's moves; a second run alerts nothing."""
    first = mw("run", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    # The seed story's moves (LABELING.md §9), each once although four sample feeds carry the story.
    for move in ("BABA up 14%", "0992.HK up 15%", "1810.HK up 5.2%", "HSTECH up 6.5%"):
        assert sum(f"▲ {move} |" in line for line in lines) == 1, (move, first.stdout)
    assert (tmp_path / "moverwatch-state.db").exists()
    second = mw("run", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == ""
    assert "0 alerts queued" in second.stderr


def test_feeds_command_shows_health_after_a_run(tmp_path: Path) -> None:
    """`moverwatch feeds` lists every configured feed with its last status."""
    mw("run", cwd=tmp_path)
    out = mw("feeds", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for name in ("asiafinancial", "asiafinancial-atom", "nikkei-asia"):
        assert name in out.stdout


@pytest.fixture
def hook(webhook: Webhook) -> Webhook:
    return webhook


def test_notify_test_reports_each_channel(tmp_path: Path, hook: Webhook) -> None:
    """notify-test says ok for a working channel and FAILED with a reason for a dead one (exit 1)."""
    cfg = write_config(
        tmp_path / "c.yaml",
        feeds=[{"name": "x", "url": "http://127.0.0.1:1/feed"}],
        channels=[
            {"url": hook.url(), "name": "good"},
            {"url": "json://127.0.0.1:1/hook", "name": "dead"},
        ],
    )
    out = mw("notify-test", "--config", str(cfg), cwd=tmp_path)
    assert out.returncode == 1
    assert len(hook.messages) == 1
    ok_line = next(line for line in out.stdout.splitlines() if line.startswith("ok"))
    failed_line = next(line for line in out.stdout.splitlines() if line.startswith("FAILED"))
    assert str(hook.port) in ok_line
    assert "127.0.0.1" in failed_line and "onnection" in failed_line


def _feed_config(tmp_path: Path, httpserver: HTTPServer, hook: Webhook, state: str, **extra: Any) -> Path:
    httpserver.expect_request("/af.xml").respond_with_data((FEEDS / "asiafinancial.xml").read_bytes())
    httpserver.expect_request("/digest.xml").respond_with_data(
        (FEEDS / "asiamarketsdigest_syndication.xml").read_bytes()
    )
    return write_config(
        tmp_path / "c.yaml",
        feeds=[
            {"name": "asiafinancial", "url": httpserver.url_for("/af.xml")},
            {"name": "digest", "url": httpserver.url_for("/digest.xml")},
        ],
        channels=[{"url": hook.url(), "name": "hook"}],
        state=state,
        max_age=EVER,
        **extra,
    )


def test_unreachable_redis_fails_clearly_and_next_run_delivers(
    tmp_path: Path, httpserver: HTTPServer, hook: Webhook, redis_url: str, redis_prefix: str
) -> None:
    """With Redis down the run exits 3 naming Redis, sends and marks nothing; the next run delivers."""
    cfg = _feed_config(tmp_path, httpserver, hook, "redis://127.0.0.1:1/0", redis_prefix=redis_prefix)
    down = mw("run", "--config", str(cfg), cwd=tmp_path)
    assert down.returncode == 3
    assert "Redis at 127.0.0.1:1" in down.stderr and "Traceback" not in down.stderr
    assert hook.messages == []
    cfg.write_text(cfg.read_text().replace("redis://127.0.0.1:1/0", redis_url))
    up = mw("run", "--config", str(cfg), cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    titles = [m["title"] for m in hook.messages]
    assert any(t.startswith("BABA ▲") for t in titles)


def test_parallel_runs_share_redis_and_send_each_alert_once(
    tmp_path: Path, httpserver: HTTPServer, hook: Webhook, redis_url: str, redis_prefix: str
) -> None:
    """Two processes polling the same feeds at once with one Redis send each alert exactly once."""
    cfg = _feed_config(tmp_path, httpserver, hook, redis_url, redis_prefix=redis_prefix)
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "moverwatch", "run", "--config", str(cfg)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    titles = hook.moves()
    assert titles and len(titles) == len(set(titles)), titles
