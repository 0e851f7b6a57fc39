"""Event-level dedup: decide whether a detected move is a new event, an escalation, or a duplicate.

Pure functions over plain records; the state store applies `decide` atomically (Redis WATCH/MULTI,
SQLite one transaction) so concurrent workers agree on exactly one alert per event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from moverwatch.models import Alert, Move, NewsItem

Decision = Literal["new", "escalation", "duplicate"]


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What the store remembers about one (symbol, direction) event inside its window."""

    key: str
    symbol: str
    direction: str
    first_seen: datetime
    expires_at: datetime
    sent_pct: float | None
    # Sources in the order they reported; the first is the one alerted.
    sources: tuple[str, ...] = field(default_factory=tuple)
    urls: tuple[str, ...] = field(default_factory=tuple)
    escalations: int = 0  # escalation alerts sent for this event so far

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["first_seen"] = self.first_seen.isoformat()
        d["expires_at"] = self.expires_at.isoformat()
        d["sources"] = list(self.sources)
        d["urls"] = list(self.urls)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EventRecord:
        return cls(
            key=d["key"],
            symbol=d["symbol"],
            direction=d["direction"],
            first_seen=datetime.fromisoformat(d["first_seen"]),
            expires_at=datetime.fromisoformat(d["expires_at"]),
            sent_pct=d.get("sent_pct"),
            sources=tuple(d.get("sources", ())),
            urls=tuple(d.get("urls", ())),
            escalations=int(d.get("escalations", 0)),
        )


def event_key(move: Move) -> str:
    """The identity of an event: the same symbol moving the same way."""
    return f"{move.symbol}|{move.direction}"


def item_keys(item: NewsItem) -> list[str]:
    """The keys under which an item counts as seen: its guid and its canonical URL."""
    # A URL-shaped guid (WordPress's ?p=ID) names the story across feeds and formats (RSS, Atom, category
    # feeds); any other guid (a UUID, a counter) is only unique within its own feed.
    keys = []
    if item.guid:
        keys.append(
            f"guid:{item.guid}"
            if item.guid.startswith(("http://", "https://"))
            else f"guid:{item.source}:{item.guid}"
        )
    if item.canonical_url:
        keys.append(f"url:{item.canonical_url}")
    return keys


def decide(
    existing: EventRecord | None,
    item: NewsItem,
    move: Move,
    published_at: datetime,
    now: datetime,
    window: timedelta,
    escalate_points: float,
    tags: tuple[str, ...] = (),
    name: str = "",
    max_escalations: int | None = None,
) -> tuple[Decision, EventRecord, Alert | None]:
    """Return the decision, the record to store and the alert to enqueue (None for a duplicate).

    An event escalates at most ``max_escalations`` times (None: no cap)."""
    key = event_key(move)
    if existing is not None and existing.expires_at <= now:
        existing = None  # the window has passed: a new move is a new event
    alert = Alert(
        event_key=key,
        symbol=move.symbol,
        direction=move.direction,
        pct=move.pct,
        headline=item.title,
        url=item.url,
        source=item.source,
        published_at=published_at,
        kind="new",
        tags=tags,
        name=name,
        where=move.where,
        seen_at=item.fetched_at,
        publisher=item.publisher,
    )
    if existing is None:
        record = EventRecord(
            key=key,
            symbol=move.symbol,
            direction=move.direction,
            first_seen=now,
            expires_at=now + window,
            sent_pct=move.pct,
            sources=(item.source,),
            urls=(item.canonical_url or item.url,),
        )
        return "new", record, alert
    url = item.canonical_url or item.url
    sources = existing.sources if item.source in existing.sources else (*existing.sources, item.source)
    urls = existing.urls if url in existing.urls else (*existing.urls, url)
    # A first alert without a number ("hits record high") counts as 0: a later sized report of the same
    # move then escalates once, because the number is what the desk needs.
    capped = max_escalations is not None and existing.escalations >= max_escalations
    if not capped and move.pct is not None and move.pct >= (existing.sent_pct or 0.0) + escalate_points:
        record = replace(
            existing, sent_pct=move.pct, sources=sources, urls=urls, escalations=existing.escalations + 1
        )
        return "escalation", record, replace(alert, kind="escalation", also_reported_by=existing.sources)
    return "duplicate", replace(existing, sources=sources, urls=urls), None
