"""Outbox entries: one pending delivery of one alert to one channel, and their (de)serialisation.

Claiming an event and enqueuing its deliveries happen in one atomic step in the state store; a
delivery is acknowledged per channel only after the channel accepted it, so nothing is marked sent
until sent. Failures back off exponentially and are parked as dead after `max_attempts`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from moverwatch.models import Alert


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery taken from the outbox by one worker."""

    id: str
    channel: str
    alert: Alert
    attempts: int  # failed attempts so far


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    d = asdict(alert)
    d["published_at"] = alert.published_at.isoformat()
    d["also_reported_by"] = list(alert.also_reported_by)
    d["tags"] = list(alert.tags)
    return d


def alert_from_dict(d: dict[str, Any]) -> Alert:
    return Alert(
        event_key=d["event_key"],
        symbol=d["symbol"],
        direction=d["direction"],
        pct=d.get("pct"),
        headline=d["headline"],
        url=d["url"],
        source=d["source"],
        published_at=datetime.fromisoformat(d["published_at"]),
        also_reported_by=tuple(d.get("also_reported_by", ())),
        kind=d.get("kind", "new"),
        tags=tuple(d.get("tags", ())),
        name=d.get("name", ""),
    )


def retry_delay(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff after `attempts` failures: base, 2×base, 4×base, … capped."""
    delay: timedelta = base * (2 ** max(0, attempts - 1))
    return min(cap, delay)
