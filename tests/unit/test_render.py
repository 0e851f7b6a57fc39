"""Tests for moverwatch.notify.render: golden output per channel, and hostile feed text staying inert."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest

from moverwatch.models import Alert
from moverwatch.notify.render import (
    SLACK_HEADLINE_LIMIT,
    SUBJECT_LIMIT,
    clean_text,
    format_pct,
    render_console,
    render_digest,
    render_digest_slack,
    render_email,
    render_push,
    render_slack,
    safe_url,
)

TESTS = Path(__file__).parent.parent
GOLDEN = TESTS / "golden"
FIXTURES = TESTS / "fixtures"
INJECTION_FEED = "broken/injection_titles.xml"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"

# Characters that hide or reorder text: zero-width, bidi embeddings/overrides/isolates, BOM.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
LIVE_MENTION = re.compile(r"@(here|channel|everyone)\b")
PUBLISHED = datetime(2025, 2, 21, 9, 45, 12, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------------------
# Representative alerts for the golden files (headlines and URLs taken from tests/fixtures/feeds)
# ---------------------------------------------------------------------------------------------------------

GOLDEN_CASES: dict[str, tuple[Alert, str | None]] = {
    "new_pct": (
        Alert(
            event_key="9988.HK:up:2025-02-21",
            symbol="9988.HK",
            direction="up",
            pct=14.0,
            headline="Alibaba Shares Jump 14% as China Tech Stocks Hit a Hot Streak",
            url="https://www.asiafinancial.com/alibaba-shares-jump-14-as-china-tech-stocks-hit-a-hot-streak",
            source="asiafinancial",
            published_at=PUBLISHED,
            name="Alibaba",
        ),
        "Asia/Hong_Kong",
    ),
    "escalation": (
        Alert(
            event_key="NIO:down:2025-02-21",
            symbol="NIO",
            direction="down",
            pct=17.0,
            headline="NIO Shares Plunge 17% After Surprise $1.2bn Share Sale",
            url="https://www.asiafinancial.com/nio-shares-plunge-17-after-surprise-1-2bn-share-sale",
            source="asiafinancial",
            published_at=datetime(2025, 2, 21, 7, 40, 55, tzinfo=UTC),
            kind="escalation",
            name="NIO",
        ),
        "America/New_York",
    ),
    "no_pct_also_reported": (
        Alert(
            event_key="9988.HK:up:2025-02-21",
            symbol="9988.HK",
            direction="up",
            pct=None,
            headline="Alibaba leads Hong Kong tech rally as Hang Seng Index logs sixth weekly gain",
            url=(
                "https://www.scmp.com/business/markets/article/3299611/"
                "alibaba-leads-hong-kong-tech-rally-as-hang-seng-index-logs-sixth-weekly-gain?utm_source=rss_feed"
            ),
            source="scmp",
            published_at=datetime(2025, 2, 21, 8, 41, 5, tzinfo=UTC),
            also_reported_by=("asiafinancial", "Nikkei Asia", "Reuters"),
        ),
        None,
    ),
}


def _golden_outputs(alert: Alert, tz: str | None) -> dict[str, str]:
    """Every channel's rendering of one alert, as the text stored in tests/golden/."""
    email = render_email(alert, tz)
    push = render_push(alert)
    return {
        "slack.json": json.dumps(render_slack(alert, tz), ensure_ascii=False, indent=2) + "\n",
        "email.txt": f"Subject: {email.subject}\n\n{email.text}",
        "email.html": email.html,
        "push.txt": f"Title: {push.title}\n\n{push.body}\n",
        "console.txt": render_console(alert) + "\n",
    }


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_golden_renderings(case: str) -> None:
    """Each channel shows a representative alert exactly as reviewed in tests/golden/ (UPDATE_GOLDEN=1)."""
    alert, tz = GOLDEN_CASES[case]
    for suffix, actual in _golden_outputs(alert, tz).items():
        path = GOLDEN / f"{case}.{suffix}"
        if UPDATE_GOLDEN:
            path.parent.mkdir(exist_ok=True)
            path.write_text(actual, encoding="utf-8")
        assert path.read_text(encoding="utf-8") == actual, (
            f"{path.name} differs; review, then UPDATE_GOLDEN=1"
        )


# ---------------------------------------------------------------------------------------------------------
# Hostile titles from the injection fixture
# ---------------------------------------------------------------------------------------------------------


def _injection_entries() -> list[Any]:
    raw = (FIXTURES / "feeds" / INJECTION_FEED).read_bytes()
    parsed = feedparser.parse(raw)
    expected = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))["parse"][INJECTION_FEED]
    assert len(parsed.entries) == expected["entries"]
    return list(parsed.entries)


