"""Send alerts through Apprise, one renderer per channel kind; secrets redacted everywhere.

Apprise reports a failure as a false result plus log lines: we capture those lines (LogCapture) and
turn them into a `DeliveryError` with the reason, redacted. With no channels configured, alerts go to
the console writer the caller passes in (the CLI passes stdout).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from moverwatch.config import ChannelConfig
from moverwatch.errors import ConfigError, DeliveryError
from moverwatch.models import Alert
from moverwatch.notify.render import (
    render_console,
    render_digest,
    render_digest_slack,
    render_email,
    render_notice_slack,
    render_push,
    render_slack,
)
from moverwatch.redact import Redactor, protect_url_loggers

if TYPE_CHECKING:
    import apprise

log = logging.getLogger(__name__)

# A numeric port in the authority; a non-numeric one is a token in some schemes (tgram://ID:TOKEN/...).
_NUMERIC_PORT = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.\-]*://(?:[^@/?#]*@)?(?:\[[^\]]*\]|[^:/?#]*):(\d+)(?:[/?#]|$)"
)


def _add_channel(app: apprise.Apprise, url: str) -> str | None:
    """Add ``url`` to ``app``; the reason it is unusable, or None. Apprise's own complaint is captured for
    the message instead of being logged, so a bad URL gives one error line."""
    import apprise

    port = _NUMERIC_PORT.match(url)
    if port and not 1 <= int(port.group(1)) <= 65535:
        return f"port {port.group(1)} is out of range 1-65535"
    logger = logging.getLogger("apprise")
    propagate, logger.propagate = logger.propagate, False
    try:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            try:
                added = app.add(url)
            except Exception as exc:  # a plugin choking on the URL says the same
                return f"{type(exc).__name__}: {exc}"
            complaint = captured.getvalue().strip().splitlines()
    finally:
        logger.propagate = propagate
    if added:
        return None
    return complaint[-1] if complaint else "Apprise does not recognise it"


ChannelKind = Literal["slack", "email", "push", "console"]
CONSOLE = "console"


@dataclass(frozen=True)
class Channel:
    """One configured destination."""

    id: str
    label: str  # redacted URL, safe to show
    kind: ChannelKind
    tags: tuple[str, ...]
    apprise: apprise.Apprise | None
    url: str = ""  # the secret URL itself: never shown


def _set_timeout(service: object, timeout_s: float) -> None:
    """Apprise's HTTP plugins wait 4 s for an answer by default; a slow but working endpoint then got every
    retry. Connect and read timeouts of every plugin are set from `delivery.timeout`."""
    for attr in ("socket_read_timeout", "socket_connect_timeout"):
        if hasattr(service, attr):
            setattr(service, attr, timeout_s)


def _kind_of(service: object) -> ChannelKind:
    name = type(service).__name__
    if name == "NotifySlack":
        return "slack"
    if name == "NotifyEmail":
        return "email"
    return "push"


class Notifier:
    """Routes alerts to channels and sends them; raises DeliveryError with a redacted reason.

    A channel URL Apprise cannot use is a configuration error (``ConfigError``: exit 2 from the CLI).
    """

    def __init__(
        self,
        channels: Sequence[ChannelConfig],
        console: Callable[[str], None] | None = None,
        timezones: dict[str, str] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.redact = Redactor([c.url for c in channels])
        self.timeout_s = timeout_s
        # Apprise logs webhook URLs, urllib3 their paths at DEBUG, httpx every request URL at INFO.
        protect_url_loggers(self.redact)
        self._console = console
        self._tz = timezones or {}
        self.channels: dict[str, Channel] = {}
        for i, cfg in enumerate(channels):
            import apprise  # on use: ~0.3 s that a console-only run need not pay

            app = apprise.Apprise()
            problem = _add_channel(app, cfg.url)
            if problem is not None:
                where = f"channels[{i}]" + (f" ({cfg.name})" if cfg.name else "")
                raise ConfigError(
                    f"invalid config {cfg.source or '(channels)'}: {where}.url: not a valid Apprise URL {self.redact(cfg.url)}: "
                    f"{self.redact(problem)} (see https://github.com/caronc/apprise/wiki)"
                )
            service = app[0]
            _set_timeout(service, timeout_s)
            # A stable id that does not reveal the URL: the outbox stores it.
            cid = cfg.name or "ch-" + hashlib.sha256(cfg.url.encode()).hexdigest()[:10]
            self.channels[cid] = Channel(
                cid, self.redact(service.url(privacy=True)), _kind_of(service), cfg.tags, app, cfg.url
            )
        if not self.channels:
            self.channels[CONSOLE] = Channel(CONSOLE, "console", "console", (), None)

    def route(self, alert: Alert) -> list[str]:
        """Channels an alert goes to: untagged channels get everything; tagged ones what names their tag."""
        out = []
        for ch in self.channels.values():
            if not ch.tags or not alert.tags or set(ch.tags) & set(alert.tags):
                out.append(ch.id)
        return out

    def send(self, channel_id: str, alert: Alert) -> None:
        """Render the alert for the channel's kind and send it; raise DeliveryError on failure."""
        ch = self._channel(channel_id)
        tz = self._tz.get(alert.symbol)
        if ch.kind == "console":
            self._write_console(render_console(alert))
            return
        if ch.kind == "slack":
            self._send_slack(ch, render_slack(alert, tz))
            return
        if ch.kind == "email":
            mail = render_email(alert, tz)
            title, body, fmt = mail.subject, mail.html, "html"
        else:
            push = render_push(alert)
            title, body, fmt = push.title, push.body, "text"
        self._notify(ch, title, body, fmt)

    def send_digest(self, channel_id: str, alerts: Sequence[Alert]) -> None:
        """Send several alerts as one message (flood control)."""
        ch = self._channel(channel_id)
        if ch.kind == "slack":
            self._send_slack(ch, render_digest_slack(alerts))
        else:
            self.send_text(channel_id, f"{len(alerts)} more market moves", render_digest(alerts))

    def send_text(self, channel_id: str, title: str, body: str) -> None:
        """Send a plain message (test message, digest, feed-down notice)."""
        ch = self._channel(channel_id)
        if ch.kind == "console":
            self._write_console(f"{title}: {body}" if title else body)
        elif ch.kind == "slack":
            # Every Slack message goes through our escaping: a notice may quote a feed's error text.
            self._send_slack(ch, render_notice_slack(title, body))
        else:
            self._notify(ch, title, body, "text")

    def _channel(self, channel_id: str) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise DeliveryError(channel_id, "channel no longer configured") from None

    def _write_console(self, line: str) -> None:
        if self._console is not None:
            self._console(line)
        else:
            log.info("alert: %s", line)

    def _send_slack(self, ch: Channel, payload: dict[str, object]) -> None:
        """Send our Block Kit payload as is, through Apprise's Slack template mode.

        Apprise's own Slack formatting escapes text again and (in legacy mode) turns `&lt;!channel&gt;`
        back into a live `<!channel>`; a template with no tokens is sent verbatim, so the escaping done
        by our renderer is the only one applied.
        """
        with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as f:
            json.dump({"blocks": payload["blocks"]}, f, ensure_ascii=False)
            f.flush()
            import apprise

            app = apprise.Apprise()
            sep = "&" if "?" in ch.url else "?"
            if not app.add(f"{ch.url}{sep}template={quote(f.name)}"):
                raise DeliveryError(ch.label, "could not build the Slack request")
            _set_timeout(app[0], self.timeout_s)
            self._notify(ch, "", str(payload.get("text", "")), "text", app)

    def _notify(
        self, ch: Channel, title: str, body: str, fmt: str, app: apprise.Apprise | None = None
    ) -> None:
        app = app or ch.apprise
        assert app is not None
        import apprise

        started = time.monotonic()
        try:
            with apprise.LogCapture(level=logging.WARNING) as captured:
                ok = app.notify(body=body, title=title, body_format=fmt)
                reason = captured.getvalue()
        except Exception as exc:  # a plugin bug must not lose the alert: it is retried
            raise DeliveryError(ch.label, self.redact(f"{exc.__class__.__name__}: {exc}")) from None
        if not ok:
            lines = [ln.split(" - ", 2)[-1] for ln in reason.strip().splitlines() if ln.strip()]
            # A failure that took the whole read timeout is a request sent and never answered, not a refusal.
            unanswered = time.monotonic() - started >= 0.95 * self.timeout_s
            text = "; ".join(lines[-3:]) or "send failed (no reason given)"
            if unanswered:
                text = f"no answer within {self.timeout_s:g}s (possibly delivered): {text}"
            raise DeliveryError(ch.label, self.redact(text), unanswered=unanswered)
