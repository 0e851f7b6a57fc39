"""Fetch many feeds concurrently over HTTP (aiohttp), politely and within hard limits.

One call fetches a batch: at most ``concurrency`` requests in flight overall and ``per_host`` per host, each
bounded by ``timeout_s`` from the moment it starts and by ``max_bytes`` of decoded body. The body is read
raw and decompressed here, incrementally and never past the cap, so a gzip bomb costs at most ``max_bytes``;
stacked or unknown ``Content-Encoding``s are refused. Redirects are followed one hop at a time: a hop from a
public host to a loopback, link-local or private address is refused (a URL the user configured on such an
address stays the user's choice), so a feed cannot make us probe the internal network. Conditional GET
(ETag / Last-Modified) and a body hash make an unchanged feed cost no parsing.
aiohttp rather than httpx: a quiet cycle is 1,000 conditional GETs answered 304, and httpx's layering cost
about 1 ms of CPU each against aiohttp's 0.15 ms (``bench/PROFILE-steady.md``).
Every failure of one feed becomes that feed's ``FetchResult.error`` (a typed ``FeedError`` whose reason
says what happens next); ``fetch_feeds`` itself never raises for one feed's failure.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import ipaddress
import logging
import socket
import time
import urllib.request
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from moverwatch.errors import BlockedFeedError, FeedError, PermanentFeedError, TransientFeedError
from moverwatch.models import DEFAULT_USER_AGENT, FetchResult
from scrapers.parse import bot_challenge_reason

__all__ = [
    "FeedRequest",
    "FetchSettings",
    "Resolver",
    "fetch_feeds",
    "fetch_feeds_sync",
    "is_internal_address",
    "system_resolver",
]

log = logging.getLogger(__name__)

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.9, "
    "text/xml;q=0.8, */*;q=0.5"
)
_PERMANENT_REDIRECTS = frozenset({301, 308})
# Only what we decode ourselves, under the cap (aiohttp would add br/zstd when their packages are installed).
_ACCEPT_ENCODING = "gzip, deflate"
_MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

# host name -> the IP addresses it resolves to; injectable so tests can call a loopback host "public".
Resolver = Callable[[str], Awaitable[Sequence[str]]]


@dataclass(frozen=True, slots=True)
class FeedRequest:
    """One feed to fetch, with the validators remembered from its last successful fetch."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    user_agent: str | None = None
    # The URL the user configured, when ``url`` is a remembered redirect target: the first request is then
    # checked as a hop from it, so a stored target that now resolves internally is not trusted as configured.
    config_url: str | None = None


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


class _Refused(Exception):
    """The response cannot be used safely; the message is the reason shown to the user."""


class _Unresolved(_Refused):
    """A redirect target could not be placed on either side of the boundary (DNS failed): retried later."""


class _TooManyRedirects(Exception):
    """More than ``_MAX_REDIRECTS`` hops (a redirect loop)."""


class _BadURL(Exception):
    """A URL (configured, or a redirect's Location) that is not an http(s) URL we can request."""


@dataclass(frozen=True, slots=True)
class _Hop:
    """One redirect response: what ``_moved_to`` needs to remember a permanent move."""

    status: int
    url: URL
    location: str


class _BadBody(Exception):
    """The compressed body is corrupt (often a truncated transfer); the message says how."""


async def system_resolver(host: str) -> list[str]:
    """The addresses the system resolver gives for ``host`` (the default ``Resolver``)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_internal_address(address: str) -> bool:
    """True for loopback, link-local, private, shared (CGNAT), unspecified, reserved and multicast addresses,
    IPv4-mapped IPv6 included: anything that is not a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def _internal_address_of(host: str, resolve: Resolver) -> str | None:
    """An internal address ``host`` is or resolves to, else None (a host that does not resolve is refused)."""
    literal = host.strip("[]")
    try:
        return literal if is_internal_address(literal) else None
    except ValueError:
        pass  # a name, not an address literal
    try:
        addresses = list(await resolve(host))
    except OSError as exc:
        raise _Unresolved(
            f"redirect target host {host!r} does not resolve ({exc}); will retry on a later poll"
        ) from None
    if not addresses:
        raise _Unresolved(f"redirect target host {host!r} does not resolve; will retry on a later poll")
    for address in addresses:
        try:
            if is_internal_address(address):
                return address
        except ValueError:
            return address  # not an address at all: refuse rather than guess
    return None


