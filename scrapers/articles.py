"""Article pages, politely: robots.txt honoured (cached per host), each page fetched once (cached by URL), a
size cap, and the same fetcher (per-host limits, redirect and size checks) as the feeds.

Used only for feed items whose text is too thin to decide on (see ``scrapers.sites.should_scrape``); the page
goes through the feed's site adapter (``scrapers.sites``), whatever its host.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from scrapers.fetch import FeedRequest, FetchSettings, fetch_feeds_sync
from scrapers.sites import Article, adapter_for

log = logging.getLogger(__name__)

_CACHE_SIZE = 2000  # articles remembered per process (an item is scraped once; RSS/Atom copies share a URL)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One article page to read with a site adapter; ``key`` names it in the answer."""

    key: str
    url: str
    site: str


@dataclass(frozen=True, slots=True)
class PageResult:
    """The article read from a page, or why there is none (disallowed by robots.txt, a fetch error)."""

    key: str
    article: Article | None
    reason: str = ""


class ArticleReader:
    """Fetches and reads article pages; keeps robots.txt per host and articles by URL between cycles."""

    def __init__(self, robots_ttl_s: float = 6 * 3600) -> None:
        self._robots_ttl_s = robots_ttl_s
        self._robots: dict[str, tuple[float, RobotFileParser]] = {}
        self._articles: OrderedDict[str, Article] = OrderedDict()

    def read(self, pages: Sequence[PageRequest], settings: FetchSettings) -> list[PageResult]:
        """One result per page, in order."""
        self._load_robots({_origin(p.url) for p in pages}, settings)
        out: dict[str, PageResult] = {}
        wanted: list[PageRequest] = []
        for p in pages:
            if p.url in self._articles:
                out[p.key] = PageResult(p.key, self._articles[p.url])
            elif not self._allowed(p.url, settings.user_agent):
                out[p.key] = PageResult(p.key, None, f"robots.txt of {_origin(p.url)} disallows {p.url}")
            else:
                wanted.append(p)
        by_key = {p.key: p for p in wanted}
        requests = [FeedRequest(p.key, p.url) for p in wanted]
        for r in fetch_feeds_sync(requests, settings) if requests else []:
            page = by_key[r.name]
            if r.error is not None or r.body is None:
                out[page.key] = PageResult(page.key, None, str(r.error or "no body"))
                continue
            try:
                article = adapter_for(page.site).article(r.body, r.final_url or page.url)
            except Exception as exc:  # a page the adapter cannot read costs that page, not the cycle
                out[page.key] = PageResult(
                    page.key, None, f"{page.site} adapter could not read {page.url}: {exc}"
                )
                continue
            self._remember(page.url, article)
            out[page.key] = PageResult(page.key, article)
        return [out[p.key] for p in pages]

    def _remember(self, url: str, article: Article) -> None:
        self._articles[url] = article
        while len(self._articles) > _CACHE_SIZE:
            self._articles.popitem(last=False)

    def _load_robots(self, origins: set[str], settings: FetchSettings) -> None:
        now = time.monotonic()
        stale = [o for o in origins if o not in self._robots or now - self._robots[o][0] > self._robots_ttl_s]
        if not stale:
            return
        requests = [FeedRequest(o, f"{o}/robots.txt") for o in stale]
        for r in fetch_feeds_sync(requests, settings):
            parser = RobotFileParser()
            if r.body is not None and r.error is None:
                parser.parse(r.body.decode("utf-8", errors="replace").splitlines())
            elif r.status is not None and r.status < 500:
                parser.parse(["User-agent: *", "Disallow:"])  # none (4xx) or empty: all allowed (RFC 9309)
            else:
                parser.parse(
                    ["User-agent: *", "Disallow: /"]
                )  # unreachable: nothing is (RFC 9309), until the TTL
                log.info(
                    "robots.txt of %s unreachable (%s): its pages are not fetched for now", r.name, r.error
                )
            self._robots[r.name] = (now, parser)

    def _allowed(self, url: str, user_agent: str) -> bool:
        entry = self._robots.get(_origin(url))
        return entry is not None and entry[1].can_fetch(user_agent, url)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
