"""The state store's contract: seen items, events, the delivery outbox, feed health.

Both backends give the same semantics and pass the same contract suite (tests/contract/test_state.py):
- `claim_event` reads an event record, lets a pure function decide, and writes the record together
  with the outbox entries it produced, atomically (Redis: WATCH/MULTI; SQLite: BEGIN IMMEDIATE).
- The outbox hands each due delivery to one worker at a time (Redis: a stream with a consumer group;
  SQLite: a lease column) and a delivery held longer than `claim_timeout` by a worker that died is
  taken over by the next one.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from moverwatch.dedup import EventRecord
from moverwatch.models import Alert, DeadLetter, Delivery, FeedHealth, Message, message_to_dict

# An update function receives the current event record (or None) and returns the record to store and
# the (alert, channel) deliveries to enqueue with it.
EventUpdate = Callable[[EventRecord | None], tuple[EventRecord, list[tuple[Alert, str]]]]


class StateStore(ABC):
    """Everything moverwatch remembers between runs."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StateStoreError when the store cannot be used."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def check(self) -> list[str]:
        """Problems with the store, one sentence each with what to do (empty when sound): `moverwatch doctor`."""

    def memory_key(self) -> str | None:
        """How this machine names the store when it remembers its generation; None for a store whose loss is
        not a wipe to detect (a SQLite file that is gone was removed on purpose)."""
        return None

    @abstractmethod
    def where(self) -> str:
        """Where the store is, safe to show (no password)."""

    @abstractmethod
    def generation(self) -> str:
        """This store's generation: an id written when the store is first used (atomically, once). A store
        wiped since (Redis restarted without persistence) answers a new id."""

    @abstractmethod
    def requeue_dead(self, now: datetime) -> int:
        """Put every dead letter back in the outbox, due now with no attempts spent; return how many."""

    # -- items -------------------------------------------------------------------------------------
    @abstractmethod
    def seen(self, keys: Sequence[str], ttl: timedelta, now: datetime) -> set[str]:
        """The subset of `keys` marked seen within `ttl` before `now` (the TTL given to mark_seen)."""

    @abstractmethod
    def mark_seen(self, keys: Iterable[str], ttl: timedelta, now: datetime) -> None:
        """Mark item keys as seen for `ttl`."""

    # -- events and outbox -------------------------------------------------------------------------
    @abstractmethod
    def claim_event(self, key: str, update: EventUpdate, now: datetime) -> list[tuple[Alert, str]]:
        """Apply `update` to the event atomically; returns the deliveries it enqueued."""

    @abstractmethod
    def get_event(self, key: str) -> EventRecord | None: ...

    @abstractmethod
    def enqueue(self, deliveries: Sequence[tuple[Message, str]], now: datetime) -> None:
        """Put messages that belong to no event (notices) in the outbox, due now."""

    @abstractmethod
    def take_deliveries(
        self, now: datetime, limit: int, worker: str, claim_timeout: timedelta
    ) -> list[Delivery]:
        """Hand out due deliveries to `worker`; each is held until acked, retried or buried."""

    @abstractmethod
    def renew(self, delivery: Delivery, now: datetime, claim_timeout: timedelta) -> bool:
        """Extend the worker's hold on a delivery before sending it; False when another worker took it over
        (the caller must then not send it)."""

    # The three ways a held delivery ends. Each returns False, changing nothing, when the delivery is no
    # longer held by `delivery.worker` (fencing: a stale worker cannot ack or re-queue another's delivery).
    @abstractmethod
    def ack(self, delivery: Delivery, now: datetime) -> bool:
        """The channel accepted the delivery: never send it again."""

    @abstractmethod
    def retry_later(self, delivery: Delivery, at: datetime, error: str, *, count: bool = True) -> bool:
        """Make the delivery due again at `at`: after a failed send (`count`: one more attempt), or held back
        without trying (flood control: `count=False`)."""

    @abstractmethod
    def bury(self, delivery: Delivery, error: str, now: datetime) -> bool:
        """Give up after too many attempts: park it as dead (reported, never silently dropped)."""

    @abstractmethod
    def dead_letters(self) -> list[DeadLetter]: ...

    @abstractmethod
    def pending_count(self) -> int:
        """Deliveries waiting (due now or later)."""

    # -- feeds -------------------------------------------------------------------------------------
    @abstractmethod
    def load_feeds(self, names: Sequence[str]) -> dict[str, FeedHealth]:
        """The stored health of the named feeds (feeds never polled are absent)."""

    @abstractmethod
    def save_feeds(self, health: Sequence[FeedHealth]) -> None: ...

    # -- counters (flood control) ------------------------------------------------------------------
    @abstractmethod
    def incr_window(self, key: str, window_s: int, now: datetime) -> int:
        """Increment a counter for the current fixed window of `window_s` seconds and return it."""


def ts(dt: datetime) -> float:
    return dt.timestamp()


def delivery_payload(
    message: Message, channel: str, attempts: int, queued_at: datetime, errors: list[str] | None = None
) -> str:
    """One outbox entry as JSON (the key "alert" holds any message, a notice too: stored data stays readable)."""
    return json.dumps(
        {"alert": message_to_dict(message), "channel": channel, "attempts": attempts, "errors": errors or [],
         "queued_at": queued_at.isoformat()},
        sort_keys=True,
    )  # fmt: skip
