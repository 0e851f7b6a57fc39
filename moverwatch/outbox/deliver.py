"""The delivery stage: send due outbox entries per channel, ack each, retry with backoff, bury the hopeless.

Flood control lives here too: at most `per_channel_per_minute` messages per channel; the rest of a burst
goes out as one digest message, so nothing is lost and nobody is flooded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from moverwatch.config import DeliveryConfig
from moverwatch.errors import DeliveryError
from moverwatch.models import Alert, Delivery, Message, Notice
from moverwatch.notify import Notifier
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
) -> DeliveryReport:
    """Send due deliveries; ack each per channel; retry failures later; bury after max_attempts.

    Flood control: at most `per_channel_per_minute` messages per channel; the rest of a burst goes out
    as one digest message, so nothing is lost and nobody is flooded. Notices go first, one message each.
    """
    report = DeliveryReport()
    by_channel: dict[str, list[Delivery]] = defaultdict(list)
    for d in store.take_deliveries(now, limit, worker, cfg.claim_timeout):
        if isinstance(d.message, Notice):
            _send_notice(store, notifier, cfg, report, d, d.message, now)
        else:
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
                _failed(store, cfg, report, d, exc.reason, now)
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
                    _failed(store, cfg, report, d, exc.reason, now)
                continue
            for d, a in zip(rest, alerts, strict=True):
                store.ack(d, now)
                report.sent.append((a, channel))
            report.digests += 1
    return report


def _send_notice(
    store: StateStore,
    notifier: Notifier,
    cfg: DeliveryConfig,
    report: DeliveryReport,
    d: Delivery,
    notice: Notice,
    now: datetime,
) -> None:
    try:
        notifier.send_text(d.channel, notice.title, notifier.redact(notice.body))
    except DeliveryError as exc:
        _failed(store, cfg, report, d, exc.reason, now)
        return
    store.ack(d, now)
    report.notices.append((notice, d.channel))


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
