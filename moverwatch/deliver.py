"""The delivery stage: send due outbox entries per channel, ack each, retry with backoff, bury the hopeless.

Flood control lives here too: at most `per_channel_per_minute` messages per channel; the rest of a burst
goes out as one digest message, so nothing is lost and nobody is flooded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from moverwatch.config import Settings
from moverwatch.errors import DeliveryError
from moverwatch.models import Alert
from moverwatch.notify import Notifier
from moverwatch.outbox import Delivery, retry_delay
from moverwatch.state import StateStore

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    sent: list[tuple[Alert, str]] = field(default_factory=list)
    failed: list[tuple[Alert, str, str]] = field(default_factory=list)
    dead: list[tuple[Alert, str, str]] = field(default_factory=list)
    digests: int = 0


def deliver(
    store: StateStore,
    notifier: Notifier,
    settings: Settings,
    now: datetime,
    worker: str,
    limit: int = 500,
) -> DeliveryReport:
    """Send due deliveries; ack each per channel; retry failures later; bury after max_attempts.

    Flood control: at most `per_channel_per_minute` messages per channel; the rest of a burst goes out
    as one digest message, so nothing is lost and nobody is flooded.
    """
    report = DeliveryReport()
    cfg = settings.delivery
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for d in store.take_deliveries(now, limit, worker, cfg.claim_timeout):
        by_channel[d.channel].append(d)
    for channel, deliveries in by_channel.items():
        used = store.incr_window(f"rate:{channel}", 60, now) - 1  # this call reserves one slot
        allowance = cfg.per_channel_per_minute - used
        single = deliveries if len(deliveries) <= allowance else deliveries[: max(0, allowance - 1)]
        rest = deliveries[len(single) :]
        for i, d in enumerate(single):
            if i > 0:
                store.incr_window(f"rate:{channel}", 60, now)
            alert = _with_sources(store, d.alert)
            try:
                notifier.send(channel, alert)
            except DeliveryError as exc:
                _failed(store, settings, report, d, exc.reason, now)
                continue
            store.ack(d, now)
            report.sent.append((alert, channel))
        if rest:
            if allowance <= 0:
                # Over the limit already: hold them for the next minute without counting an attempt.
                nxt = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
                for d in rest:
                    store.retry_later(d, nxt, "held by flood control", count=False)
                continue
            alerts = [_with_sources(store, d.alert) for d in rest]
            try:
                notifier.send_digest(channel, alerts)
            except DeliveryError as exc:
                for d in rest:
                    _failed(store, settings, report, d, exc.reason, now)
                continue
            for d, a in zip(rest, alerts, strict=True):
                store.ack(d, now)
                report.sent.append((a, channel))
            report.digests += 1
    return report


def _with_sources(store: StateStore, alert: Alert) -> Alert:
    """Fill 'also reported by' from the event as it stands now (outlets that came after the first)."""
    rec = store.get_event(alert.event_key)
    if rec is None:
        return alert
    others = tuple(s for s in rec.sources if s != alert.source)
    return replace(alert, also_reported_by=others)


def _failed(
    store: StateStore, settings: Settings, report: DeliveryReport, d: Delivery, reason: str, now: datetime
) -> None:
    cfg = settings.delivery
    if d.attempts + 1 >= cfg.max_attempts:
        store.bury(d, reason, now)
        report.dead.append((d.alert, d.channel, reason))
        log.error(
            "alert %s to %s is dead after %d attempts: %s",
            d.alert.event_key,
            d.channel,
            d.attempts + 1,
            reason,
        )
    else:
        at = now + retry_delay(d.attempts + 1, cfg.backoff, cfg.backoff_cap)
        store.retry_later(d, at, reason)
        report.failed.append((d.alert, d.channel, reason))
        log.warning(
            "alert %s to %s failed (attempt %d), retry at %s: %s",
            d.alert.event_key,
            d.channel,
            d.attempts + 1,
            at.isoformat(timespec="seconds"),
            reason,
        )
