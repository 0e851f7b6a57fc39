"""Turn an Alert into the text each channel kind shows: Slack, email, push, console and digests.

Everything here is pure: no I/O (apart from zoneinfo reading the tz database once), no logging, no Apprise.
Feed text (headline, source names, URL) is hostile input, so every renderer runs it through the same steps:

1. ``clean_text``: drop control, zero-width and bidi-override characters (they hide or reorder text),
   collapse all whitespace including newlines to single spaces (no line or header injection), then
   truncate with "…". Truncation happens *before* escaping so an entity is never cut in half.
2. Per-channel escaping:

   * Slack: ``&``, ``<``, ``>`` become ``&amp; &lt; &gt;``, which alone makes ``<!channel>``, ``<!here>``,
     ``<@U…>``, ``<#C…>`` and ``<http://x|y>`` inert. Slack mrkdwn has no escape character, so the
     formatting characters ``* _ ~ ` `` are replaced by look-alikes that Slack does not parse
     (``∗ ˍ ∼ ˋ``) and every ``@`` by the full-width ``＠`` (U+FF20), so ``@here``, ``@channel``,
     ``@everyone`` and ``@usergroup`` can never ping, whatever ``link_names`` setting a webhook has. We
     chose look-alike characters over inserted zero-width joiners because Slack (or a client) may strip
     invisible characters and revive the mention; a visible substitute cannot be undone by normalising
     whitespace. All mrkdwn text objects also carry ``verbatim: true`` so Slack does not auto-link bare
     URLs or channel names found in feed text. Feed text never starts a line, so ``&gt;`` cannot become a
     block quote, and a ``|`` inside a link label becomes ``∣`` so it cannot re-cut ``<url|label>``.
   * Email HTML: ``html.escape(quote=True)`` on everything that came from the feed, including the href.
   * Push and plain digests: ``@`` becomes ``＠`` too, because a "push" channel may be Discord or
     Telegram, where ``@everyone`` pings.
3. Links: only ``safe_url`` URLs (http/https with a host, no credentials, no spaces or control characters)
   are ever rendered as links or shown; anything else (``javascript:``, ``data:``) is withheld. Next to a
   link we show its real host, so an off-site link from a trusted feed is not passed off as that feed's.

Callers: Slack output is already escaped mrkdwn. Send it as the webhook JSON as is; handing its text to
Apprise with ``body_format=TEXT`` escapes it a second time (``&amp;lt;``), and ``MARKDOWN`` runs a
CommonMark conversion over it. Email, push and console text is unescaped plain text (HTML aside).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from moverwatch.models import Alert

__all__ = [
    "EmailContent",
    "PushContent",
    "clean_text",
    "format_pct",
    "render_console",
    "render_digest",
    "render_digest_slack",
    "render_email",
    "render_notice_slack",
    "render_push",
    "render_slack",
    "safe_url",
]

# Headline lengths per channel: Slack and email have room, a subject line or a phone banner does not.
SLACK_HEADLINE_LIMIT = 200
EMAIL_HEADLINE_LIMIT = 200
SUBJECT_LIMIT = 120
PUSH_HEADLINE_LIMIT = 120
CONSOLE_HEADLINE_LIMIT = 100
DIGEST_HEADLINE_LIMIT = 100
# Source names come from config or from aggregator metadata ("- Reuters"); keep them label-sized.
SOURCE_LIMIT = 40
SYMBOL_LIMIT = 24
ALSO_REPORTED_MAX = 5
# A flood-control digest must stay one readable message (and under Slack's 50-block limit).
DIGEST_MAX_LINES = 20
# Longer URLs are almost always tracking junk or an attack; browsers and Slack cope badly with them.
URL_MAX_LENGTH = 2000
# Slack rejects a text object over 3000 characters; an escaped URL over this is dropped from the link so
# that URL + headline (at most 5 chars per char once escaped) always fit.
_SLACK_TEXT_MAX = 3000
_SLACK_LINK_URL_MAX = 1900

_ELLIPSIS = "…"
_ARROW = {"up": "▲", "down": "▼"}

# Controls (Cc), format characters (Cf: U+200B–U+200F, U+202A–U+202E, U+2066–U+2069, U+FEFF, soft hyphen)
# and lone surrogates (Cs, which would also break JSON/UTF-8 encoding). Whitespace is handled separately
# so "a\nb" becomes "a b", not "ab".
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})

# Slack mrkdwn has no escape character; these look-alikes read the same but are never parsed as markup.
_SLACK_MARKUP = str.maketrans(
    {
        "*": "\u2217",  # ∗ ASTERISK OPERATOR
        "_": "\u02cd",  # ˍ MODIFIER LETTER LOW MACRON
        "~": "\u223c",  # ∼ TILDE OPERATOR
        "`": "\u02cb",  # ˋ MODIFIER LETTER GRAVE ACCENT
        "@": "\uff20",  # ＠ FULLWIDTH COMMERCIAL AT: no @here/@channel/@everyone/@group ping
    }
)
_MENTION_ONLY = str.maketrans({"@": "\uff20"})
_PIPE_LOOKALIKE = "\u2223"  # ∣ DIVIDES

# RFC 3986 never allows these unencoded; browsers "fix" them in ways that differ from urlsplit, which is
# how look-alike hosts (https://good.example\@evil.example) get through, so refuse them.
_URL_FORBIDDEN = re.compile(r"[\s<>\"`\\^{}|]")


@dataclass(frozen=True, slots=True)
class EmailContent:
    """One email: a one-line subject, a plain-text part and an HTML part."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class PushContent:
    """One push notification: a short title and a one-line body with the link on a second line."""

    title: str
    body: str


