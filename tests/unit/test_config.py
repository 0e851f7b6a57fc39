"""Config loading: the bundled demo, env interpolation, and one clear message per bad field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from moverwatch.cli import app
from moverwatch.config import load_settings
from moverwatch.errors import ConfigError

from ..conftest import write_config

FEED = {"name": "af", "url": "http://127.0.0.1:1/feed"}


def test_bundled_demo_config_loads_offline() -> None:
    """With no config file the demo runs on bundled sample feeds, the sample watchlist and SQLite."""
    s = load_settings(None)
    assert all(f.url.startswith("sample://") for f in s.feeds)
    assert s.state.startswith("sqlite:///")
    assert not s.channels
    assert any(t.symbol == "BABA" for t in s.load_watchlist().tickers)


def test_missing_field_is_named(tmp_path: Path) -> None:
    """A config without feeds says which field is missing."""
    p = write_config(tmp_path / "c.yaml")
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert "feeds: required field is missing" in str(e.value)
    assert str(p) in str(e.value)


def test_wrong_type_is_named(tmp_path: Path) -> None:
    """A wrong type names the field path and the reason."""
    p = write_config(tmp_path / "c.yaml", feeds=[FEED], dedup={"escalate_points": "lots"})
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    msg = str(e.value)
    assert "dedup.escalate_points" in msg and "number" in msg


def test_unknown_key_is_named(tmp_path: Path) -> None:
    """A misspelt key is reported as unknown instead of being silently ignored."""
    p = write_config(tmp_path / "c.yaml", feeds=[{**FEED, "intervall": "5m"}])
    with pytest.raises(ConfigError) as e:
        load_settings(p)
    assert "feeds[0].intervall: unknown key" in str(e.value)


def test_bad_feed_url_scheme_is_rejected(tmp_path: Path) -> None:
    """file:// or other schemes are refused for feeds (feedparser would read local files)."""
    p = write_config(tmp_path / "c.yaml", feeds=[{"name": "x", "url": "file:///etc/passwd"}])
    with pytest.raises(ConfigError, match=r"feeds\[0\]\.url"):
        load_settings(p)


def test_env_interpolation_fills_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """${VAR} in a channel URL is read from the environment, so secrets stay out of the file."""
    monkeypatch.setenv("MW_TEST_HOOK", "json://127.0.0.1:9/secret-token")
    p = write_config(tmp_path / "c.yaml", feeds=[FEED], channels=[{"url": "${MW_TEST_HOOK}"}])
    assert load_settings(p).channels[0].url == "json://127.0.0.1:9/secret-token"


def test_missing_env_var_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A referenced but unset variable names the variable and where it is used."""
    monkeypatch.delenv("MW_NOT_SET", raising=False)
    p = write_config(tmp_path / "c.yaml", feeds=[FEED], channels=[{"url": "${MW_NOT_SET}"}])
    with pytest.raises(ConfigError, match="MW_NOT_SET is not set"):
        load_settings(p)


def test_durations_accept_units(tmp_path: Path) -> None:
    """max_age and windows take 90s / 5m / 24h / 2d."""
    p = write_config(tmp_path / "c.yaml", feeds=[FEED], max_age="2d", dedup={"window": "90m"})
    s = load_settings(p)
    assert s.max_age.total_seconds() == 2 * 86400
    assert s.dedup.window.total_seconds() == 90 * 60


def test_cli_reports_config_error_without_traceback(tmp_path: Path) -> None:
    """`moverwatch run` with a bad config prints one error line and exits 2."""
    p = write_config(tmp_path / "c.yaml", feeds=[{**FEED, "bogus": 1}])
    result = CliRunner().invoke(app, ["run", "--config", str(p)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "feeds[0].bogus: unknown key" in result.output
