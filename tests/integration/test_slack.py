"""Slack through Apprise: the exact request sent to Slack's webhook (captured; Slack's host is unreachable here)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import feedparser
import pytest
import responses

from moverwatch.config import ChannelConfig
from moverwatch.errors import DeliveryError
from moverwatch.models import Alert
from moverwatch.notify import Notifier

from ..conftest import FEEDS

HOOK = "https://hooks.slack.com/services/T1234ABCD/B5678EFGH/abcdefghijklmnopqrstuvwx"
NOW = datetime(2025, 2, 21, 9, 45, 12, tzinfo=UTC)


def _send(alert: Alert) -> dict[str, object]:
    notifier = Notifier([ChannelConfig(url=HOOK, name="slack")], timezones={"BABA": "Asia/Hong_Kong"})
    with responses.RequestsMock() as rs:
        rs.add(responses.POST, HOOK, body="ok")
        notifier.send("slack", alert)
        [call] = rs.calls
        assert call.request.url == HOOK
        body = call.request.body
        assert body is not None
        return json.loads(body)  # type: ignore[no-any-return]


def _texts(payload: dict[str, object]) -> list[str]:
    out: list[str] = []

    def walk(x: object) -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "text" and isinstance(v, str):
                    out.append(v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(payload)
    return out


def test_slack_request_carries_block_kit_alert() -> None:
    """The webhook gets Block Kit blocks with the headline as a link, symbol, arrow, pct, source and times."""
    alert = Alert(
        "BABA|up",
        "BABA",
        "up",
        14.0,
        "Alibaba Shares Jump 14% as China Tech Stocks Hit a Hot Streak",
        "https://www.asiafinancial.com/alibaba-shares-jump-14-as-china-tech-stocks-hit-a-hot-streak",
        "asiafinancial",
        NOW,
        ("asiamarketsdigest",),
    )
    payload = _send(alert)
    [attachment] = payload["attachments"]  # type: ignore[index]
    blocks = attachment["blocks"]
    assert blocks[0]["type"] == "section"
    text = "\n".join(_texts(payload))
    assert (
        "<https://www.asiafinancial.com/alibaba-shares-jump-14-as-china-tech-stocks-hit-a-hot-streak|Alibaba Shares Jump 14%"
        in text
    )
    assert "BABA" in text and "▲" in text and "14%" in text
    assert "asiafinancial" in text and "asiamarketsdigest" in text
    assert "09:45 UTC" in text and "17:45 HKT" in text


def test_slack_request_defuses_hostile_feed_titles() -> None:
    """Titles from the injection fixture reach Slack with no live mention, link or broadcast."""
    feed = feedparser.parse((FEEDS / "broken" / "injection_titles.xml").read_bytes())
    for entry in feed.entries:
        alert = Alert("BABA|up", "BABA", "up", 14.0, entry.title, entry.get("link", ""), "asiafinancial", NOW)
        text = "\n".join(_texts(_send(alert)))
        for bad in (
            "<!channel>",
            "<!here>",
            "<!everyone>",
            "@here",
            "@channel",
            "@everyone",
            "<http://evil.example|",
            "<javascript:",
        ):
            assert bad not in text, (bad, entry.title)


def test_slack_token_never_appears_in_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    """A failing Slack send (even with DEBUG logging) never prints the webhook token."""
    caplog.set_level(logging.DEBUG)
    notifier = Notifier([ChannelConfig(url=HOOK, name="slack")])
    alert = Alert(
        "BABA|up", "BABA", "up", 14.0, "Alibaba jumps 14%", "https://www.asiafinancial.com/x", "af", NOW
    )
    with responses.RequestsMock() as rs:
        rs.add(responses.POST, HOOK, body="invalid_token", status=403)
        with pytest.raises(DeliveryError) as err:
            notifier.send("slack", alert)
    token = "abcdefghijklmnopqrstuvwx"
    assert token not in str(err.value)
    assert token not in caplog.text
    assert "B5678EFGH" not in caplog.text


def _capture(send: Callable[[Notifier], None]) -> dict[str, object]:
    notifier = Notifier([ChannelConfig(url=HOOK, name="slack")])
    with responses.RequestsMock() as rs:
        rs.add(responses.POST, HOOK, body="ok")
        send(notifier)
        [call] = rs.calls
        body = call.request.body
        assert body is not None
        return json.loads(body)  # type: ignore[no-any-return]


def test_slack_digest_is_block_kit_with_feed_text_escaped() -> None:
    """A flood-control digest reaches Slack as escaped Block Kit, one section per alert, no live mention."""
    hostile = Alert(
        "BABA|up",
        "BABA",
        "up",
        14.0,
        "<!channel> Alibaba jumps & @here",
        "https://www.asiafinancial.com/x",
        "af",
        NOW,
    )
    other = Alert("JD|up", "JD", "up", 9.0, "JD.com surges 9%", "https://www.asiafinancial.com/y", "af", NOW)
    payload = _capture(lambda n: n.send_digest("slack", [hostile, other]))
    [attachment] = payload["attachments"]  # type: ignore[index]
    assert len(attachment["blocks"]) == 3  # heading + two alerts
    text = "\n".join(_texts(payload))
    assert "&lt;!channel&gt; Alibaba jumps &amp;" in text
    assert "<!channel>" not in text and "@here" not in text


def test_slack_notice_escapes_quoted_error_text() -> None:
    """A feed-down notice quoting a server's text cannot ping the channel."""
    payload = _capture(
        lambda n: n.send_text("slack", "Feed down: af", "HTTP 503: <!here> maintenance @channel")
    )
    text = "\n".join(_texts(payload))
    assert "Feed down: af" in text and "&lt;!here&gt;" in text
    assert "<!here>" not in text and "@channel" not in text