# ---------------------------------------------------------------------------------------------------------
# Helpers shared with other modules
# ---------------------------------------------------------------------------------------------------------


def safe_url(url: str) -> str | None:
    """Return the URL if it is a plain http(s) link with a host, else None."""
    candidate = url.strip()
    if not candidate or len(candidate) > URL_MAX_LENGTH or _URL_FORBIDDEN.search(candidate):
        return None
    if any(unicodedata.category(ch) in _DROP_CATEGORIES for ch in candidate):
        return None
    try:
        parts = urlsplit(candidate)
        hostname = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port such as ":99999" or ":x"
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return None
    # user:pass@host hides the real host behind a trusted-looking name (https://www.asiafinancial.com@evil…).
    if "@" in parts.netloc:
        return None
    return candidate


def clean_text(s: str, limit: int | None = None) -> str:
    """Strip control, zero-width and bidi characters, collapse whitespace, truncate to limit with "…"."""
    # NBSP, newlines, tabs, U+2028/2029 are whitespace to str.split; drop invisible/format chars first so
    # "B\u200bABA" becomes "BABA" rather than "B ABA".
    kept = "".join(ch for ch in s if ch.isspace() or unicodedata.category(ch) not in _DROP_CATEGORIES)
    text = " ".join(kept.split())
    if limit is not None and len(text) > limit:
        text = _truncate(text, limit)
    return text


def format_pct(pct: float | None) -> str:
    """Format a percentage as "14%" or "5.2%" (one decimal, no trailing .0); None gives "big move"."""
    if pct is None or not math.isfinite(pct):
        return "big move"
    text = f"{pct:.1f}".removesuffix(".0")
    if text == "-0":
        text = "0"
    return f"{text}%"


# ---------------------------------------------------------------------------------------------------------
# Channel renderers
# ---------------------------------------------------------------------------------------------------------