ENTRIES = _injection_entries()


def _alert_from(entry: Any) -> Alert:
    return Alert(
        event_key=f"BABA:up:{entry.get('id', '')}",
        symbol="BABA",
        direction="up",
        pct=14.0,
        headline=entry.title,
        url=entry.link,
        source="asiafinancial",
        published_at=PUBLISHED,
    )


def _entry(guid: str) -> Any:
    return next(e for e in ENTRIES if e.id == guid)


def _slack_texts(payload: Any) -> Iterator[str]:
    """Every string Slack renders from a payload: top-level text and each text object's text."""
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _slack_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from _slack_texts(item)


def _all_plain_outputs(alert: Alert) -> dict[str, str]:
    email = render_email(alert, "Asia/Hong_Kong")
    push = render_push(alert)
    return {
        "slack": "\n".join(_slack_texts(render_slack(alert, "Asia/Hong_Kong"))),
        "digest_slack": "\n".join(_slack_texts(render_digest_slack([alert]))),
        "subject": email.subject,
        "email_text": email.text,
        "email_html": email.html,
        "push": f"{push.title}\n{push.body}",
        "console": render_console(alert),
        "digest": render_digest([alert]),
    }


def _entry_ids() -> list[str]:
    return [e.id for e in ENTRIES]


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_ids())
def test_slack_has_no_live_markup_from_feed_text(entry: Any) -> None:
    """No <!channel>, <@user>, raw < > or <url|text> link from a feed title survives in Slack text."""
    alert = _alert_from(entry)
    title_tokens = re.findall(r"<[^<>]*>", entry.title)
    own_link = safe_url(alert.url)
    for payload in (render_slack(alert, "Asia/Hong_Kong"), render_digest_slack([alert, alert])):
        for text in _slack_texts(payload):
            for token in title_tokens:
                assert token not in text
            # The only angle-bracket markup allowed is our own link to the alert's (safe) URL.
            for markup in re.findall(r"<([^<>]*)>", text):
                assert own_link is not None and markup.startswith(own_link.replace("&", "&amp;") + "|")
                assert markup.count("|") == 1, "a feed pipe must not re-cut the link label"
            assert "<!" not in text and "<@" not in text and "<#" not in text


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_ids())
def test_no_live_broadcast_mentions_in_chat_outputs(entry: Any) -> None:
    """@here, @channel and @everyone from a title never reach Slack, push or a digest as a live mention."""
    alert = _alert_from(entry)
    outputs = _all_plain_outputs(alert)
    for channel in ("slack", "digest_slack", "push", "digest"):
        assert not LIVE_MENTION.search(outputs[channel]), channel


def test_mention_attempt_stays_readable() -> None:
    """The mass-mention title is still shown, with a full-width ＠ the reader recognises."""
    text = render_slack(_alert_from(_entry("inj-2")))["blocks"][0]["text"]["text"]
    assert "＠here ＠channel ＠everyone" in text
    assert "&lt;!channel&gt; &lt;!here&gt;" in text


def test_slack_mrkdwn_from_feed_does_not_format() -> None:
    """*bold*, _italic_, ~strike~ and `code` in a title show as look-alike text, not formatting."""
    title = _entry("inj-3").title
    formatted = re.findall(r"([*_~`])[^*_~`\s][^*_~`]*\1", title)
    assert formatted, "fixture should contain mrkdwn formatting"
    texts = list(_slack_texts(render_slack(_alert_from(_entry("inj-3")))))
    headline_part = texts[1].split("—", 1)[1]  # after our own "*▲ BABA up 14%*" prefix
    for char in "*_~`":
        assert char not in headline_part
    assert "∗BREAKING∗ ˍNIOˍ ∼plunges∼ ˋ17%ˋ" in headline_part


def test_slack_text_objects_are_verbatim() -> None:
    """Slack is told not to auto-link URLs, channels or mentions it finds in the message text."""
    payload = render_slack(_alert_from(_entry("inj-8")), "Asia/Hong_Kong")
    objects = [payload["blocks"][0]["text"], *payload["blocks"][1]["elements"]]
    assert all(obj["type"] == "mrkdwn" and obj["verbatim"] is True for obj in objects)


