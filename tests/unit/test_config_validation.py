"""Bad config and watchlist files: through `moverwatch run --config`, one clear line naming the file, the field
and the reason, exit 2, and nothing else (no traceback, no library log line, no hang)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moverwatch.cli import app
from moverwatch.config import load_settings
from moverwatch.errors import ConfigError, WatchlistError
from moverwatch.watchlist import load_watchlist

WATCHLIST = """\
default_threshold_pct: 5
tickers:
  - symbol: BABA
    names: [Alibaba]
    timezone: Asia/Hong_Kong
"""


def config_text(
    body: str = "", feed_url: str = "http://127.0.0.1:1/feed", state: str = "sqlite:///state.db"
) -> str:
    """A valid config with ``body`` appended."""
    return f"feeds:\n  - name: af\n    url: {feed_url}\nwatchlist: wl.yaml\nstate: {state}\n{body}"


def run(tmp_path: Path, config: str, watchlist: str = WATCHLIST) -> tuple[int, str]:
    (tmp_path / "wl.yaml").write_text(watchlist, encoding="utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(config, encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert isinstance(result.exception, SystemExit), result.exception  # a clean exit, not an exception
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ("fetch: {timeout: -5}\n", "fetch.timeout", "must be a positive duration"),
        ("schedule: -300\n", "schedule", "must be a positive duration"),
        ("schedule: 0\n", "schedule", "must be a positive duration"),
        ("max_age: -1\n", "max_age", "must be a positive duration"),
        ("dedup: {window: .inf}\n", "dedup.window", "must be a positive duration"),
        ("dedup: {item_ttl: 1.0e+300}\n", "dedup.item_ttl", "too long"),
        ("delivery: {backoff: '-1m'}\n", "delivery.backoff", "not a duration"),
        ("fetch: {timeout: true}\n", "fetch.timeout", "not a duration"),
        ("dedup: {escalate_points: .nan}\n", "dedup.escalate_points", "finite number"),
        ("delivery: {backoff: 2h, backoff_cap: 1h}\n", "(top level)", "backoff must not be longer"),
    ],
)
def test_bad_setting_is_named_and_exits_2(tmp_path: Path, body: str, field: str, reason: str) -> None:
    """Each bad value is refused with the file, the field and the reason, and exit code 2."""
    code, out = run(tmp_path, config_text(body))
    assert code == 2, out
    assert f"invalid config {tmp_path / 'bad.yaml'}:" in out
    assert f"{field}: " in out and reason in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("state", "reason"),
    [("'redis://127.0.0.1:99999/0'", "Port out of range"), ("'sqlite:///'", "names no database file")],
)
def test_bad_state_url_is_named_and_exits_2(tmp_path: Path, state: str, reason: str) -> None:
    """A state URL with a bad port or no database file is refused at load time, not with a traceback."""
    code, out = run(tmp_path, config_text(state=state))
    assert code == 2, out
    assert "state: " in out and reason in out and "Traceback" not in out


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("'https:///feed'", "has no host name"),
        ("'http://:8080/feed'", "has no host name"),
        ("'http://127.0.0.1:99999/feed'", "Port out of range 0-65535"),
        ("'http://127.0.0.1:0/feed'", "has port 0"),
        ("'http://[::1/feed'", "not a valid URL"),
        ("'http://example.com/a feed'", "white space"),
        ("'ftp://example.com/feed'", "must be an http(s) URL"),
    ],
)
def test_bad_feed_url_is_named_and_exits_2(tmp_path: Path, url: str, reason: str) -> None:
    """A feed URL without a host, with a bad port or a bad shape is refused at load time, not at fetch."""
    code, out = run(tmp_path, config_text(feed_url=url))
    assert code == 2, out
    assert "feeds[0].url: " in out and reason in out
    assert "Traceback" not in out


@pytest.mark.parametrize(
    ("channel", "reason"),
    [
        ("bogus://nothing", "Unparseable URL"),
        ("json://127.0.0.1:99999/hook", "port 99999 is out of range"),
    ],
)
def test_bad_apprise_url_exits_2_with_one_line(tmp_path: Path, channel: str, reason: str) -> None:
    """An Apprise URL Apprise cannot use is a config error (exit 2, as the README says), in one line."""
    code, out = run(tmp_path, config_text(f"channels:\n  - url: '{channel}'\n"))
    assert code == 2, out
    assert f"invalid config {tmp_path / 'bad.yaml'}: channels[0].url: not a valid Apprise URL" in out
    assert reason in out
    assert len(out.strip().splitlines()) == 1, out  # Apprise's own ERROR line is not printed as well


@pytest.mark.parametrize(
    ("watchlist", "field", "reason"),
    [
        ("tickers: []\n", "tickers", "at least 1 item"),
        ("default_threshold_pct: 5\n", "tickers", "required field is missing"),
        ("tickers: [{symbol: X, names: ['']}]\n", "tickers[0].names", "entry 0 is empty or blank"),
        ("tickers: [{symbol: X, names: [Xco, '   ']}]\n", "tickers[0].names", "entry 1 is empty or blank"),
        ("tickers: [{symbol: X, names: [Xco], exclude: ['']}]\n", "tickers[0].exclude", "empty or blank"),
        ("tickers: [{symbol: ' ', names: [Xco]}]\n", "tickers[0].symbol", "must not be blank"),
        ("tickers: [{symbol: X, names: [null]}]\n", "tickers[0].names[0]", "valid string"),
        (
            "tickers: [{symbol: X, names: [Xco], timezone: Asia/Hongkong_}]\n",
            "tickers[0].timezone",
            "unknown",
        ),
        (
            "tickers: [{symbol: X, names: [Xco], timezone: ../../etc/passwd}]\n",
            "tickers[0].timezone",
            "unknown",
        ),
        (
            "default_threshold_pct: .inf\ntickers: [{symbol: X, names: [Xco]}]\n",
            "default_threshold_pct",
            "finite",
        ),
        ("tickers: [{symbol: X, names: [Xco], threshold_pct: .nan}]\n", "tickers[0].threshold_pct", "finite"),
    ],
)
def test_bad_watchlist_entry_is_named_and_exits_2(
    tmp_path: Path, watchlist: str, field: str, reason: str
) -> None:
    """Each bad watchlist value is refused with the watchlist file, the entry's field and the reason."""
    code, out = run(tmp_path, config_text(), watchlist)
    assert code == 2, out
    assert f"invalid watchlist {tmp_path / 'wl.yaml'}:" in out
    assert f"{field}: " in out and reason in out


