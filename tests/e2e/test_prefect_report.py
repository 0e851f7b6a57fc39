"""What a run reports, without a Prefect API: the summary line round-trip (shard counts), feed down/recovered
transitions (the feed events), the markdown summary's escaping of feed text, the all-sends-failed rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.report import (
    AllSendsFailedError,
    RunCounts,
    check_delivered,
    feed_transitions,
    summary_markdown,
)
from moverwatch.models import Alert, FeedHealth, FeedOutcome
from moverwatch.outbox import DeliveryReport

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _alert(headline: str, url: str) -> Alert:
    return Alert("BABA|up", "BABA", "up", 14.0, headline, url, "asiafinancial", NOW)


def test_summary_line_round_trips_and_adds_up() -> None:
    """A shard's summary line (its state message) parses back to its counts, and counts add per field."""
    a = RunCounts(feeds=3, new=10, alerts=2, feed_errors=1)
    assert a.line() == "feeds=3 new=10 alerts=2 sent=0 failed=0 pending=0 dead=0 feed_errors=1"
    assert RunCounts.parse(a.line()) == a and RunCounts.parse(None) == RunCounts()
    assert (a + RunCounts(feeds=2, sent=4)).line().startswith("feeds=5 new=10 alerts=2 sent=4")


def test_feed_transitions_name_the_feeds_that_went_down_or_recovered() -> None:
    """Only feeds whose down flag changed in the run give a transition: down when set, recovered when cleared."""
    up = FeedHealth("af", "https://af.example/feed")
    down = FeedHealth("af", "https://af.example/feed", down_notified=True, failing_since=NOW)
    other = FeedHealth("nk", "https://nk.example/feed", down_notified=True)
    assert feed_transitions({"af": up, "nk": other}, {"af": down, "nk": other}) == [("down", down)]
    assert feed_transitions({"af": down}, {"af": up}) == [("recovered", up)]
    assert feed_transitions({}, {"af": down}) == [("down", down)]


def test_summary_markdown_links_headlines_and_keeps_feed_text_inert() -> None:
    """Headlines are linked to their article; markdown or HTML in feed text is escaped, not rendered; failing
    feeds are listed."""
    evil = _alert("Alibaba [up](javascript:alert(1)) <b>14%</b>", "https://af.example/a (1)")
    md = summary_markdown(
        "poll",
        RunCounts(sent=1),
        [(evil, "desk")],
        [FeedOutcome("nk", "https://nk.example/feed", "error", 503, "HTTP 503")],
    )
    assert "](https://af.example/a%20%281%29)" in md
    assert r"\[up\]\(javascript:alert\(1\)\)" in md and r"\<b\>" in md
    assert "**nk** error (HTTP 503): HTTP 503" in md


def test_all_sends_failed_raises_but_a_partial_success_does_not() -> None:
    """A run whose every send failed raises (the run ends Failed); one success, or nothing to send, does not."""
    a = _alert("x", "https://af.example/x")
    failed = DeliveryReport(failed=[(a, "desk", "HTTP 500")])
    with pytest.raises(AllSendsFailedError, match="every send failed .*HTTP 500"):
        check_delivered(RunCounts(failed=1), failed)
    check_delivered(RunCounts(), DeliveryReport())
    check_delivered(RunCounts(sent=1, failed=1), DeliveryReport(sent=[(a, "mail")], failed=failed.failed))
