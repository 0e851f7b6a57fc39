"""Fetch many feeds concurrently over HTTP (httpx, async), politely and within hard limits.

One call fetches a batch: at most ``concurrency`` requests in flight overall and ``per_host`` per host, each
bounded by ``timeout_s`` from the moment it starts and by ``max_bytes`` of decoded body (so a gzip bomb is
cut off too). Conditional GET (ETag / Last-Modified) and a body hash make an unchanged feed cost no parsing.
Every failure of one feed becomes that feed's ``FetchResult.error`` (a typed ``FeedError`` whose reason
says what happens next); ``fetch_feeds`` itself never raises for one feed's failure.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from moverwatch.errors import BlockedFeedError, FeedError, PermanentFeedError, TransientFeedError
from moverwatch.models import DEFAULT_USER_AGENT, FetchResult
from scrapers.parse import bot_challenge_reason

__all__ = ["FeedRequest", "FetchResult", "FetchSettings", "fetch_feeds", "fetch_feeds_sync"]

log = logging.getLogger(__name__)

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, "
    "text/xml;q=0.8, */*;q=0.5"
)
_PERMANENT_REDIRECTS = frozenset({301, 308})


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """One feed to fetch, with the validators remembered from its last successful fetch."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Limits and identity for one batch of fetches."""

    timeout_s: float = 15
    max_bytes: int = 5_000_000
    concurrency: int = 32
    per_host: int = 4
    user_agent: str = DEFAULT_USER_AGENT


class _TooLarge(Exception):
    """The body passed the size cap while streaming."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None if absent/invalid."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _wait_phrase(retry_after_s: float | None) -> str:
    if retry_after_s is None:
        return "will retry on a later poll with backoff"
    if retry_after_s < 120:
        return f"will retry in {retry_after_s:.0f} s (Retry-After)"
    return f"will retry in {retry_after_s / 60:.0f} min (Retry-After)"


def _moved_to(response: httpx.Response, requested: str) -> str | None:
    """The target of the leading run of permanent redirects; a temporary hop ends what we may remember."""
    target: str | None = None
    for hop in response.history:
        if hop.status_code not in _PERMANENT_REDIRECTS:
            break
        location = hop.headers.get("location")
        if not location:
            break
        target = str(hop.url.join(location))
    return target if target and target != requested else None


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body, refusing to hold more than ``max_bytes`` (checked before and during the read)."""
    declared = response.headers.get("content-length")
    if (
        declared
        and declared.isdigit()
        and int(declared) > max_bytes
        and "content-encoding" not in response.headers
    ):
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _fetch_one(
    client: httpx.AsyncClient,
    req: FeedRequest,
    settings: FetchSettings,
    global_limit: asyncio.Semaphore,
    host_limit: asyncio.Semaphore,
) -> FetchResult:
    async with global_limit, host_limit:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(settings.timeout_s):
                return await _request(client, req, settings, started)
        except TimeoutError:
            error: FeedError = TransientFeedError(
                req.name, req.url, f"timed out after {settings.timeout_s:g} s; will retry on a later poll"
            )
        except httpx.TooManyRedirects:
            error = PermanentFeedError(
                req.name, req.url, "too many redirects (a redirect loop); check the URL"
            )
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            error = PermanentFeedError(
                req.name, req.url, f"invalid feed URL ({exc}); check the configuration"
            )
        except httpx.TimeoutException as exc:
            error = TransientFeedError(
                req.name, req.url, f"timed out ({type(exc).__name__}); will retry on a later poll"
            )
        except httpx.TransportError as exc:
            error = TransientFeedError(
                req.name,
                req.url,
                f"connection failed ({type(exc).__name__}: {exc or 'no detail'}); will retry on a later poll",
            )
        except Exception as exc:  # one feed's surprise must not sink the batch
            log.exception("unexpected error fetching feed %s", req.name)
            error = TransientFeedError(
                req.name,
                req.url,
                f"unexpected error ({type(exc).__name__}: {exc}); will retry on a later poll",
            )
        return FetchResult(
            name=req.name,
            url=req.url,
            final_url=req.url,
            status=None,
            body=None,
            etag=req.etag,
            last_modified=req.last_modified,
            body_hash=req.body_hash,
            not_modified=False,
            error=error,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )


