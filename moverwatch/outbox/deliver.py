"""The delivery stage: send due outbox entries per channel, ack each, retry with backoff, bury the hopeless.

Flood control lives here too: at most `per_channel_per_minute` messages per channel; the rest of a burst
goes out as one digest message, so nothing is lost and nobody is flooded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from moverwatch.config import DeliveryConfig
from moverwatch.errors import DeliveryError
from moverwatch.models import Alert, Delivery, Message, Notice
from moverwatch.notify import Notifier
from moverwatch.notify.render import DIGEST_MAX_LINES
from moverwatch.state import StateStore

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    """What one delivery pass did: alerts sent, failed (to retry) and buried, per channel; notices sent."""

    sent: list[tuple[Alert, str]] = field(default_factory=list)
    failed: list[tuple[Alert, str, str]] = field(default_factory=list)
    dead: list[tuple[Alert, str, str]] = field(default_factory=list)
    notices: list[tuple[Notice, str]] = field(default_factory=list)
    digests: int = 0

    def extend(self, other: DeliveryReport) -> None:
        """Add a later pass of the same cycle."""
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead
        self.notices += other.notices
        self.digests += other.digests


def retry_delay(attempts: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff after `attempts` failures: base, 2×base, 4×base, … capped."""
    delay: timedelta = base * (2 ** max(0, attempts - 1))
    return min(cap, delay)


