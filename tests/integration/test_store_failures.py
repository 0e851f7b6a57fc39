"""A broken state store is a clear error (exit 3, the file and the reason), never a traceback; `moverwatch
doctor` says what is wrong. Real SQLite files, the real Redis on loopback."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moverwatch.cli import app
from moverwatch.errors import StateStoreError
from moverwatch.state import SQLiteStore

from ..conftest import write_config

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _config(tmp_path: Path, state: str | None = None, **extra: str) -> Path:
    return write_config(
        tmp_path / "c.yaml",
        feeds=[{"name": "af", "url": "http://127.0.0.1:1/f"}],
        **({"state": state} if state else {}),
        **extra,
    )


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_a_table_from_another_schema_is_refused_with_exit_3(tmp_path: Path) -> None:
    """A state file whose outbox table is someone else's: exit 3 naming the file and the missing columns."""
    db = sqlite3.connect(tmp_path / "state.db")
    db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, payload TEXT)")
    db.commit()
    db.close()
    code, out = _run("run", "--config", str(_config(tmp_path)))
    assert code == 3
    assert "state.db is not a moverwatch state file" in out and "lacks column" in out
    assert "Traceback" not in out


def test_a_corrupted_file_is_exit_3_and_doctor_says_so(tmp_path: Path) -> None:
    """Garbage where the state file should be: run and doctor both exit 3 with the file named."""
    (tmp_path / "state.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    cfg = str(_config(tmp_path))
    for cmd in ("run", "doctor"):
        code, out = _run(cmd, "--config", cfg)
        assert code == 3, out
        assert "state.db" in out and "Traceback" not in out


def test_disk_full_at_commit_is_a_store_error_naming_the_file(tmp_path: Path) -> None:
    """SQLite running out of space mid-write raises StateStoreError with the file and the reason."""
    store = SQLiteStore(tmp_path / "state.db")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # as good as a full disk
    with pytest.raises(StateStoreError, match=r"state\.db: mark_seen failed: .*full"):
        store.mark_seen([f"url:https://example.com/{n}" for n in range(5000)], timedelta(days=1), NOW)
    store.close()


def test_doctor_passes_a_sound_sqlite_file(tmp_path: Path) -> None:
    """On a sound SQLite state file doctor prints ok lines and exits 0."""
    code, out = _run("doctor", "--config", str(_config(tmp_path)))
    assert code == 0, out
    assert "ok      SQLite state file" in out


def test_doctor_warns_of_a_redis_that_keeps_nothing_on_disk(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """The test Redis runs without AOF or snapshots: doctor names the risk and the fix (exit 3)."""
    code, out = _run("doctor", "--config", str(_config(tmp_path, redis_url, redis_prefix=redis_prefix)))
    assert code == 3
    assert "keeps nothing on disk" in out and "appendonly" in out