def test_javascript_link_is_never_rendered() -> None:
    """A javascript: item link is shown nowhere, in no channel, and never as a link."""
    entry = _entry("inj-5")
    assert entry.link.startswith("javascript:")
    alert = _alert_from(entry)
    for channel, text in _all_plain_outputs(alert).items():
        assert entry.link not in text, channel
        assert "javascript:alert" not in text, channel
    slack_main = render_slack(alert)["blocks"][0]["text"]["text"]
    assert "<" not in slack_main
    assert "<a " not in render_email(alert).html
    assert not any(
        line.startswith("javascript") for line in render_push(alert).body.splitlines()[1:]
    )  # no link line
    assert render_console(alert).endswith("| (no link)")


def test_long_title_is_truncated_everywhere() -> None:
    """A 300+ character title is cut with "…" to each channel's limit."""
    entry = _entry("inj-6")
    assert len(entry.title) > 300
    alert = _alert_from(entry)
    label = render_slack(alert)["blocks"][0]["text"]["text"].split("|", 1)[1].rstrip(">")
    assert len(label) <= SLACK_HEADLINE_LIMIT and label.endswith("…")
    subject = render_email(alert).subject
    assert len(subject) <= SUBJECT_LIMIT and subject.endswith("…")
    assert render_push(alert).body.split("\n")[0].endswith("…")
    assert "… |" in render_console(alert)
    for channel, text in _all_plain_outputs(alert).items():
        assert entry.title not in text, channel


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_ids())
def test_invisible_and_bidi_characters_are_removed(entry: Any) -> None:
    """Zero-width and right-to-left override characters never reach any channel."""
    for channel, text in _all_plain_outputs(_alert_from(entry)).items():
        assert not INVISIBLE.search(text), channel


def test_zero_width_split_symbol_is_joined() -> None:
    """A symbol split by a zero-width space reads as the plain symbol again."""
    entry = _entry("inj-7")
    assert "\u200b" in entry.title and "\u202e" in entry.title
    assert "BABA +14%" in render_email(_alert_from(entry)).subject


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_ids())
def test_feed_newlines_do_not_break_lines(entry: Any) -> None:
    """The subject, the Slack line and the console line stay single lines whatever the title holds."""
    alert = _alert_from(entry)
    subject = render_email(alert).subject
    assert "\n" not in subject and "\r" not in subject
    assert "\n" not in render_console(alert)
    assert "\n" not in render_slack(alert)["blocks"][0]["text"]["text"]
    assert "\n" not in render_push(alert).title
    assert render_push(alert).body.count("\n") <= 2  # headline, source · time, link


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


@pytest.mark.parametrize("entry", ENTRIES, ids=_entry_ids())
def test_email_html_has_only_our_tags(entry: Any) -> None:
    """The HTML email contains only our own tags; feed <script> and markup arrive as escaped text."""
    alert = _alert_from(entry)
    page = render_email(alert).html
    collector = _TagCollector()
    collector.feed(page)
    assert {tag for tag, _ in collector.tags} <= {"html", "head", "meta", "body", "p", "strong", "a", "br"}
    for tag, attrs in collector.tags:
        if tag == "a":
            assert attrs == [("href", safe_url(alert.url))]
    assert "<script" not in page.lower()
    if "<script>" in entry.title:
        assert "&lt;script&gt;" in page


def test_off_site_link_shows_its_real_host() -> None:
    """An item linking off-site shows that host, so it is not mistaken for the feed's own site."""
    alert = _alert_from(_entry("inj-8"))
    context = render_slack(alert)["blocks"][1]["elements"][0]["text"]
    assert "link: evil.example" in context
    assert "Link host: evil.example" in render_email(alert).text


def test_slack_text_objects_fit_slack_limits() -> None:
    """Even a worst-case headline and URL give Slack text objects of 1 to 3000 characters."""
    url = "https://example.com/?" + "a=1&" * 470
    assert safe_url(url) is not None
    alert = replace(_alert_from(ENTRIES[0]), headline="&<>" * 400, url=url, also_reported_by=("x&",) * 50)
    for payload in (render_slack(alert, "Asia/Tokyo"), render_digest_slack([alert] * 30)):
        for text in _slack_texts(payload):
            assert 1 <= len(text) <= 3000
        assert len(payload["blocks"]) <= 50


