"""The article- and listing-page engine every site adapter shares (pure: HTML text in, typed values out).

A site is a ``SiteSpec``: CSS selectors and text rules as data. The engine applies them with beautifulsoup4
(stdlib ``html.parser``, so no C parser is needed), always inside the spec's main-column scope, so the nav,
sidebar, "Most Read" and sponsored boxes of a page never leak into a result.

Dates keep their precision: an exact time (JSON-LD ``datePublished``, ``article:published_time``) becomes an
aware UTC ``published_at``; a page that only shows a calendar date gets ``published_on`` and no
``published_at``, never a made-up midnight that would pass for a precise timestamp.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

__all__ = ["Article", "ListingEntry", "SiteSpec", "parse_article", "parse_listing"]


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """Everything one site's adapter knows, as data: selectors (CSS, soupsieve) and text rules."""

    name: str
    hosts: tuple[str, ...]  # the site's own hosts (informational: a feed's ``site:`` picks the adapter)
    scope: str  # the main column; every selector below (but the head's metadata) is applied inside it
    headline: str
    date: str  # the visible date; the FIRST match is the article's (related posts reuse the markup)
    date_formats: tuple[str, ...]
    category: str
    standfirst: str
    author: str
    tags: str
    image: str
    caption: str
    body: str  # the body's paragraphs, in order (direct children, so nested boxes are not read)
    drop: tuple[str, ...] = ()  # boxes removed from the scope before reading (newsletter, ads)
    stop: str | None = None  # a paragraph matching this regex ends the body (a list of links follows)
    skip: str | None = None  # paragraphs matching this regex are left out (inline cross-links)
    credit: str | None = None  # a paragraph matching this regex is the credit line, kept apart
    jsonld_types: tuple[str, ...] = ("NewsArticle", "Article")
    post_id: tuple[str, str] | None = None  # (selector, regex over its classes) giving the CMS post id
    # Listing pages (a section's archive): the entries, their title links and dates, inside ``scope``.
    listing_item: str | None = None
    listing_link: str | None = None
    listing_title: str | None = None  # inside the link; the link text when absent
    listing_date: str | None = None
    listing_post_id: str | None = None  # regex over the entry's classes


@dataclass(frozen=True, slots=True)
class Article:
    """What an article page says, read by a site adapter."""

    site: str
    url: str  # the URL the page was fetched from
    canonical_url: str | None
    headline: str
    standfirst: str
    paragraphs: tuple[str, ...]
    published_at: datetime | None  # exact, aware UTC; None when the page shows only a date
    published_on: date | None  # the calendar date the page shows
    modified_at: datetime | None = None
    author: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None
    image_caption: str | None = None
    credit: str | None = None  # "– Reuters, with additional editing by …"
    post_id: int | None = None

    @property
    def date_only(self) -> bool:
        """True when the page gives a calendar date but no exact time (low precision)."""
        return self.published_at is None and self.published_on is not None

    def lead(self, paragraphs: int = 3) -> str:
        """The standfirst and the first paragraphs as one text: what the detector reads of a scraped page."""
        # A standfirst has no full stop; one is added so the detector does not read it and the first
        # paragraph as one sentence (and pin the standfirst's "up 70% this year" on the paragraph's subject).
        parts = (self.standfirst, *self.paragraphs[:paragraphs])
        return " ".join(p if p[-1] in ".!?…:;\"'”’" else p + "." for p in parts if p)


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One article linked from a section's listing page."""

    url: str
    title: str
    post_id: int | None = None
    date_label: str | None = None  # as shown ("Feb 21": listings give no year, so no date is made up)
    classes: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------------------------- helpers
def _text(node: Tag | None) -> str:
    """The node's visible text with whitespace collapsed ('' for None)."""
    return " ".join(node.get_text(" ", strip=True).split()) if node is not None else ""


def _first(scope: Tag, selector: str) -> Tag | None:
    found = scope.select_one(selector)
    return found if isinstance(found, Tag) else None


def _attr(node: Tag | None, name: str) -> str | None:
    value = node.get(name) if node is not None else None
    if isinstance(value, list):
        value = " ".join(value)
    return value.strip() or None if isinstance(value, str) else None


def _http(base: str, link: str | None) -> str | None:
    """``link`` resolved against ``base`` when that gives an absolute http(s) URL."""
    if not link:
        return None
    resolved = urljoin(base, link.strip())
    parts = urlsplit(resolved)
    return resolved if parts.scheme in ("http", "https") and parts.hostname else None


