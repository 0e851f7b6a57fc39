"""Secret redaction: the parts of channel (and feed) URLs that are secrets become ``****`` in any text.

One process-wide logging filter per logger that can see a URL, fed by every redactor built, so secrets never
reach a log line whichever library writes it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, unquote, urlsplit


class Redactor:
    """Replaces every secret-looking part of the channel URLs with ``****`` in any text."""

    def __init__(self, urls: Sequence[str]) -> None:
        secrets: set[str] = set()
        for url in urls:
            try:
                parts = urlsplit(url)
            except ValueError:
                continue
            for s in (parts.password, parts.username):
                if s:
                    secrets.add(s)
                    secrets.add(unquote(s))
            # Webhook tokens live in the path (Slack: /T…/B…/token) and sometimes the query.
            for seg in parts.path.split("/"):
                if len(seg) >= 8 and not seg.replace(".", "").replace(":", "").isdigit():
                    secrets.add(seg)
            for key, value in parse_qsl(parts.query):
                if (
                    key.lower() not in {"to", "from", "mode", "format", "blocks", "smtp", "port", "name"}
                    and len(value) >= 6
                ):
                    secrets.add(value)
        # Longest first so a token is not half-replaced by one of its parts.
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
            if secrets
            else None
        )

    @property
    def key(self) -> str:
        return self._pattern.pattern if self._pattern else ""

    def __call__(self, text: str) -> str:
        return self._pattern.sub("****", text) if self._pattern else text


class _RedactingFilter(logging.Filter):
    """One filter on Apprise's logger for the whole process, fed by every Notifier's redactor.

    Apprise logs webhook URLs (tokens included) at DEBUG. Redactors are keyed by their pattern, so a service
    that builds a Notifier every cycle does not stack up filters.
    """

    def __init__(self) -> None:
        super().__init__()
        self._redactors: dict[str, Redactor] = {}

    def add(self, redact: Redactor) -> None:
        self._redactors.setdefault(redact.key, redact)

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        for redact in self._redactors.values():
            msg = redact(msg)
        record.msg, record.args = msg, None
        return True


_FILTERS: dict[str, _RedactingFilter] = {}


def redact_logger(name: str, redact: Redactor) -> None:
    """Redact ``redact``'s secrets in every record of logger ``name`` (one filter per logger, reused)."""
    filt = _FILTERS.get(name)
    if filt is None:
        filt = _FILTERS[name] = _RedactingFilter()
        logging.getLogger(name).addFilter(filt)
    filt.add(redact)