class _Rebound(OSError):
    """A redirect target found public by the check resolved to internal addresses only when connected."""


class _ConnectGuard(AbstractResolver):
    """The connector's resolver: a host a redirect check found public is connected to on public addresses only.

    The redirect check and the connection resolve the name separately; without this a name that answers
    public for the check and internal for the connection (DNS rebinding, a TTL of 0) would reach the
    internal network. Every other host resolves as the system says.
    """

    def __init__(self) -> None:
        self._system = aiohttp.ThreadedResolver()
        self.public_only: set[str] = set()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        infos = await self._system.resolve(host, port, family)
        if host.lower() not in self.public_only:
            return infos
        public = [i for i in infos if not is_internal_address(i["host"])]
        if not public:
            found = ", ".join(sorted({i["host"] for i in infos}))
            raise _Rebound(
                f"redirect target {host} now resolves to internal addresses only ({found}); refused"
            )
        return public

    async def close(self) -> None:
        await self._system.close()


async def _check_redirect(source: URL, target: URL, resolve: Resolver, guard: _ConnectGuard) -> None:
    """Refuse a hop from a public host to an internal address; any other hop is allowed (a target found public
    is then connected to on public addresses only: ``_ConnectGuard``)."""
    if target.host == source.host:
        return  # same host, same side of the boundary
    internal = await _internal_address_of(target.host or "", resolve)
    if internal is None:
        guard.public_only.add((target.host or "").lower())  # found public: connected to as public
        return
    if await _internal_address_of(source.host or "", resolve) is not None:
        return
    raise _Refused(
        f"redirect from public host {source.host} to internal address {internal} ({target}) refused; "
        "configure that URL directly if the feed really lives there"
    )


class _CappedBody:
    """Decodes one ``Content-Encoding`` incrementally, never producing more than ``limit`` bytes.

    zlib's ``max_length`` bounds each step's output, so a 1 KB chunk that would inflate to gigabytes
    costs at most the cap before it is refused.
    """

    def __init__(self, coding: str | None, limit: int) -> None:
        self._coding = coding
        self._limit = limit
        self._size = 0
        self._raw = 0
        self._chunks: list[bytes] = []
        self._z = self._new_decompressor()

    def _new_decompressor(self) -> zlib._Decompress | None:
        if self._coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        if self._coding == "deflate":
            return zlib.decompressobj()  # zlib-wrapped; raw deflate is tried if this fails (as browsers do)
        return None

    def _emit(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise _TooLarge
        if chunk:
            self._chunks.append(chunk)

    def feed(self, data: bytes) -> None:
        self._raw += len(data)
        if self._raw > self._limit:
            raise _TooLarge
        if self._z is None:
            self._emit(data)
            return
        z = self._z
        while data:
            try:
                out = z.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                if self._coding == "deflate" and self._size == 0:
                    self._coding = "raw-deflate"
                    z = self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise _BadBody(f"corrupt {self._coding} body ({exc})") from None
            self._emit(out)
            data = z.unconsumed_tail
            if z.eof:
                data = z.unused_data
                if self._coding not in ("gzip", "x-gzip") or not data.startswith(b"\x1f\x8b"):
                    return  # bytes after the stream (padding, junk) are ignored, as browsers do
                z = self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)  # concatenated gzip members

    def body(self) -> bytes:
        if self._z is not None and not self._z.eof and self._size:
            tail = self._z.flush(self._limit - self._size + 1)
            self._emit(tail)
        return b"".join(self._chunks)


def _content_coding(header: str | None) -> str | None:
    """The one content coding to undo, or None for none; stacked or unknown codings raise ``_Refused``."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        raise _Refused(
            f"stacked Content-Encoding {header!r} refused (a compression bomb pattern; a feed needs one at most)"
        )
    if codings and codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise _Refused(f"unsupported Content-Encoding {codings[0]!r} (we accept {_ACCEPT_ENCODING})")
    return codings[0] if codings else None


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


def _moved_to(history: Sequence[_Hop], requested: str) -> str | None:
    """The target of the leading run of permanent redirects; a temporary hop ends what we may remember."""
    target: str | None = None
    for hop in history:
        if hop.status not in _PERMANENT_REDIRECTS:
            break
        target = str(hop.url.join(URL(hop.location)))
    return target if target and target != requested else None


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The decoded body, refusing to hold more than ``max_bytes`` (checked before and during the read).

    The raw bytes are read and decoded here rather than by the HTTP client: a client inflates a whole chunk
    before any size check can run, and ``gzip, gzip`` turned 1.8 KB into 2.2 GB in one step (httpx).
    """
    coding = _content_coding(response.headers.get("content-encoding"))
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _TooLarge
    body = _CappedBody(coding, max_bytes)
    async for chunk in response.content.iter_any():
        body.feed(chunk)
    return body.body()