async def _request(
    client: httpx.AsyncClient, req: FeedRequest, settings: FetchSettings, started: float
) -> FetchResult:
    headers = {"User-Agent": req.user_agent or settings.user_agent, "Accept": _ACCEPT}
    if req.etag:
        headers["If-None-Match"] = req.etag
    if req.last_modified:
        headers["If-Modified-Since"] = req.last_modified

    async with client.stream("GET", req.url, headers=headers) as response:
        status = response.status_code
        content_type = response.headers.get("content-type")
        final_url = str(response.url)
        etag = response.headers.get("etag") or req.etag
        last_modified = response.headers.get("last-modified") or req.last_modified
        retry_after = parse_retry_after(response.headers.get("retry-after"))

        def result(
            body: bytes | None = None,
            body_hash: str | None = req.body_hash,
            not_modified: bool = False,
            error: FeedError | None = None,
            moved_to: str | None = None,
        ) -> FetchResult:
            return FetchResult(
                name=req.name,
                url=req.url,
                final_url=final_url,
                status=status,
                body=body,
                etag=etag,
                last_modified=last_modified,
                body_hash=body_hash,
                not_modified=not_modified,
                error=error,
                elapsed_ms=(time.perf_counter() - started) * 1000,
                moved_to=moved_to,
                retry_after_s=retry_after,
                content_type=content_type,
            )

        def fail(cls: type[FeedError], reason: str) -> FetchResult:
            return result(error=cls(req.name, req.url, reason, status))

        if status == 304:
            return result(not_modified=True, moved_to=_moved_to(response, req.url))
        if status == 410:
            return fail(
                PermanentFeedError, "gone (410): feed disabled; remove it or fix its URL to re-enable it"
            )
        if status == 404:
            return fail(PermanentFeedError, "not found (404); will retry after a long backoff, check the URL")
        if status == 429:
            return fail(TransientFeedError, f"rate limited (429); {_wait_phrase(retry_after)}")
        if status >= 500:
            return fail(TransientFeedError, f"server error ({status}); {_wait_phrase(retry_after)}")

        try:
            body = await _read_capped(response, settings.max_bytes)
        except _TooLarge:
            return fail(
                PermanentFeedError,
                f"response larger than {settings.max_bytes} bytes; refused (raise max_bytes if the feed is legitimate)",
            )

        if status == 403 and ("cf-mitigated" in response.headers or bot_challenge_reason(body)):
            return fail(
                BlockedFeedError,
                "blocked by a bot challenge (Cloudflare), HTTP 403; backing off before the next try",
            )
        if 200 <= status < 300:
            if bot_challenge_reason(body):
                return fail(
                    BlockedFeedError,
                    "blocked by a bot challenge (Cloudflare); backing off before the next try",
                )
            if not body:
                return fail(PermanentFeedError, "empty response (0 bytes); will retry after backoff")
            digest = hashlib.sha256(body).hexdigest()
            moved_to = _moved_to(response, req.url)
            if req.body_hash is not None and digest == req.body_hash:
                # The server ignored our conditional GET but nothing changed: skip parsing.
                return result(body_hash=digest, not_modified=True, moved_to=moved_to)
            return result(body=body, body_hash=digest, moved_to=moved_to)
        if 400 <= status < 500:
            return fail(
                PermanentFeedError, f"client error ({status}); will retry after a long backoff, check the URL"
            )
        return fail(TransientFeedError, f"unexpected HTTP status {status}; will retry on a later poll")


async def fetch_feeds(
    requests: Sequence[FeedRequest],
    settings: FetchSettings = FetchSettings(),
    *,
    on_done: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch every feed concurrently within the limits; results in the order of ``requests``."""
    global_limit = asyncio.Semaphore(max(1, settings.concurrency))
    host_limits: dict[str, asyncio.Semaphore] = {}
    timeout = httpx.Timeout(settings.timeout_s)
    limits = httpx.Limits(
        max_connections=max(1, settings.concurrency), max_keepalive_connections=max(1, settings.concurrency)
    )

    async with httpx.AsyncClient(
        timeout=timeout, limits=limits, follow_redirects=True, max_redirects=10
    ) as client:

        async def run(req: FeedRequest) -> FetchResult:
            try:
                host = (urlsplit(req.url).hostname or "").lower()
            except ValueError:
                host = ""
            host_limit = host_limits.setdefault(host, asyncio.Semaphore(max(1, settings.per_host)))
            result = await _fetch_one(client, req, settings, global_limit, host_limit)
            log.debug(
                "feed=%s status=%s not_modified=%s ms=%.0f error=%s",
                req.name,
                result.status,
                result.not_modified,
                result.elapsed_ms,
                result.error,
            )
            if on_done is not None:
                try:
                    on_done(result)
                except Exception:  # a progress display must not lose the batch
                    log.exception("on_done callback failed for feed %s", req.name)
            return result

        return list(await asyncio.gather(*(run(r) for r in requests)))


def fetch_feeds_sync(
    requests: Sequence[FeedRequest],
    settings: FetchSettings = FetchSettings(),
    *,
    on_done: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """``fetch_feeds`` for synchronous callers (runs its own event loop; not callable from inside one)."""
    return asyncio.run(fetch_feeds(requests, settings, on_done=on_done))
