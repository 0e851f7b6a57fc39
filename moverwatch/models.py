"""Every value that crosses a stage, typed: fetch → FetchResult, parse → ParseResult/NewsItem, detect → Move,
dedup → Alert, outbox → Notice/DeadLetter, health → FeedHealth/FeedOutcome.

Plain frozen dataclasses with no behaviour beyond their own (de)serialisation, so `scrapers/` and every
core stage can share them without importing each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from moverwatch.errors import FeedError

Direction = Literal["up", "down"]
Where = Literal["title", "summary", "body"]
AlertKind = Literal["new", "escalation"]
NoticeKind = Literal["feed_down", "feed_recovered"]
# What a feed's health record says of its last poll; "never" before the first one.
HealthStatus = Literal["ok", "not_modified", "error", "blocked", "disabled", "never"]
# The outcome of one poll.
PollStatus = Literal["ok", "not_modified", "error", "blocked"]
ErrorKind = Literal["transient", "permanent", "blocked"]
# What happened to a feed in one cycle: a poll outcome, or why it was not polled.
OutcomeStatus = Literal["ok", "not_modified", "error", "blocked", "disabled", "not_due"]

# Bundled sample feeds (the offline demo) are named ``sample://<file>``.
SAMPLE_SCHEME = "sample://"
# The identifying User-Agent of every request, unless a feed or `fetch.user_agent` says otherwise.
DEFAULT_USER_AGENT = "moverwatch/0.1 (+https://github.com/moverwatch/moverwatch)"


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
    # The outlet behind an aggregator's item (Google News' <source>), when the feed names one.
    publisher: str = ""


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
    where: Where = "title"  # where the number was read: the feed's title or summary, or the article page
    seen_at: datetime | None = None  # when we first fetched the report (its lag behind publication)
    publisher: str = ""  # the outlet behind an aggregator's item ("Reuters" in a Google News feed)


@dataclass(frozen=True, slots=True)
class Notice:
    """A message about the service itself (a feed down or recovered), sent to every channel via the outbox."""

    key: str
    kind: NoticeKind
    title: str
    body: str


# What the outbox carries to a channel.
Message = Alert | Notice


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A delivery parked after `delivery.max_attempts` failed sends."""

    id: str
    channel: str
    message: Message
    attempts: int
    error: str
    dead_at: datetime | None

    @property
    def alert(self) -> Alert:
        """The alert that could not be sent (a dead notice has none)."""
        if not isinstance(self.message, Alert):
            raise TypeError(f"dead letter {self.id} holds a notice, not an alert")
        return self.message


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message for one channel, taken from the outbox by one worker."""

    id: str
    channel: str
    message: Message
    attempts: int  # failed attempts so far
    worker: str = ""  # who holds it: only this worker may renew, ack, retry or bury it
    last_error: str = ""  # why the previous attempt failed
    queued_at: datetime | None = None  # when it entered the outbox

    @property
    def alert(self) -> Alert:
        """The alert this delivery carries (a notice's delivery has none)."""
        if not isinstance(self.message, Alert):
            raise TypeError(f"delivery {self.id} holds a notice, not an alert")
        return self.message


def message_to_dict(message: Message) -> dict[str, Any]:
    """JSON-safe form of an outbox message (the state stores keep this)."""
    if isinstance(message, Notice):
        return {"notice": True, "key": message.key, "kind": message.kind, "title": message.title,
                "body": message.body}  # fmt: skip
    d = asdict(message)
    d["published_at"] = message.published_at.isoformat()
    d["seen_at"] = message.seen_at.isoformat() if message.seen_at else None
    d["also_reported_by"] = list(message.also_reported_by)
    d["tags"] = list(message.tags)
    return d


def message_from_dict(d: dict[str, Any]) -> Message:
    """Inverse of ``message_to_dict``."""
    if d.get("notice"):
        return Notice(key=d["key"], kind=d["kind"], title=d["title"], body=d["body"])
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
        where=d.get("where", "title"),
        seen_at=datetime.fromisoformat(d["seen_at"]) if d.get("seen_at") else None,
        publisher=d.get("publisher", ""),
    )


# ---------------------------------------------------------------------------------------------- news in
@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch produced: a new body, "not modified", or a typed error."""

    name: str
    url: str
    final_url: str
    status: int | None
    body: bytes | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    not_modified: bool
    error: FeedError | None
    elapsed_ms: float
    moved_to: str | None = None
    retry_after_s: float | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class ParseResult:
    """The outcome of parsing one feed document: usable items, or an error, plus warnings."""

    feed: str
    items: tuple[NewsItem, ...]
    version: str
    warnings: tuple[str, ...]
    error: FeedError | None
    skipped: int


# ---------------------------------------------------------------------------------------------- feeds
_DATETIME_FIELDS = ("last_success", "next_poll", "failing_since")


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """What we know about one feed between polls: last outcome, validators, failures, next poll time."""

    name: str
    url: str  # polled instead of the configured URL after a permanent redirect ("": the configured one)
    last_status: HealthStatus = "never"
    last_http: int | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    items_seen: int = 0
    next_poll: datetime | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    disabled: bool = False
    failing_since: datetime | None = None
    # A "feed down" notice went out and no "recovered" one yet.
    down_notified: bool = False
    # A fingerprint of the configured URL this record started with (a changed URL starts a new record).
    config_url: str | None = None
    # Kinds of warning the last parsed body raised (a malformed feed, entries skipped): shown once each.
    warnings: tuple[str, ...] = ()

    def is_due(self, now: datetime) -> bool:
        """True when the feed should be polled at ``now`` (never for a disabled feed)."""
        return not self.disabled and (self.next_poll is None or self.next_poll <= now)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for a state store: datetimes as ISO 8601 strings."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedHealth:
        """Inverse of ``to_dict``; unknown keys are ignored and missing ones take their defaults."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in _DATETIME_FIELDS:
            if isinstance(values.get(key), str):
                values[key] = datetime.fromisoformat(values[key])
        values["warnings"] = tuple(values.get("warnings", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What happened to one feed in this cycle (one log line, one health-table row)."""

    name: str
    url: str
    status: OutcomeStatus
    http: int | None = None
    error: str | None = None
    items: int = 0
    new: int = 0
    alerts: int = 0
    ms: float = 0.0
    warnings: tuple[str, ...] = ()
