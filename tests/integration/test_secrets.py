"""Secrets in feed and channel URLs never reach a log line, an error text or a stored error.

Real servers on loopback, real Apprise/requests/urllib3 and httpx logging, the real CLI; caplog sees each
record after the filters of the logger that made it, as any handler would.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from moverwatch.cli import app
from moverwatch.config import ChannelConfig, load_settings
from moverwatch.errors import ConfigError, PermanentFeedError, TransientFeedError
from moverwatch.notify import Notifier
from moverwatch.redact import Redactor, protect_url_loggers, redact_text, redact_url, remember_secrets
from moverwatch.state import SQLiteStore

WATCHLIST = "tickers:\n  - symbol: BABA\n    names: [Alibaba]\n"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:hunter22@feeds.example.com/rss", "https://****@feeds.example.com/rss"),
        ("https://ghp_abc123@feeds.example.com/rss", "https://****@feeds.example.com/rss"),
        (
            "https://feeds.example.com/rss?region=HK&token=s3cr3t&lang=en",
            "https://feeds.example.com/rss?region=HK&token=****&lang=en",
        ),
        (
            "https://x.example.com/f?api_key=abc&X-Amz-Signature=deadbeef",
            "https://x.example.com/f?api_key=****&X-Amz-Signature=****",
        ),
        (
            "https://x.example.com/f?access_token=a&sig=b&auth=c",
            "https://x.example.com/f?access_token=****&sig=****&auth=****",
        ),
        ("https://x.example.com/f?u=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5", "https://x.example.com/f?u=****"),
        # Plain feed URLs stay exactly as written.
        (
            "https://feeds.finance.yahoo.com/rss/2.0/headline?s=BABA&region=US&lang=en-US",
            "https://feeds.finance.yahoo.com/rss/2.0/headline?s=BABA&region=US&lang=en-US",
        ),
        ("https://www.asiafinancial.com/feed", "https://www.asiafinancial.com/feed"),
        ("http://127.0.0.1:8080/feed?author=jane", "http://127.0.0.1:8080/feed?author=jane"),
    ],
)
def test_redact_url_masks_userinfo_and_secret_query_values(url: str, expected: str) -> None:
    """Userinfo and secret-looking query values become ****; the rest of the URL is kept as written."""
    assert redact_url(url) == expected


def test_interpolated_values_are_secret_in_any_position(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ${VAR} value is masked wherever it appears, even in a path segment no heuristic would suspect."""
    monkeypatch.setenv("FEED_PATH_KEY", "plainwordpath")
    (tmp_path / "wl.yaml").write_text(WATCHLIST, encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text(
        "feeds: [{name: p, url: 'https://feeds.example.com/${FEED_PATH_KEY}/rss'}]\nwatchlist: wl.yaml\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert "plainwordpath" in settings.secrets
    url = settings.feeds[0].url
    assert redact_url(url) == "https://feeds.example.com/****/rss"
    assert "plainwordpath" not in str(PermanentFeedError("p", url, "not found (404)"))
    assert "plainwordpath" not in redact_text(f"GET {url} and plainwordpath alone")


def test_validation_errors_do_not_quote_interpolated_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A config error that quotes a bad URL masks the ${VAR} part of it."""
    monkeypatch.setenv("FEED_SECRET_TOKEN", "tok-0123456789")
    (tmp_path / "wl.yaml").write_text(WATCHLIST, encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text(
        "feeds: [{name: p, url: 'https:///rss/${FEED_SECRET_TOKEN}'}]\nwatchlist: wl.yaml\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert "has no host name" in str(err.value) and "tok-0123456789" not in str(err.value)


def test_feed_error_text_is_redacted_and_survives_pickling() -> None:
    """FeedError's message masks the URL's secrets; a pickled error (from a parse worker) arrives whole."""
    url = "https://bob:pw-123456@feeds.example.com/rss?token=abcdef"
    err = TransientFeedError("f", url, f"connection failed (while fetching {url})", 503)
    assert "pw-123456" not in str(err) and "abcdef" not in str(err)
    assert str(err).startswith("feed 'f' (https://****@feeds.example.com/rss?token=****): connection failed")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is TransientFeedError
    assert (back.feed, back.url, back.reason, back.status) == (err.feed, url, err.reason, 503)
    assert str(back) == str(err)


def test_cli_run_keeps_feed_credentials_out_of_logs_output_and_state(
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`run -v` with user:pass@ and ?token=${VAR} in a failing feed URL: no secret in logs, stderr or state."""
    httpserver.expect_request("/feed").respond_with_data("gone", status=404)
    monkeypatch.setenv("FEED_PASSWORD", "pa55-word-xyz")
    monkeypatch.setenv("FEED_TOKEN", "tkn-987654")
    (tmp_path / "wl.yaml").write_text(WATCHLIST, encoding="utf-8")
    url = f"http://reader:${{FEED_PASSWORD}}@127.0.0.1:{httpserver.port}/feed?token=${{FEED_TOKEN}}"
    path = tmp_path / "c.yaml"
    path.write_text(
        f"feeds: [{{name: guarded, url: '{url}'}}]\nwatchlist: wl.yaml\nstate: sqlite:///state.db\n",
        encoding="utf-8",
    )
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(app, ["run", "-v", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert httpserver.log, "the feed was not requested"
    assert "feed guarded: error:" in result.output  # the failure is still reported...
    # werkzeug is the test server's own access log, not ours.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")
    assert "feed=guarded status=404" in logged  # ...and the fetcher's line naming the URL is there, redacted
    assert "127.0.0.1" in logged and "****" in logged
    for secret in ("pa55-word-xyz", "tkn-987654"):
        assert secret not in result.output
        assert secret not in logged
    store = SQLiteStore(tmp_path / "state.db")
    try:
        health = store.load_feeds(["guarded"])["guarded"]
    finally:
        store.close()
    assert "not found (404)" in str(health.last_error)
    assert "pa55-word-xyz" not in str(health.last_error) and "tkn-987654" not in str(health.last_error)
    assert "pa55-word-xyz" not in str(health.to_dict()) and "tkn-987654" not in str(health.to_dict())


def test_urllib3_debug_lines_do_not_show_webhook_tokens(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, urllib3 logs each request path; a webhook token in the path is masked there too."""
    token = "wh-token-5f2c9a7e41"
    httpserver.expect_request(f"/hooks/{token}", method="POST").respond_with_data("ok")
    notifier = Notifier([ChannelConfig(url=f"json://127.0.0.1:{httpserver.port}/hooks/{token}", name="hook")])
    caplog.set_level(logging.DEBUG)
    notifier.send_text("hook", "moverwatch test", "hello")
    assert httpserver.log, "the webhook was not called"
    lines = [(r.name, r.getMessage()) for r in caplog.records if r.name != "werkzeug"]
    assert any(name.startswith("urllib3") and "POST /hooks/" in msg for name, msg in lines), lines
    assert all(token not in msg for _name, msg in lines)


@pytest.mark.parametrize(
    ("channel", "text", "secrets"),
    [
        (
            "tgram://123456789:AAHfiXzq-botTOKEN/12345",
            "POST https://api.telegram.org/bot123456789:AAHfiXzq-botTOKEN/sendMessage",
            ["AAHfiXzq-botTOKEN", "123456789:AAHfiXzq-botTOKEN"],
        ),
        (
            "pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi",
            "to azGDORePK8gMaC0QOYAMyEEuzJnyUi",
            ["azGDORePK8gMaC0QOYAMyEEuzJnyUi"],
        ),
        ("ntfy://my-private-topic-77", "publish to ntfy.sh/my-private-topic-77", ["my-private-topic-77"]),
        (
            "discord://112233/webhook-token-abc",
            "POST /api/webhooks/112233/webhook-token-abc",
            ["webhook-token-abc"],
        ),
    ],
)
def test_channel_tokens_in_the_host_position_are_redacted(
    channel: str, text: str, secrets: list[str]
) -> None:
    """Telegram bot tokens, Pushover keys and ntfy topics sit where a host name would: masked as well."""
    out = Redactor([channel])(text)
    assert all(s not in out for s in secrets), out


@pytest.mark.parametrize(
    ("channel", "kept"),
    [
        ("json://127.0.0.1:8080/hook", "127.0.0.1:8080"),
        ("mailtos://desk:pw-abcdef@smtp.example.com?to=desk@example.com", "smtp.example.com"),
    ],
)
def test_real_host_names_are_kept_readable(channel: str, kept: str) -> None:
    """A channel's real host stays readable in messages, so the user can tell which channel failed."""
    out = Redactor([channel])(f"connection to {kept} refused")
    assert kept in out


def test_logged_tracebacks_are_redacted_too(caplog: pytest.LogCaptureFixture) -> None:
    """An exception logged on a URL-seeing logger has its traceback text redacted, not just the message."""
    protect_url_loggers()
    remember_secrets(["trace-secret-42"])
    caplog.set_level(logging.DEBUG)
    try:
        raise RuntimeError("failed https://u:trace-secret-42@h.example.com/x")
    except RuntimeError:
        logging.getLogger("httpx").exception("request failed")
    (record,) = [r for r in caplog.records if r.name == "httpx"]
    assert record.exc_text and "trace-secret-42" not in record.exc_text
    assert "RuntimeError: failed https://****@h.example.com/x" in record.exc_text