def test_inline_watchlist_errors_name_the_config_file(tmp_path: Path) -> None:
    """An inline watchlist's error names the config file it is written in."""
    body = "feeds: [{name: af, url: 'http://127.0.0.1:1/feed'}]\nstate: sqlite:///s.db\nwatchlist: {tickers: []}\n"
    code, out = run(tmp_path, body)
    assert code == 2 and f"invalid watchlist {tmp_path / 'bad.yaml'} (inline watchlist): tickers: " in out


def test_duplicate_config_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    """A key given twice (YAML keeps the last silently) is refused, naming the key and both lines."""
    code, out = run(tmp_path, config_text("state: redis://127.0.0.1:6379/0\n"))
    assert code == 2
    assert f"config {tmp_path / 'bad.yaml'} is not valid YAML: line 6, column 1: duplicate key 'state'" in out
    assert "(first at line 5)" in out


def test_duplicate_watchlist_key_is_refused(tmp_path: Path) -> None:
    """A duplicate key inside a watchlist entry is refused with the watchlist file and the line."""
    watchlist = "tickers:\n  - symbol: BABA\n    names: [Alibaba]\n    names: [Ali]\n"
    code, out = run(tmp_path, config_text(), watchlist)
    assert code == 2
    assert (
        f"watchlist {tmp_path / 'wl.yaml'} is not valid YAML: line 4, column 5: duplicate key 'names'" in out
    )


def _alias_bomb(levels: int = 12) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        refs = ", ".join([f"*a{n - 1}"] * 9)
        lines.append(f"a{n}: &a{n} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_in_config_is_refused_at_once(tmp_path: Path) -> None:
    """A billion-laughs of YAML aliases in the config fails in well under a second, naming the file."""
    started = time.perf_counter()
    code, out = run(tmp_path, config_text(_alias_bomb()))
    assert time.perf_counter() - started < 5
    assert code == 2
    assert f"config {tmp_path / 'bad.yaml'} is not valid YAML" in out
    assert "YAML aliases (*name) are not allowed" in out


def test_alias_bomb_in_watchlist_is_refused_at_once(tmp_path: Path) -> None:
    """The same bomb inside the watchlist is refused quickly, naming the watchlist file."""
    started = time.perf_counter()
    code, out = run(tmp_path, config_text(), _alias_bomb() + WATCHLIST)
    assert time.perf_counter() - started < 5
    assert code == 2
    assert f"watchlist {tmp_path / 'wl.yaml'} is not valid YAML" in out and "aliases" in out


def test_merge_key_alias_is_refused_too(tmp_path: Path) -> None:
    """`<<: *base` is an alias as well: refused, so no file can smuggle expansion through a merge."""
    body = "defaults: &d {interval: 5m}\n"
    text = f"{body}feeds:\n  - {{<<: *d, name: af, url: 'http://127.0.0.1:1/feed'}}\nwatchlist: wl.yaml\n"
    code, out = run(tmp_path, text)
    assert code == 2 and "aliases" in out


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    """A config saved in another encoding is named as not UTF-8 instead of raising UnicodeDecodeError."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes(config_text().encode() + "# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_settings(path)


def test_valid_edge_values_still_load(tmp_path: Path) -> None:
    """What is legitimate still loads: zero claim timeout, an anchor used once, big-but-finite durations."""
    (tmp_path / "wl.yaml").write_text(WATCHLIST, encoding="utf-8")
    path = tmp_path / "ok.yaml"
    path.write_text(config_text("max_age: 100000d\ndelivery: &once {claim_timeout: 0s}\n"), encoding="utf-8")
    settings = load_settings(path)
    assert settings.delivery.claim_timeout.total_seconds() == 0
    assert settings.max_age.days == 100000
    assert load_watchlist(tmp_path / "wl.yaml").tickers[0].timezone == "Asia/Hong_Kong"


def test_watchlist_error_type_is_watchlist_error(tmp_path: Path) -> None:
    """Loading a bad watchlist directly raises WatchlistError (the CLI maps it to exit 2)."""
    path = tmp_path / "wl.yaml"
    path.write_text("tickers: []\n", encoding="utf-8")
    with pytest.raises(WatchlistError, match="tickers: "):
        load_watchlist(path)