def render_slack(alert: Alert, tz: str | None = None) -> dict[str, Any]:
    """Render a Slack webhook payload: a plain fallback "text" plus Block Kit "blocks"."""
    move = _slack(_move_phrase(alert))
    symbol = _slack(clean_text(alert.symbol, SYMBOL_LIMIT))
    headline = _slack(clean_text(alert.headline, SLACK_HEADLINE_LIMIT)) or "(no headline)"
    url = safe_url(alert.url)
    arrow = _ARROW[alert.direction]

    # The fixed "*▲ SYMBOL move*" prefix keeps feed text off the start of the line (no block quote).
    main = f"{arrow} *{symbol} {move}* — {_slack_link(url, headline)}"
    meta = [
        "Escalation" if alert.kind == "escalation" else "New move",
        _slack(_source(alert)),
    ]
    if url is not None:
        meta.append(f"link: {_slack(_host(url))}")
    meta.append(_slack(_when(alert.published_at, tz) + _lag(alert)))
    context: list[dict[str, Any]] = [_mrkdwn(" · ".join(part for part in meta if part))]
    also = _also_reported(alert.also_reported_by)
    if also:
        context.append(_mrkdwn(_slack(also)))

    return {
        # Notifications and old clients show only this; it is parsed as mrkdwn too, so same escaping.
        "text": f"{arrow} {symbol} {move} — {headline}",
        "blocks": [
            {"type": "section", "text": _mrkdwn(main)},
            {"type": "context", "elements": context},
        ],
    }


def render_email(alert: Alert, tz: str | None = None) -> EmailContent:
    """Render an email: one-line subject, plain-text part and fully escaped HTML part."""
    arrow = _ARROW[alert.direction]
    symbol = clean_text(alert.symbol, SYMBOL_LIMIT)
    headline = clean_text(alert.headline, EMAIL_HEADLINE_LIMIT) or "(no headline)"
    source = _source(alert)
    url = safe_url(alert.url)
    move = _move_phrase(alert)
    when = _when(alert.published_at, tz) + _lag(alert)
    also = _also_reported(alert.also_reported_by)
    kind = "Escalation" if alert.kind == "escalation" else "New move"

    # clean_text again over the whole line: it is the one place a stray newline would become a header.
    subject = clean_text(f"{symbol} {arrow} {_short_move(alert)} — {headline}", SUBJECT_LIMIT)

    text_lines = [f"{arrow} {symbol} {move} ({kind.lower()})", "", headline]
    if url is not None:
        text_lines.append(url)
    text_lines += ["", f"Source: {source}"]
    if url is not None:
        text_lines.append(f"Link host: {_host(url)}")
    text_lines.append(f"Published: {when}")
    if also:
        text_lines.append(also)
    text = "\n".join(text_lines) + "\n"

    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    if url is not None:
        title_html = f'<a href="{esc(url)}">{esc(headline)}</a>'
    else:
        title_html = esc(headline)
    rows = [f"<p><strong>{esc(f'{arrow} {symbol} {move}')}</strong> ({esc(kind.lower())})</p>"]
    rows.append(f"<p>{title_html}</p>")
    details = [f"Source: {esc(source)}"]
    if url is not None:
        details.append(f"Link host: {esc(_host(url))}")
    details.append(f"Published: {esc(when)}")
    if also:
        details.append(esc(also))
    rows.append("<p>" + "<br>\n".join(details) + "</p>")
    html_part = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n'
        + "\n".join(rows)
        + "\n</body></html>\n"
    )
    return EmailContent(subject=subject, text=text, html=html_part)


def render_push(alert: Alert) -> PushContent:
    """Render a push notification: "BABA ▲ 14%" and the headline, with the link on its own line."""
    symbol = clean_text(alert.symbol, SYMBOL_LIMIT)
    title = _defuse_mentions(f"{symbol} {_ARROW[alert.direction]} {_short_move(alert)}")
    body = _defuse_mentions(clean_text(alert.headline, PUSH_HEADLINE_LIMIT) or "(no headline)")
    # Source and time on their own short line: a desk reading a lock screen needs both.
    source = _defuse_mentions(_source(alert))
    body = f"{body}\n{source} · {_utc(alert.published_at)}"
    if alert.where == "body" and alert.pct is not None:  # the feed gave no number: say where it came from
        body += " · size per the article page"
    url = safe_url(alert.url)
    if url is not None:
        body = f"{body}\n{url}"
    return PushContent(title=title, body=body)