def _aware_utc(raw: Any) -> datetime | None:
    """An ISO 8601 timestamp with a zone as aware UTC; anything else (no zone, garbage) is None."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        dt = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.astimezone(UTC) if dt.tzinfo is not None else None


def _visible_date(raw: str, formats: tuple[str, ...]) -> date | None:
    for fmt in formats:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


def _walk_jsonld(data: Any) -> Iterator[dict[str, Any]]:
    """Every object of a JSON-LD document: a single object, a list, or a Yoast ``@graph``."""
    if isinstance(data, list):
        for x in data:
            yield from _walk_jsonld(x)
    elif isinstance(data, dict):
        yield data
        yield from _walk_jsonld(data.get("@graph"))


def _jsonld_article(soup: BeautifulSoup, types: tuple[str, ...]) -> dict[str, Any]:
    """The first JSON-LD object of one of ``types`` (``@type`` may be a list), or {}."""
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.get_text())
        except ValueError:
            continue  # a broken block is ignored, as search engines do
        for obj in _walk_jsonld(data):
            kind = obj.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(k in types for k in kinds):
                return obj
    return {}


def _jsonld_author(obj: dict[str, Any]) -> str | None:
    author = obj.get("author")
    if isinstance(author, list):
        author = author[0] if author else None
    name = author.get("name") if isinstance(author, dict) else author
    return name.strip() or None if isinstance(name, str) else None


def _meta(soup: BeautifulSoup, prop: str) -> str | None:
    return _attr(_first(soup, f'meta[property="{prop}"]'), "content")


def _classes(node: Tag) -> tuple[str, ...]:
    value = node.get("class")
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return tuple(value.split()) if isinstance(value, str) else ()


def _post_id(node: Tag | None, pattern: str) -> int | None:
    if node is None:
        return None
    for cls in _classes(node):
        m = re.fullmatch(pattern, cls)
        if m:
            return int(m.group(1))
    return None


# ---------------------------------------------------------------------------------------------- articles
def _body(scope: Tag, spec: SiteSpec) -> tuple[tuple[str, ...], str | None]:
    """(article paragraphs, credit line) under the spec's stop/skip/credit rules."""
    paragraphs: list[str] = []
    credit = None
    for p in scope.select(spec.body):
        text = _text(p)
        if not text:
            continue
        if spec.stop and re.search(spec.stop, text):
            break
        if spec.skip and re.search(spec.skip, text):
            continue
        if spec.credit and re.search(spec.credit, text):
            credit = text
            continue
        paragraphs.append(text)
    return tuple(paragraphs), credit


def parse_article(spec: SiteSpec, html: str | bytes, url: str) -> Article:
    """Read one article page with ``spec``; missing parts are None or empty, never an exception."""
    soup = BeautifulSoup(html, "html.parser")
    scope = _first(soup, spec.scope) or soup
    for selector in spec.drop:
        for node in scope.select(selector):
            node.decompose()
    ld = _jsonld_article(soup, spec.jsonld_types)
    date_node = _first(scope, spec.date)
    published_on = _visible_date(_text(date_node), spec.date_formats) if date_node is not None else None
    published_at = _aware_utc(ld.get("datePublished")) or _aware_utc(_meta(soup, "article:published_time"))
    if published_on is None and published_at is not None:
        published_on = published_at.date()
    paragraphs, credit = _body(scope, spec)
    image = _first(scope, spec.image)
    caption = _text(_first(scope, spec.caption)) or None
    canonical = _http(url, _attr(_first(soup, 'link[rel~="canonical"]'), "href"))
    post_id = _post_id(_first(soup, spec.post_id[0]), spec.post_id[1]) if spec.post_id else None
    return Article(
        site=spec.name,
        url=url,
        canonical_url=canonical or _http(url, _meta(soup, "og:url")),
        headline=_text(_first(scope, spec.headline)) or str(ld.get("headline") or "").strip(),
        standfirst=_text(_first(scope, spec.standfirst)),
        paragraphs=paragraphs,
        published_at=published_at,
        published_on=published_on,
        modified_at=_aware_utc(ld.get("dateModified")) or _aware_utc(_meta(soup, "article:modified_time")),
        author=_text(_first(scope, spec.author)) or _jsonld_author(ld),
        category=_text(_first(scope, spec.category)) or None,
        tags=tuple(t for t in (_text(a) for a in scope.select(spec.tags)) if t),
        image_url=_http(url, _attr(image, "src")),
        image_caption=caption if image is not None else None,
        credit=credit,
        post_id=post_id,
    )


# ---------------------------------------------------------------------------------------------- listings
def parse_listing(spec: SiteSpec, html: str | bytes, url: str) -> list[ListingEntry]:
    """The unique article links of a section's listing page, in page order (scoped: no nav or sidebar)."""
    if not (spec.listing_item and spec.listing_link):
        raise ValueError(f"site {spec.name!r} has no listing-page selectors")
    soup = BeautifulSoup(html, "html.parser")
    scope = _first(soup, spec.scope) or soup
    out: list[ListingEntry] = []
    seen: set[str] = set()
    for item in scope.select(spec.listing_item):
        link = _first(item, spec.listing_link)
        href = _http(url, _attr(link, "href"))
        if link is None or href is None or href in seen:
            continue
        seen.add(href)
        title_node = _first(link, spec.listing_title) if spec.listing_title else None
        out.append(
            ListingEntry(
                url=href,
                title=_text(title_node or link),
                post_id=_post_id(item, spec.listing_post_id) if spec.listing_post_id else None,
                date_label=_text(_first(item, spec.listing_date)) or None if spec.listing_date else None,
                classes=_classes(item),
            )
        )
    return out
