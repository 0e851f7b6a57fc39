"""Feed-health bookkeeping: backoff, Retry-After, 410 disabling, redirects and storage round-trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from moverwatch.health import POLL_SLACK, backoff_s, health_table, new_health, next_health
from moverwatch.models import FeedHealth

NOW = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)
INTERVAL = 300.0
URL = "https://www.asiafinancial.com/feed"
SLACK = INTERVAL * POLL_SLACK  # every scheduled delay comes this much early (the next run finds it due)


def fresh() -> FeedHealth:
    return FeedHealth(name="af", url=URL, config_url=URL)


def fail(prev: FeedHealth, now: datetime = NOW, **kw: object) -> FeedHealth:
    return next_health(prev, status="error", now=now, interval_s=INTERVAL, error="boom", **kw)  # type: ignore[arg-type]


def test_new_feed_is_never_polled_and_due() -> None:
    """A feed never polled shows status 'never' and is due at once."""
    h = fresh()
    assert h.last_status == "never" and h.is_due(NOW)


def test_success_schedules_next_poll_and_records_validators() -> None:
    """A 200 records validators, counts new items and schedules the next poll one interval later."""
    h = next_health(
        fresh(), status="ok", now=NOW, interval_s=INTERVAL, http_status=200, etag='"v1"',
        last_modified="Fri, 21 Feb 2025 10:42:17 GMT", body_hash="abc", new_items=5,
    )  # fmt: skip
    assert h.last_status == "ok" and h.last_http == 200 and h.last_success == NOW
    assert (h.etag, h.body_hash, h.items_seen) == ('"v1"', "abc", 5)
    assert h.next_poll == NOW + timedelta(seconds=INTERVAL - SLACK)
    assert not h.is_due(NOW) and h.is_due(NOW + timedelta(seconds=INTERVAL - SLACK))


def test_not_modified_keeps_previous_validators() -> None:
    """A 304 without new validators keeps the stored ETag/Last-Modified/hash and counts no items."""
    ok = next_health(
        fresh(), status="ok", now=NOW, interval_s=INTERVAL, etag='"v1"', body_hash="abc", new_items=3
    )
    h = next_health(
        ok, status="not_modified", now=NOW + timedelta(minutes=5), interval_s=INTERVAL, http_status=304
    )
    assert h.last_status == "not_modified" and h.etag == '"v1"' and h.body_hash == "abc" and h.items_seen == 3


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    """Consecutive failures wait interval × 2^(n-1), never longer than the cap."""
    h = fresh()
    delays = []
    for _ in range(12):
        h = fail(h)
        assert h.next_poll is not None
        delays.append((h.next_poll - NOW).total_seconds())
    assert delays[:5] == [d - SLACK for d in (300, 600, 1200, 2400, 4800)]
    assert max(delays) == 6 * 3600 - SLACK and delays[-1] == 6 * 3600 - SLACK
    assert h.consecutive_failures == 12 and h.last_status == "error" and h.last_error == "boom"


def test_success_resets_the_failure_streak() -> None:
    """After failures, one success clears the error, the streak and failing_since."""
    h = fail(fail(fresh()), now=NOW + timedelta(minutes=1))
    assert h.failing_since == NOW  # the start of the outage, not the latest failure
    h = next_health(h, status="ok", now=NOW + timedelta(hours=1), interval_s=INTERVAL)
    assert h.consecutive_failures == 0 and h.failing_since is None and h.last_error is None


def test_retry_after_longer_than_backoff_is_respected() -> None:
    """A server's Retry-After beyond our backoff wins; a shorter one does not shorten the backoff."""
    h = fail(fresh(), http_status=429, error_kind="transient", retry_after_s=3600)
    assert h.next_poll == NOW + timedelta(seconds=3600)
    h = fail(fresh(), http_status=503, error_kind="transient", retry_after_s=5)
    assert h.next_poll == NOW + timedelta(seconds=INTERVAL - SLACK)


def test_410_disables_the_feed() -> None:
    """410 Gone disables the feed: status 'disabled', no next poll, never due."""
    h = fail(fresh(), http_status=410, error_kind="permanent")
    assert h.disabled and h.last_status == "disabled" and h.next_poll is None
    assert not h.is_due(NOW + timedelta(days=30))


def test_bot_challenge_is_reported_as_blocked() -> None:
    """A Cloudflare challenge shows as 'blocked' and backs off like any failure."""
    h = fail(fresh(), http_status=403, error_kind="blocked")
    assert h.last_status == "blocked" and h.next_poll == NOW + timedelta(seconds=INTERVAL - SLACK)


def test_permanent_redirect_updates_the_url() -> None:
    """A permanent redirect target replaces the stored feed URL."""
    new = "https://www.asiafinancial.com/feed/"
    h = next_health(fresh(), status="ok", now=NOW, interval_s=INTERVAL, moved_to=new)
    assert h.url == new


@pytest.mark.parametrize("failures", [0, 1, 10, 1000])
def test_backoff_never_overflows(failures: int) -> None:
    """Even a very long outage gives a finite delay within [interval, cap]."""
    assert INTERVAL <= backoff_s(failures, INTERVAL, 6 * 3600) <= 6 * 3600


def test_round_trip_through_json() -> None:
    """to_dict is JSON-safe (ISO datetimes) and from_dict restores an equal value."""
    h = fail(next_health(fresh(), status="ok", now=NOW, interval_s=INTERVAL, etag='"v1"', new_items=2))
    data = json.loads(json.dumps(h.to_dict()))
    assert data["last_success"] == NOW.isoformat()
    assert FeedHealth.from_dict(data) == h
    assert FeedHealth.from_dict({"name": "x", "url": URL, "unknown": 1}) == FeedHealth(name="x", url=URL)


def test_blocked_status_is_accepted_directly() -> None:
    """The caller may pass status='blocked' instead of error_kind='blocked'; the feed shows as blocked."""
    h = next_health(
        fresh(), status="blocked", now=NOW, interval_s=INTERVAL, http_status=403, error="challenge"
    )
    assert h.last_status == "blocked" and h.consecutive_failures == 1


def test_new_health_is_due() -> None:
    """A never-polled feed record starts with status 'never', is due immediately and keeps no URL (feed URLs
    may carry credentials): only a fingerprint of the configured one."""
    h = new_health("af", URL)
    assert h.last_status == "never" and h.consecutive_failures == 0 and h.is_due(NOW)
    assert h.url == "" and URL not in str(h.to_dict()) and h.config_url == new_health("af", URL).config_url


def test_health_table_lists_every_feed() -> None:
    """The health table has a header and one line per feed, showing disabled and never-polled feeds."""
    ok = next_health(fresh(), status="ok", now=NOW, interval_s=INTERVAL, http_status=200, new_items=4)
    gone = next_health(
        FeedHealth(name="old", url=URL), status="error", now=NOW, interval_s=INTERVAL, http_status=410,
        error="gone (410): feed disabled",
    )  # fmt: skip
    table = health_table([("af", URL, ok), ("old", URL, gone), ("new", URL, None)], now=NOW)
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["FEED", "STATUS"] and len(lines) == 4
    assert (
        lines[1].split()[:3] == ["af", "ok", "200"] and "2025-02-21 11:34Z" in lines[1]
    )  # 11:35 less the slack
    assert lines[2].split()[:2] == ["old", "disabled"] and "never" in lines[2] and "gone (410)" in lines[2]
    assert lines[3].split()[:2] == ["new", "never"] and "due" in lines[3]
