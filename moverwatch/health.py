"""Feed-health bookkeeping: from the previous state of a feed and one poll's outcome, its next state (pure).

Rules: a success resets failures and schedules the next poll one interval later; the n-th consecutive
failure waits ``interval × 2^(n-1)`` capped at ``backoff_cap_s``, or longer if the server's Retry-After
asks for it. Every such delay is shortened by ``POLL_SLACK`` of the interval: the run scheduled one interval
after this one starts a hair earlier than this run's clock read (scheduler jitter, worker start-up), and
without the slack it would find the feed not yet due and poll it only one interval later still; 410 Gone disables the feed (rss2email's rule) until someone re-enables it; a permanent
redirect replaces the stored URL. The record itself (``FeedHealth``) is in ``moverwatch.models``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from moverwatch.models import ErrorKind, FeedHealth, PollStatus
from moverwatch.redact import redact_text

# A server may ask for any Retry-After; beyond a day it is more likely a bug than a plan.
_MAX_RETRY_AFTER_S = 24 * 3600.0
# The share of a feed's interval by which its next poll comes early, so the next scheduled run finds it due
# (a run that starts up to 10% of the interval earlier or later than the one before still polls it).
POLL_SLACK = 0.1


def feed_alarm(h: FeedHealth, now: datetime, down_after: timedelta) -> Literal["down", "recovered"] | None:
    """Which notice a feed's health calls for: one "down" after failing for `down_after`, one "recovered"."""
    if h.failing_since is not None and not h.down_notified and now - h.failing_since >= down_after:
        return "down"
    if h.failing_since is None and h.down_notified:
        return "recovered"
    return None


def warning_kind(warning: str) -> str:
    """What kind of problem a parse warning reports, without its entry number or quoted values
    ("entry 4: duplicate guid 'x' within the feed; …" → "duplicate guid within the feed")."""
    text = re.sub(r"^entry \d+: ", "", warning)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "", text.split(";")[0])
    return " ".join(text.split("(")[0].split())


def new_warnings(
    h: FeedHealth, warnings: Sequence[str]
) -> tuple[tuple[str, ...], list[tuple[str, list[str]]]]:
    """The warning kinds of this poll, and those not reported for this feed at its last poll with their
    warnings: a malformed feed is reported once per kind, not every cycle."""
    by_kind: dict[str, list[str]] = {}
    for w in warnings:
        by_kind.setdefault(warning_kind(w), []).append(w)
    fresh = [(k, ws) for k, ws in by_kind.items() if k not in h.warnings]
    return tuple(sorted(by_kind)), fresh


def url_fingerprint(url: str) -> str:
    """What a health record keeps of the configured URL: enough to notice it changed, nothing of its secrets."""
    return "sha256:" + hashlib.sha256(url.encode()).hexdigest()[:24]


def new_health(name: str, url: str) -> FeedHealth:
    """The state of a feed that has never been polled (due at once). The record keeps no URL of its own
    until a permanent redirect gives one: feed URLs may carry credentials, and the store is not the place."""
    return FeedHealth(name=name, url="", config_url=url_fingerprint(url))


def backoff_s(failures: int, interval_s: float, cap_s: float) -> float:
    """Delay before the next poll after ``failures`` consecutive failures: interval × 2^(n-1), capped."""
    if failures <= 0:
        return interval_s
    # min() before the power keeps a long outage from overflowing the float.
    return min(interval_s * 2.0 ** min(failures - 1, 62), max(cap_s, interval_s))


def next_health(
    prev: FeedHealth,
    *,
    status: PollStatus,
    now: datetime,
    interval_s: float,
    http_status: int | None = None,
    error: str | None = None,
    error_kind: ErrorKind | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    body_hash: str | None = None,
    moved_to: str | None = None,
    retry_after_s: float | None = None,
    new_items: int = 0,
    backoff_cap_s: float = 6 * 3600,
) -> FeedHealth:
    """The feed's state after one poll (``now`` must be timezone-aware).

    ``status`` is the poll's outcome: 'ok' (new body), 'not_modified' (304 or same body hash), 'error', or
    'blocked' (a bot challenge; same as ``error_kind='blocked'``).
    """
    url = moved_to or prev.url
    if status in ("ok", "not_modified"):
        return replace(
            prev,
            url=url,
            last_status=status,
            last_http=http_status,
            last_success=now,
            last_error=None,
            consecutive_failures=0,
            items_seen=prev.items_seen + max(0, new_items),
            next_poll=now + timedelta(seconds=interval_s * (1 - POLL_SLACK)),
            etag=etag if etag is not None else prev.etag,
            last_modified=last_modified if last_modified is not None else prev.last_modified,
            body_hash=body_hash if body_hash is not None else prev.body_hash,
            disabled=False,
            failing_since=None,
        )

    failures = prev.consecutive_failures + 1
    failing_since = prev.failing_since or now
    if http_status == 410:
        # Gone: stop polling; only a config change (a new URL) brings it back.
        return replace(
            prev,
            url=url,
            last_status="disabled",
            last_http=http_status,
            last_error=error,
            consecutive_failures=failures,
            next_poll=None,
            disabled=True,
            failing_since=failing_since,
        )
    delay = backoff_s(failures, interval_s, backoff_cap_s) - interval_s * POLL_SLACK
    if retry_after_s is not None and retry_after_s > 0:
        delay = max(delay, min(retry_after_s, _MAX_RETRY_AFTER_S))
    return replace(
        prev,
        url=url,
        last_status="blocked" if "blocked" in (status, error_kind) else "error",
        last_http=http_status,
        last_error=error,
        consecutive_failures=failures,
        next_poll=now + timedelta(seconds=delay),
        failing_since=failing_since,
    )


def _when(dt: datetime | None, now: datetime | None) -> str:
    if dt is None:
        return "-"
    if now is not None and dt <= now:
        return "due"
    return dt.strftime("%Y-%m-%d %H:%M") + ("Z" if dt.utcoffset() is not None and not dt.utcoffset() else "")


def health_table(rows: Sequence[tuple[str, str, FeedHealth | None]], now: datetime | None = None) -> str:
    """A plain-text table of feed health, one line per (name, url, health or None if never polled).

    Columns: feed, status, HTTP code, last success, consecutive failures, items seen, next poll, last error.
    With ``now``, a next poll in the past reads "due".
    """
    header = (
        "FEED",
        "STATUS",
        "HTTP",
        "LAST SUCCESS",
        "FAILS",
        "ITEMS",
        "NEXT POLL",
        "WARNINGS",
        "LAST ERROR",
    )
    lines: list[tuple[str, ...]] = [header]
    for name, url, h in rows:
        h = h or new_health(name, url)
        error = redact_text(h.last_error or "")[:80]
        lines.append(
            (
                name,
                "disabled" if h.disabled else h.last_status,
                str(h.last_http) if h.last_http is not None else "-",
                _when(h.last_success, None),
                str(h.consecutive_failures),
                str(h.items_seen),
                "never" if h.disabled else _when(h.next_poll, now) if h.next_poll else "due",
                "; ".join(h.warnings)[:60] or "-",
                error,
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header) - 1)]
    return "\n".join(
        ("  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]).rstrip()
        for row in lines
    )