def _url(value: str | URL) -> URL:
    """An absolute http(s) URL, or ``_BadURL`` saying why not."""
    try:
        url = value if isinstance(value, URL) else URL(value)
    except (ValueError, TypeError) as exc:
        raise _BadURL(f"{value!r} is not a URL ({exc})") from None
    if url.scheme not in ("http", "https"):
        raise _BadURL(f"unsupported scheme {url.scheme or '(none)'!r} in {str(url)!r}; use http or https")
    if not url.host:
        raise _BadURL(f"no host in {str(url)!r}")
    return url


async def _open(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    resolve: Resolver,
    guard: _ConnectGuard,
    config_url: str | None = None,
) -> tuple[aiohttp.ClientResponse, list[_Hop]]:
    """The final response (open, body unread) and the redirect hops before it, each hop checked first."""
    target = _url(url)
    if config_url and config_url != url:
        await _check_redirect(_url(config_url), target, resolve, guard)
    history: list[_Hop] = []
    while True:
        response = await session.get(target, headers=headers, allow_redirects=False)
        location = response.headers.get("location")
        if response.status not in _REDIRECTS or not location:
            return response, history
        response.release()
        try:
            following = _url(response.url.join(URL(location)))
        except ValueError as exc:
            raise _BadURL(f"redirect Location {location!r} is not a URL ({exc})") from None
        history.append(_Hop(response.status, response.url, location))
        if len(history) > _MAX_REDIRECTS:
            raise _TooManyRedirects
        await _check_redirect(target, following, resolve, guard)
        target = following


