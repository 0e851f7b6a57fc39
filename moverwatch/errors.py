"""The one exception tree of moverwatch.

    MoverwatchError                 base: every error we raise on purpose
    ├── ConfigError                 bad config file or field (names the field and the reason)
    ├── WatchlistError              bad watchlist file or entry
    ├── StateStoreError             the state store (Redis / SQLite) is unreachable or failed
    ├── FeedError                   one feed could not be used (carries the feed name and URL)
    │   ├── TransientFeedError      timeouts, 429, 5xx: retried on a later poll
    │   └── PermanentFeedError      404, 410, not a feed, parse failure: reported, not retried soon
    │       └── BlockedFeedError    a bot challenge (Cloudflare "Just a moment...") answered instead
    └── DeliveryError               a channel refused or failed a send (channel name, redacted reason)

Each error's message is one sentence a user can act on; secrets never appear in it (a feed error's URL and
reason pass through ``moverwatch.redact``; the raw URL stays in ``.url`` for the code that polls it).
Errors pickle with their context, so a parse error made in a worker process arrives intact.
"""

from __future__ import annotations

from typing import Any

from moverwatch.redact import redact_text, redact_url


class MoverwatchError(Exception):
    """Base class of every error moverwatch raises on purpose."""


class ConfigError(MoverwatchError):
    """The configuration file or one of its fields is invalid."""


class WatchlistError(MoverwatchError):
    """The watchlist file or one of its entries is invalid."""


class StateStoreError(MoverwatchError):
    """The state store could not be reached or failed an operation."""


class FeedError(MoverwatchError):
    """One feed could not be fetched or parsed."""

    def __init__(self, feed: str, url: str, reason: str, status: int | None = None) -> None:
        self.feed = feed
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(f"feed {feed!r} ({redact_url(url)}): {redact_text(reason)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.feed, self.url, self.reason, self.status)


class TransientFeedError(FeedError):
    """A failure worth retrying soon: timeout, connection error, 429, 5xx."""


class PermanentFeedError(FeedError):
    """A failure that will not fix itself on the next poll: 404, 410, not a feed."""


class BlockedFeedError(PermanentFeedError):
    """The source answered with a bot challenge instead of the feed."""


class DeliveryError(MoverwatchError):
    """A channel failed to deliver a message."""

    def __init__(self, channel: str, reason: str, *, unanswered: bool = False) -> None:
        self.channel = channel
        self.reason = reason
        # The request went out and no answer came within the timeout: the channel may have it already.
        self.unanswered = unanswered
        super().__init__(f"channel {channel}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.channel, self.reason)