def render_console(alert: Alert) -> str:
    """Render one terminal line: arrow, symbol, move, headline, source, UTC time, link."""
    return " | ".join(
        [
            f"{_ARROW[alert.direction]} {clean_text(alert.symbol, SYMBOL_LIMIT)} {_move_phrase(alert)}",
            clean_text(alert.headline, CONSOLE_HEADLINE_LIMIT) or "(no headline)",
            _source(alert),
            _utc(alert.published_at) + _lag(alert),
            # The raw URL could carry terminal escape sequences; safe_url refuses control characters.
            safe_url(alert.url) or "(no link)",
        ]
    )


def render_digest(alerts: Sequence[Alert], *, heading: str | None = None) -> str:
    """Render several alerts as one plain message, one line each, under "N more alerts:"."""
    if not alerts:
        return ""
    lines = [_defuse_mentions(clean_text(heading)) if heading is not None else _digest_heading(len(alerts))]
    for alert in alerts[:DIGEST_MAX_LINES]:
        parts = [
            f"{_ARROW[alert.direction]} {clean_text(alert.symbol, SYMBOL_LIMIT)} {_move_phrase(alert)}",
            clean_text(alert.headline, DIGEST_HEADLINE_LIMIT) or "(no headline)",
        ]
        url = safe_url(alert.url)
        if url is not None:
            parts.append(url)
        lines.append(_defuse_mentions(" — ".join(parts)))
    if len(alerts) > DIGEST_MAX_LINES:
        lines.append(f"…and {len(alerts) - DIGEST_MAX_LINES} more")
    return "\n".join(lines)


def render_digest_slack(alerts: Sequence[Alert], *, heading: str | None = None) -> dict[str, Any]:
    """Render several alerts as one Slack payload with one escaped section per alert."""
    title = clean_text(heading) if heading is not None else _digest_heading(len(alerts))
    title_slack = _slack(title) or "No alerts"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(f"*{title_slack}*")}]
    for alert in alerts[:DIGEST_MAX_LINES]:
        symbol = _slack(clean_text(alert.symbol, SYMBOL_LIMIT))
        headline = _slack(clean_text(alert.headline, DIGEST_HEADLINE_LIMIT)) or "(no headline)"
        link = _slack_link(safe_url(alert.url), headline)
        line = f"{_ARROW[alert.direction]} *{symbol} {_slack(_move_phrase(alert))}* — {link}"
        blocks.append({"type": "section", "text": _mrkdwn(line)})
    if len(alerts) > DIGEST_MAX_LINES:
        blocks.append(
            {"type": "context", "elements": [_mrkdwn(f"…and {len(alerts) - DIGEST_MAX_LINES} more")]}
        )
    return {"text": title_slack, "blocks": blocks}


def render_notice_slack(title: str, body: str) -> dict[str, Any]:
    """A plain notice (test message, feed down/recovered) as a Slack payload, escaped like any feed text."""
    title_slack = _slack(clean_text(title, SLACK_HEADLINE_LIMIT)) or "moverwatch"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(f"*{title_slack}*")}]
    if body.strip():
        blocks.append({"type": "section", "text": _mrkdwn(_slack(clean_text(body)))})
    return {"text": title_slack, "blocks": blocks}


# ---------------------------------------------------------------------------------------------------------
# Internals
# ---------------------------------------------------------------------------------------------------------


def _truncate(text: str, limit: int) -> str:
    """Cut to at most limit characters ending in "…", preferring a word boundary near the end."""
    if limit <= 1:
        return _ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    # Only back off to a space if it costs little; a 300-char "#####" run has none and is cut hard.
    if space >= (limit - 1) * 4 // 5:
        cut = cut[:space]
    return cut.rstrip() + _ELLIPSIS


def _defuse_mentions(text: str) -> str:
    return text.translate(_MENTION_ONLY)