async def _fetch_one(
    session: aiohttp.ClientSession,
    req: FeedRequest,
    settings: FetchSettings,
    global_limit: asyncio.Semaphore,
    host_limit: asyncio.Semaphore,
    resolve: Resolver,
    guard: _ConnectGuard,
) -> FetchResult:
    # The host slot first: a run of feeds on one host must not hold global slots while it waits.
    async with host_limit, global_limit:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(settings.timeout_s):
                return await _request(session, req, settings, started, resolve, guard)
        except _Unresolved as exc:
            error: FeedError = TransientFeedError(req.name, req.url, str(exc))
        except _Refused as exc:
            error = PermanentFeedError(req.name, req.url, str(exc))
        except TimeoutError:
            error = TransientFeedError(
                req.name, req.url, f"timed out after {settings.timeout_s:g} s; will retry on a later poll"
            )
        except _TooManyRedirects:
            error = PermanentFeedError(
                req.name, req.url, "too many redirects (a redirect loop); check the URL"
            )
        except (_BadURL, aiohttp.InvalidURL) as exc:
            error = PermanentFeedError(
                req.name, req.url, f"invalid feed URL ({exc}); check the configuration"
            )
        except aiohttp.ClientConnectorError as exc:
            reason = f"connection failed ({type(exc).__name__}: {_detail(exc)})"
            if isinstance(exc.os_error, _Rebound):  # aiohttp's message drops ours
                reason = str(exc.os_error)
            error = TransientFeedError(req.name, req.url, f"{reason}; will retry on a later poll")
        except (aiohttp.ClientError, OSError) as exc:
            error = TransientFeedError(
                req.name,
                req.url,
                f"connection failed ({type(exc).__name__}: {_detail(exc)}); will retry on a later poll",
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


def _detail(exc: BaseException) -> str:
    """What went wrong, on one line (aiohttp's messages can span lines and repeat the URL's query)."""
    text = " ".join(str(exc).split())
    return text[:200] or "no detail"


def _headers(req: FeedRequest, settings: FetchSettings) -> dict[str, str]:
    """Identity, accepted types and encodings, and the conditional-GET validators remembered for the feed."""
    headers = {
        "User-Agent": req.user_agent or settings.user_agent,
        "Accept": _ACCEPT,
        "Accept-Encoding": _ACCEPT_ENCODING,
    }
    if req.etag:
        headers["If-None-Match"] = req.etag
    if req.last_modified:
        headers["If-Modified-Since"] = req.last_modified
    return headers


def _status_failure(status: int, retry_after: float | None) -> tuple[type[FeedError], str] | None:
    """The error a status means before any body is read (410, 404, 429, 5xx), or None."""
    if status == 410:
        return PermanentFeedError, "gone (410): feed disabled; remove it or fix its URL to re-enable it"
    if status == 404:
        return PermanentFeedError, "not found (404); will retry after a long backoff, check the URL"
    if status == 429:
        return TransientFeedError, f"rate limited (429); {_wait_phrase(retry_after)}"
    if status >= 500:
        return TransientFeedError, f"server error ({status}); {_wait_phrase(retry_after)}"
    return None


async def _request(
    session: aiohttp.ClientSession,
    req: FeedRequest,
    settings: FetchSettings,
    started: float,
    resolve: Resolver,
    guard: _ConnectGuard,
) -> FetchResult:
    response, history = await _open(session, req.url, _headers(req, settings), resolve, guard, req.config_url)
    try:
        status = response.status
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
            return result(not_modified=True, moved_to=_moved_to(history, req.url))
        early = _status_failure(status, retry_after)
        if early is not None:
            return fail(*early)

        try:
            body = await _read_capped(response, settings.max_bytes)
        except _TooLarge:
            return fail(
                PermanentFeedError,
                f"response larger than {settings.max_bytes} bytes; refused (raise max_bytes if the feed is legitimate)",
            )
        except _Refused as exc:
            return fail(PermanentFeedError, str(exc))
        except _BadBody as exc:
            return fail(TransientFeedError, f"{exc}; will retry on a later poll")

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
            moved_to = _moved_to(history, req.url)
            if req.body_hash is not None and digest == req.body_hash:
                # The server ignored our conditional GET but nothing changed: skip parsing.
                return result(body_hash=digest, not_modified=True, moved_to=moved_to)
            return result(body=body, body_hash=digest, moved_to=moved_to)
        if 400 <= status < 500:
            return fail(
                PermanentFeedError, f"client error ({status}); will retry after a long backoff, check the URL"
            )
        return fail(TransientFeedError, f"unexpected HTTP status {status}; will retry on a later poll")
    finally:
        response.release()  # back to the pool when the body was read (a 304 has none), else closed


async def fetch_feeds(
    requests: Sequence[FeedRequest],
    settings: FetchSettings = FetchSettings(),
    *,
    on_done: Callable[[FetchResult], None] | None = None,
    resolver: Resolver = system_resolver,
) -> list[FetchResult]:
    """Fetch every feed concurrently within the limits; results in the order of ``requests``.

    ``resolver`` classifies redirect targets as public or internal; connections use the system's resolver,
    held to that classification for redirect targets.
    """
    global_limit = asyncio.Semaphore(max(1, settings.concurrency))
    host_limits: dict[str, asyncio.Semaphore] = {}
    guard = _ConnectGuard()
    connector = aiohttp.TCPConnector(
        limit=max(1, settings.concurrency), limit_per_host=max(1, settings.per_host), resolver=guard
    )
    # Redirects are followed by _open, hop by hop, so each hop can be checked before it is requested; bodies
    # arrive raw (auto_decompress off) so _CappedBody can bound them. The environment's proxy settings
    # (HTTP(S)_PROXY, NO_PROXY) apply when there are any: aiohttp's trust_env looks them up per request in a
    # thread, a third of a quiet cycle's time, so it is only switched on when a proxy is configured.
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None),  # each request is bounded by asyncio.timeout in _fetch_one
        auto_decompress=False,
        trust_env=bool(urllib.request.getproxies()),
        skip_auto_headers=("User-Agent",),
    ) as session:

        async def run(req: FeedRequest) -> FetchResult:
            try:
                host = (urlsplit(req.url).hostname or "").lower()
            except ValueError:
                host = ""
            host_limit = host_limits.setdefault(host, asyncio.Semaphore(max(1, settings.per_host)))
            result = await _fetch_one(session, req, settings, global_limit, host_limit, resolver, guard)
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
    resolver: Resolver = system_resolver,
) -> list[FetchResult]:
    """``fetch_feeds`` for synchronous callers (runs its own event loop; not callable from inside one)."""
    return asyncio.run(fetch_feeds(requests, settings, on_done=on_done, resolver=resolver))
