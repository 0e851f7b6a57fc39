"""What a run shows in the Prefect UI: one summary line, artifacts (per-deployment keys) and events.

Events (for automations): ``moverwatch.alert.sent`` (one per alert and channel), ``moverwatch.delivery.dead``
(an alert given up after ``delivery.max_attempts``), ``moverwatch.feed.down`` / ``moverwatch.feed.recovered``
(a feed's health crossed ``fetch.feed_down_after``; the same moment its notice is queued).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event
from prefect.runtime import deployment, flow_run

from moverwatch.errors import MoverwatchError
from moverwatch.health import warning_kind
from moverwatch.models import Alert, DeadLetter, FeedHealth, FeedOutcome
from moverwatch.outbox import DeliveryReport
from moverwatch.pipeline import CycleReport

_SLUG = re.compile(r"[^a-z0-9-]+")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


class AllSendsFailedError(MoverwatchError):
    """Every send of a run failed: the run ends Failed (the alerts stay queued and are retried)."""


@dataclass(frozen=True)
class RunCounts:
    """The counts of one run, as its summary line: ``feeds=… new=… alerts=… sent=… failed=… pending=… dead=…``."""

    feeds: int = 0
    new: int = 0
    alerts: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0
    dead: int = 0
    feed_errors: int = 0

    @classmethod
    def of(cls, report: CycleReport) -> RunCounts:
        d = report.delivery
        return cls(
            feeds=len(report.feeds),
            new=report.new_items,
            alerts=len(report.enqueued),
            sent=len(d.sent),
            failed=len(d.failed),
            pending=report.pending,
            dead=report.dead_total,
            feed_errors=sum(1 for o in report.feeds if o.error),
        )

    def line(self) -> str:
        return " ".join(f"{k}={v}" for k, v in asdict(self).items())

    @classmethod
    def parse(cls, line: str | None) -> RunCounts:
        """Read counts back from a summary line (a shard run's state message); unknown words are ignored."""
        names = {f.name for f in fields(cls)}
        found = dict(w.split("=", 1) for w in (line or "").split() if "=" in w)
        return cls(**{k: int(v) for k, v in found.items() if k in names and v.isdigit()})

    def __add__(self, other: RunCounts) -> RunCounts:
        return RunCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def artifact_key(suffix: str) -> str:
    """An artifact key per flow and deployment (``poll-feeds-pool-summary``), so a served deployment's and a
    worker deployment's artifacts do not share one history."""
    parts = [flow_run.flow_name or "moverwatch", deployment.name or "", suffix]
    return _SLUG.sub("-", "-".join(p for p in parts if p).lower()).strip("-")


def md(text: str) -> str:
    """Feed text made inert in markdown (no links, images or HTML from a headline)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _link(text: str, url: str) -> str:
    if not url.startswith(("https://", "http://")):
        return md(text)
    return f"[{md(text)}]({url.replace(' ', '%20').replace('(', '%28').replace(')', '%29')})"


def summary_markdown(
    title: str, counts: RunCounts, sent: Sequence[tuple[Alert, str]], outcomes: Sequence[FeedOutcome]
) -> str:
    """The run's summary: counts, the alerts sent (linked headlines), the failing feeds."""
    rows = "\n".join(f"| {k} | {v} |" for k, v in asdict(counts).items())
    lines = [f"# {title}", "", "| count | value |", "|---|---|", rows, "", "## Alerts sent", ""]
    lines += [
        f"- **{md(a.symbol)}** {a.direction} {'' if a.pct is None else f'{a.pct:g}%'} → {md(ch)}: "
        f"{_link(a.headline, a.url)} ({md(a.source)})"
        for a, ch in sent
    ] or ["(none)"]
    failing = [o for o in outcomes if o.error]
    lines += ["", "## Failing feeds", ""]
    lines += [f"- **{md(o.name)}** {o.status} (HTTP {o.http}): {md(o.error or '')}" for o in failing] or [
        "(none)"
    ]
    return "\n".join(lines) + "\n"


def publish_cycle(report: CycleReport, counts: RunCounts, dead: Sequence[DeadLetter]) -> None:
    """The poll run's artifacts: the summary, alerts sent, feed health, dead alerts (when any)."""
    create_markdown_artifact(
        key=artifact_key("summary"),
        markdown=summary_markdown("moverwatch poll", counts, report.delivery.sent, report.feeds),
        description=counts.line(),
    )
    publish_delivery(report.delivery)
    create_table_artifact(
        key=artifact_key("feed-health"),
        table=health_rows(report.feeds),
        description="Feed status in this run",
    )
    if dead:
        create_table_artifact(
            key=artifact_key("dead-alerts"),
            table=[
                {
                    "channel": d.channel,
                    "symbol": getattr(d.message, "symbol", "(notice)"),
                    "attempts": d.attempts,
                    "error": d.error,
                    "headline": getattr(d.message, "headline", None) or getattr(d.message, "title", ""),
                }
                for d in dead
            ],
            description="Alerts that could not be delivered after max_attempts",
        )


def publish_sharded(counts: RunCounts, delivery: DeliveryReport) -> None:
    """The sharded run's artifacts: the summary and the alerts sent (feed health is in each shard's run)."""
    create_markdown_artifact(
        key=artifact_key("summary"),
        markdown=summary_markdown("moverwatch poll (sharded)", counts, delivery.sent, [])
        + "\nFeed health: see the `poll-shard` runs of this run.\n",
        description=counts.line(),
    )
    publish_delivery(delivery)


def publish_delivery(d: DeliveryReport) -> None:
    """A table of the alerts sent by this run."""
    create_table_artifact(
        key=artifact_key("alerts-sent"),
        table=[
            {
                "symbol": a.symbol,
                "direction": a.direction,
                "pct": a.pct,
                "kind": a.kind,
                "channel": ch,
                "headline": a.headline,
                "source": a.source,
                "url": a.url,
            }
            for a, ch in d.sent
        ]
        or [{"symbol": "(none)"}],
        description="Alerts delivered in this run",
    )


def health_rows(outcomes: Sequence[FeedOutcome]) -> list[dict[str, Any]]:
    """Feeds that failed or brought news, then one row counting the quiet ones (a 1,000-row table every five
    minutes would bury the failures and load the API)."""
    notable = [
        o
        for o in outcomes
        if o.error or o.new or o.warnings or o.status not in ("ok", "not_modified", "not_due")
    ]
    rows: list[dict[str, Any]] = [
        {
            "feed": o.name,
            "status": o.status,
            "http": o.http,
            "items": o.items,
            "new": o.new,
            "ms": round(o.ms),
            "error": o.error or "",
            # What the parser had to put up with (malformed XML, entries skipped), one kind per line.
            "warnings": "; ".join(sorted({warning_kind(w) for w in o.warnings})),
        }
        for o in sorted(notable, key=lambda o: (o.error is None, o.name))
    ]
    quiet = len(outcomes) - len(notable)
    if quiet or not rows:
        rows.append({"feed": f"({quiet} more feeds: unchanged or not due)", "status": "ok"})
    return rows


def emit_delivery_events(d: DeliveryReport) -> None:
    """One event per alert sent and per alert given up (dead)."""
    for a, ch in d.sent:
        emit_event(
            event="moverwatch.alert.sent",
            resource=_alert_resource(a),
            related=[_channel(ch)],
            payload=_alert_payload(a, ch),
        )
    for a, ch, reason in d.dead:
        emit_event(
            event="moverwatch.delivery.dead",
            resource=_alert_resource(a),
            related=[_channel(ch)],
            payload={**_alert_payload(a, ch), "error": reason},
        )


def feed_transitions(
    before: Mapping[str, FeedHealth], after: Mapping[str, FeedHealth]
) -> list[tuple[str, FeedHealth]]:
    """("down" | "recovered", health) of the feeds whose down notice flag changed in this run."""
    out = []
    for name, h in after.items():
        was = before.get(name)
        was_down = was.down_notified if was else False
        if h.down_notified != was_down:
            out.append(("down" if h.down_notified else "recovered", h))
    return out


def emit_feed_events(transitions: Iterable[tuple[str, FeedHealth]]) -> None:
    """``moverwatch.feed.down`` / ``moverwatch.feed.recovered`` per feed that crossed the line."""
    for what, h in transitions:
        emit_event(
            event=f"moverwatch.feed.{what}",
            resource={"prefect.resource.id": f"moverwatch.feed.{h.name}", "prefect.resource.name": h.name},
            payload={
                "feed": h.name,
                "url": h.url,
                "failing_since": h.failing_since.isoformat() if h.failing_since else None,
                "error": h.last_error,
                "consecutive_failures": h.consecutive_failures,
            },
        )


def check_delivered(counts: RunCounts, d: DeliveryReport) -> None:
    """Raise when this run tried to send and every send failed (the UI then shows the run Failed)."""
    if (d.failed or d.dead) and not d.sent and not d.notices:
        raise AllSendsFailedError(
            f"every send failed ({len(d.failed)} to retry, {len(d.dead)} dead; first error: "
            f"{(d.failed or d.dead)[0][2]}): {counts.line()}"
        )


def _alert_resource(a: Alert) -> dict[str, str]:
    return {"prefect.resource.id": f"moverwatch.alert.{a.event_key}", "prefect.resource.name": a.symbol}


def _channel(ch: str) -> dict[str, str]:
    return {"prefect.resource.id": f"moverwatch.channel.{ch}", "prefect.resource.role": "channel"}


def _alert_payload(a: Alert, ch: str) -> dict[str, Any]:
    return {
        "symbol": a.symbol,
        "direction": a.direction,
        "pct": a.pct,
        "kind": a.kind,
        "headline": a.headline,
        "url": a.url,
        "source": a.source,
        "channel": ch,
    }