def _slack(text: str) -> str:
    """Escape already-cleaned text for Slack mrkdwn: &<> entities, markup look-alikes, inert @."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.translate(_SLACK_MARKUP)


def _slack_link(url: str | None, label: str) -> str:
    """A Slack <url|label> link from a safe URL and an escaped label, or just the label."""
    if url is None:
        return label
    # safe_url refused <, >, | and whitespace, so only & needs escaping inside the angle brackets.
    target = url.replace("&", "&amp;")
    if len(target) > _SLACK_LINK_URL_MAX:
        return label
    # Slack splits <url|label> at a pipe; a look-alike keeps a feed "|" from re-cutting the label.
    return f"<{target}|{label.replace('|', _PIPE_LOOKALIKE)}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack must not auto-link URLs, channel names or mentions it spots in feed text.
    return {"type": "mrkdwn", "text": text[:_SLACK_TEXT_MAX], "verbatim": True}


def _move_phrase(alert: Alert) -> str:
    """ "up 14%", "now down 19%" for an escalation, "big move up" when the size is unknown."""
    if alert.pct is None or not math.isfinite(alert.pct):
        phrase = f"big move {alert.direction}"
        return f"{phrase} (update)" if alert.kind == "escalation" else phrase
    phrase = f"{alert.direction} {format_pct(abs(alert.pct))}"
    if alert.where == "body":  # the feed's text gave no number: say where it came from
        phrase += " (per the article page)"
    return f"now {phrase}" if alert.kind == "escalation" else phrase


def _short_move(alert: Alert) -> str:
    """ "14%", "now 19%" or "big move": the arrow already carries the direction."""
    if alert.pct is None or not math.isfinite(alert.pct):
        return "big move"
    pct = format_pct(abs(alert.pct))
    return f"now {pct}" if alert.kind == "escalation" else pct


def _source(alert: Alert) -> str:
    """The feed's name, and the outlet behind it when an aggregator names one: "Reuters via google-news-baba"."""
    feed = clean_text(alert.source, SOURCE_LIMIT)
    outlet = clean_text(alert.publisher, SOURCE_LIMIT)
    return f"{outlet} via {feed}" if outlet and outlet != feed else feed


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _also_reported(names: Sequence[str]) -> str:
    cleaned = [name for name in (clean_text(n, SOURCE_LIMIT) for n in names) if name]
    if not cleaned:
        return ""
    shown = ", ".join(cleaned[:ALSO_REPORTED_MAX])
    extra = len(cleaned) - ALSO_REPORTED_MAX
    return f"Also reported by: {shown}" + (f" and {extra} more" if extra > 0 else "")


def _as_utc(when: datetime) -> datetime:
    # Alerts carry aware UTC times; a naive one is taken as UTC rather than as the server's local time.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _utc(when: datetime) -> str:
    return _as_utc(when).strftime("%Y-%m-%d %H:%M UTC")


def _when(when: datetime, tz: str | None) -> str:
    """ "2025-02-21 09:45 UTC", plus "(2025-02-21 17:45 HKT)" in the exchange's zone when tz is given."""
    utc_text = _utc(when)
    zone = _zone(tz)
    if zone is None:
        return utc_text
    local = _as_utc(when).astimezone(zone)
    # Zones without an abbreviation report "+08"; the IANA name is clearer then.
    abbrev = local.tzname() or ""
    label = abbrev if abbrev and abbrev[0] not in "+-" else str(tz)
    return f"{utc_text} ({local:%Y-%m-%d %H:%M} {label})"


def _lag(alert: Alert) -> str:
    """ ", seen 4 min after publication": how late the news reached us (nothing when unknown)."""
    if alert.seen_at is None:
        return ""
    minutes = max(0.0, (_as_utc(alert.seen_at) - _as_utc(alert.published_at)).total_seconds() / 60)
    late = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return f", seen {late} after publication"


def _zone(tz: str | None) -> ZoneInfo | None:
    # A bad zone name is a config problem reported elsewhere; the alert still goes out, in UTC only.
    if not tz:
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _digest_heading(count: int) -> str:
    return f"{count} more alert{'s' if count != 1 else ''}:"