# ---------------------------------------------------------------------------------------------------------
# Helpers and smaller behaviours
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.asiafinancial.com/inj-1",
        "http://example.com",
        "HTTPS://Example.com/a?b=1&c=2",
        "https://example.com:8443/x#frag",
        "https://en.wikipedia.org/wiki/Moody's",
    ],
)
def test_safe_url_accepts_plain_web_links(url: str) -> None:
    """http(s) links with a host are kept as links."""
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert('x')",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "ftp://example.com/file",
        "https://",
        "https:///path-only",
        "//example.com/protocol-relative",
        "/relative/path",
        "",
        "https://www.asiafinancial.com@evil.example/",
        "https://evil.example\\@www.asiafinancial.com/",
        "https://example.com/a b",
        "https://example.com/a>b|c",
        "https://example.com/\x1b[31mred",
        "https://example.com/\u202eevil",
        "https://example.com:99999/",
        "https://example.com/" + "a" * 2000,
    ],
)
def test_safe_url_refuses_anything_else(url: str) -> None:
    """Non-web schemes, missing hosts, credentials, spaces and control characters are never linked."""
    assert safe_url(url) is None


def test_safe_url_trims_surrounding_whitespace() -> None:
    """A link padded with whitespace in the feed is still usable."""
    assert safe_url("  https://example.com/x\n") == "https://example.com/x"


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        ("  Alibaba\n\tshares\u00a0jump  ", None, "Alibaba shares jump"),
        ("B\u200bABA \u202e%41\u202c \ufeffup", None, "BABA %41 up"),
        ("bell\x07 and \x1b[31mescape", None, "bell and [31mescape"),
        ("line\u2028separator", None, "line separator"),
        ("Alibaba Shares Jump 14% as China Tech", 20, "Alibaba Shares Jump…"),
        ("#" * 50, 10, "#########…"),
        ("short", 10, "short"),
    ],
)
def test_clean_text(raw: str, limit: int | None, expected: str) -> None:
    """clean_text strips invisible/control characters, collapses whitespace and truncates with "…"."""
    assert clean_text(raw, limit) == expected
    if limit is not None:
        assert len(clean_text(raw, limit)) <= limit


@pytest.mark.parametrize(
    ("pct", "expected"),
    [(14.0, "14%"), (14.5, "14.5%"), (5.2, "5.2%"), (15.63, "15.6%"), (11.96, "12%"), (None, "big move")],
)
def test_format_pct(pct: float | None, expected: str) -> None:
    """Percentages show at most one decimal and never a trailing ".0"."""
    assert format_pct(pct) == expected


def test_unknown_timezone_falls_back_to_utc() -> None:
    """A bad exchange zone name still delivers the alert, with the time in UTC only."""
    alert, _ = GOLDEN_CASES["new_pct"]
    context = render_slack(alert, "Mars/Olympus_Mons")["blocks"][1]["elements"][0]["text"]
    assert context.endswith("2025-02-21 09:45 UTC")


def test_zone_without_abbreviation_is_named() -> None:
    """An exchange zone with only a numeric abbreviation is labelled with its IANA name."""
    alert, _ = GOLDEN_CASES["new_pct"]
    assert "(2025-02-21 17:45 Asia/Singapore)" in render_email(alert, "Asia/Singapore").text


def test_naive_time_is_taken_as_utc() -> None:
    """A naive published_at is shown as UTC, not shifted by the server's local zone."""
    alert, _ = GOLDEN_CASES["new_pct"]
    naive = replace(alert, published_at=datetime(2025, 2, 21, 9, 45))
    assert "2025-02-21 09:45 UTC" in render_console(naive)


def test_digest_lists_one_alert_per_line() -> None:
    """The flood-control digest says how many alerts follow and lists each on its own line."""
    alerts = [case[0] for case in GOLDEN_CASES.values()]
    lines = render_digest(alerts).split("\n")
    assert lines[0] == "3 more alerts:"
    assert lines[1].startswith("▲ 9988.HK up 14% — Alibaba Shares Jump 14%")
    assert lines[2].startswith("▼ NIO now down 17% — NIO Shares Plunge 17%")
    assert lines[3].startswith("▲ 9988.HK big move up — Alibaba leads")
    assert render_digest([]) == ""


def test_digest_caps_its_length() -> None:
    """A flood of alerts becomes a capped list ending in "…and N more"."""
    alerts = [GOLDEN_CASES["new_pct"][0]] * 45
    lines = render_digest(alerts).split("\n")
    assert len(lines) == 22 and lines[-1] == "…and 25 more"
    payload = render_digest_slack(alerts)
    assert payload["text"] == "45 more alerts:"
    assert payload["blocks"][-1]["elements"][0]["text"] == "…and 25 more"


def test_rendering_is_deterministic() -> None:
    """Rendering is pure: the same alert always renders the same way."""
    alert, tz = GOLDEN_CASES["escalation"]
    assert _golden_outputs(alert, tz) == _golden_outputs(alert, tz)
