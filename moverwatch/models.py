"""Typed values passed between the stages: NewsItem (parse → detect), Move (detect), Alert (dedup → notify)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Direction = Literal["up", "down"]
Where = Literal["title", "summary", "body"]
AlertKind = Literal["new", "escalation"]


@dataclass(frozen=True, slots=True)
class NewsItem:
    """One feed entry, normalised: plain-text title and summary, aware-UTC time, canonical URL."""

    source: str
    guid: str
    url: str
    canonical_url: str
    title: str
    summary: str
    published_at: datetime | None
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Move:
    """A big price move of one watched symbol stated in a news item."""

    symbol: str
    direction: Direction
    pct: float | None
    evidence: str = ""
    where: Where = "title"


@dataclass(frozen=True, slots=True)
class Alert:
    """One message to send: a new move event or an escalation of one already sent."""

    event_key: str
    symbol: str
    direction: Direction
    pct: float | None
    headline: str
    url: str
    source: str
    published_at: datetime
    also_reported_by: tuple[str, ...] = field(default_factory=tuple)
    kind: AlertKind = "new"
    tags: tuple[str, ...] = field(default_factory=tuple)
    name: str = ""