def deliver(
    store: StateStore,
    notifier: Notifier,
    cfg: DeliveryConfig,
    now: datetime,
    worker: str,
    limit: int = 500,
    clock: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """Send due deliveries; ack each per channel; retry failures later; bury after max_attempts.

    Flood control: at most `per_channel_per_minute` messages per channel; the rest of a burst goes out
    as digests of at most DIGEST_MAX_LINES alerts each, and what the minute has no room for waits for the
    next one: every alert reaches the channel with its symbol, move and link. Notices go first, one message
    each. Each delivery's hold is renewed (on ``clock``'s time) right before it is sent, and one another
    worker took over is not sent.
    """
    report = DeliveryReport()
    pass_ = _Pass(store, notifier, cfg, report, now, clock or (lambda: now))
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for d in store.take_deliveries(now, limit, worker, cfg.claim_timeout):
        if isinstance(d.message, Alert) and d.queued_at is not None and now - d.queued_at > cfg.max_delay:
            pass_.stale(d)
        elif isinstance(d.message, Notice):
            pass_.notice(d, d.message)
        else:
            by_channel[d.channel].append(d)
    for channel, deliveries in by_channel.items():
        pass_.channel(channel, deliveries)
    return report


@dataclass
class _Pass:
    """One delivery pass over what the outbox handed to this worker."""

    store: StateStore
    notifier: Notifier
    cfg: DeliveryConfig
    report: DeliveryReport
    now: datetime
    clock: Callable[[], datetime]

    def _held(self, deliveries: list[Delivery]) -> list[Delivery]:
        """Those still ours, their holds renewed; the others belong to the worker that took them over."""
        kept = [d for d in deliveries if self.store.renew(d, self.clock(), self.cfg.claim_timeout)]
        for d in deliveries:
            if d not in kept:
                log.warning(
                    "%s to %s was taken over by another worker: not sent here",
                    _describe(d.message),
                    d.channel,
                )
        return kept

    def channel(self, channel: str, deliveries: list[Delivery]) -> None:
        now, store = self.now, self.store
        slots = self.cfg.per_channel_per_minute - (store.incr_window(f"rate:{channel}", 60, now) - 1)
        fits = len(deliveries) <= slots
        single = deliveries if fits else deliveries[: max(0, slots - 1)]
        rest = deliveries[len(single) :]
        for i, d in enumerate(single):
            if i > 0:
                store.incr_window(f"rate:{channel}", 60, now)
            if not self._held([d]):
                continue
            alert = _with_sources(store, d.alert)
            try:
                self.notifier.send(channel, alert)
            except DeliveryError as exc:
                self._failed(d, exc)
                continue
            self._acked(d, alert)
        chunks = [rest[k : k + DIGEST_MAX_LINES] for k in range(0, len(rest), DIGEST_MAX_LINES)]
        room = max(0, slots - len(single))
        for n, chunk in enumerate(chunks):
            if n >= room:
                # The minute is used up: hold the rest for the next one without counting an attempt.
                nxt = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
                for d in chunk:
                    store.retry_later(d, nxt, "held by flood control", count=False)
                continue
            if n > 0 or single:
                store.incr_window(f"rate:{channel}", 60, now)
            self._digest(channel, chunk)

    def _digest(self, channel: str, chunk: list[Delivery]) -> None:
        held = self._held(chunk)
        if not held:
            return
        alerts = [_with_sources(self.store, d.alert) for d in held]
        try:
            self.notifier.send_digest(channel, alerts)
        except DeliveryError as exc:
            for d in held:
                self._failed(d, exc)
            return
        for d, a in zip(held, alerts, strict=True):
            self._acked(d, a)
        self.report.digests += 1

    def stale(self, d: Delivery) -> None:
        """Park an alert that waited past `delivery.max_delay`: hours-old news must not arrive as fresh."""
        assert d.queued_at is not None
        hours = (self.now - d.queued_at).total_seconds() / 3600
        reason = (
            f"not sent: waited {hours:.1f} h in the outbox, longer than delivery.max_delay "
            "(`moverwatch dead --requeue` sends it anyway)"
        )
        if self.store.bury(d, reason, self.now):
            self.report.dead.append((d.alert, d.channel, reason))
            log.warning("%s to %s %s", _describe(d.message), d.channel, reason)

    def _acked(self, d: Delivery, alert: Alert) -> None:
        if not self.store.ack(d, self.now):
            log.warning(
                "%s to %s was sent, but its hold had passed to another worker",
                _describe(d.message),
                d.channel,
            )
        self.report.sent.append((alert, d.channel))

    def notice(self, d: Delivery, notice: Notice) -> None:
        if not self._held([d]):
            return
        try:
            self.notifier.send_text(d.channel, notice.title, self.notifier.redact(notice.body))
        except DeliveryError as exc:
            self._failed(d, exc)
            return
        self.store.ack(d, self.now)
        self.report.notices.append((notice, d.channel))

    def _failed(self, d: Delivery, exc: DeliveryError) -> None:
        """A send without an answer may have been delivered: it gets one more try, never a series of copies."""
        if exc.unanswered and d.last_error.startswith(_NO_ANSWER):
            log.warning(
                "%s to %s got no answer twice: taken as delivered (the channel may show it twice)",
                _describe(d.message),
                d.channel,
            )
            self.store.ack(d, self.now)
            if isinstance(d.message, Alert):
                self.report.sent.append((d.message, d.channel))
            return
        reason = f"{_NO_ANSWER}{exc.reason}" if exc.unanswered else exc.reason
        _failed(self.store, self.cfg, self.report, d, reason, self.now)


_NO_ANSWER = "unanswered: "


def _with_sources(store: StateStore, alert: Alert) -> Alert:
    """Fill 'also reported by' from the event as it stands now (outlets that came after the first)."""
    rec = store.get_event(alert.event_key)
    if rec is None:
        return alert
    others = tuple(s for s in rec.sources if s != alert.source)
    return replace(alert, also_reported_by=others)


def _failed(
    store: StateStore, cfg: DeliveryConfig, report: DeliveryReport, d: Delivery, reason: str, now: datetime
) -> None:
    what = _describe(d.message)
    if d.attempts + 1 >= cfg.max_attempts:
        store.bury(d, reason, now)
        if isinstance(d.message, Alert):
            report.dead.append((d.message, d.channel, reason))
        log.error("%s to %s is dead after %d attempts: %s", what, d.channel, d.attempts + 1, reason)
    else:
        at = now + retry_delay(d.attempts + 1, cfg.backoff, cfg.backoff_cap)
        store.retry_later(d, at, reason)
        if isinstance(d.message, Alert):
            report.failed.append((d.message, d.channel, reason))
        log.warning(
            "%s to %s failed (attempt %d), retry at %s: %s",
            what,
            d.channel,
            d.attempts + 1,
            at.isoformat(timespec="seconds"),
            reason,
        )


def _describe(message: Message) -> str:
    return f"alert {message.event_key}" if isinstance(message, Alert) else f"notice {message.key}"
