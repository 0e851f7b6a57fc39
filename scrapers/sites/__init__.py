"""Article-page adapters by site name, and the rule for when an item's article page is worth fetching.

A feed's ``site:`` key names its adapter here; the adapter then reads that feed's links whatever their host,
so a mirror or a loopback test server is read the same way. Adding a site is one module with a ``SITE``
spec (selectors as data, see ``scrapers.sites.base``) and one line in ``_SITES``.

Pure: nothing here fetches. The pipeline asks ``should_scrape`` for each detected item, fetches the page
politely, and hands the HTML to ``adapter_for(site).article``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from moverwatch.errors import ConfigError
from moverwatch.models import Move, NewsItem
from scrapers.sites import asiafinancial
from scrapers.sites.base import Article, ListingEntry, SiteSpec, parse_article, parse_listing

__all__ = [
    "Adapter",
    "Article",
    "ListingEntry",
    "ThinReason",
    "adapter_for",
    "known_sites",
    "needs_article",
    "scrapable",
    "should_scrape",
]

_SITES: dict[str, SiteSpec] = {spec.name: spec for spec in (asiafinancial.SITE,)}

# Links on these hosts are redirect tokens (Google News ``/rss/articles/CBMi…``): opaque, and fetching one
# asks Google, not the publisher. They are never scraped, whatever adapter the feed names.
NEVER_SCRAPE_HOSTS = frozenset({"news.google.com"})

ThinReason = Literal["no-size", "no-summary"]


@dataclass(frozen=True, slots=True)
class Adapter:
    """One site's reader: ``article`` for article pages, ``listing`` for section listing pages."""

    spec: SiteSpec

    @property
    def name(self) -> str:
        return self.spec.name

    def article(self, html: str | bytes, url: str) -> Article:
        """The article a page of this site holds."""
        return parse_article(self.spec, html, url)

    def listing(self, html: str | bytes, url: str) -> list[ListingEntry]:
        """The unique article links of one of this site's listing pages, in order."""
        return parse_listing(self.spec, html, url)


def known_sites() -> tuple[str, ...]:
    """The names a feed's ``site:`` key may take."""
    return tuple(sorted(_SITES))


def adapter_for(site: str) -> Adapter:
    """The adapter registered under ``site``; an unknown name is a ConfigError naming the known ones."""
    spec = _SITES.get(site)
    if spec is None:
        raise ConfigError(
            f"unknown site adapter {site!r} in feeds[].site; known sites: {', '.join(known_sites())}"
        )
    return Adapter(spec)


def scrapable(link: str, site: str | None) -> bool:
    """True when ``link`` may be fetched as an article page: the feed names a known adapter, the link is
    http(s), and its host is not a redirect service (Google News)."""
    if not site or site not in _SITES:
        return False
    try:
        parts = urlsplit(link)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and bool(host) and host not in NEVER_SCRAPE_HOSTS


def _norm(s: str) -> str:
    return " ".join(s.lower().split())


def needs_article(title: str, summary: str, moves: Sequence[Move]) -> ThinReason | None:
    """Why an item's feed text is too thin to decide on, or None when it is enough.

    ``moves`` is what the detector found in the item. "no-size": a watched ticker is said to move but with no
    number (a move with ``pct`` None). "no-summary": the item has no text beyond its headline (an empty
    summary, or one that only repeats the title, as Google News descriptions do). Whether an item with no
    summary and no watched name is worth a fetch is the caller's cost choice; this says the text is thin.
    """
    if any(m.pct is None for m in moves):
        return "no-size"
    body, head = _norm(summary), _norm(title)
    if not body or (head and body.startswith(head) and len(body) - len(head) <= 40):
        return "no-summary"
    return None


def should_scrape(item: NewsItem, site: str | None, moves: Sequence[Move]) -> ThinReason | None:
    """The reason to fetch ``item``'s article page with the feed's ``site`` adapter, or None."""
    if not scrapable(item.url, site):
        return None
    return needs_article(item.title, item.summary, moves)
