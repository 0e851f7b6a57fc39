"""Turn the bytes of one fetched feed into normalised NewsItems (pure: no I/O, never raises).

Policy, in the order it is applied:

* Refused before parsing: an empty body, a Cloudflare challenge page, and any document that declares an entity
  before its root element, inside a DOCTYPE's internal subset or not (feedparser's loose parser expands an
  ``<!ENTITY>`` placed after ``<!DOCTYPE rss>`` without any limit). The check runs on the bytes feedparser
  itself will parse, after its own charset conversion, so no encoding (UTF-16/32, UTF-7, EBCDIC) hides a
  declaration. An XML bomb is refused without expanding anything; feeds have no legitimate need for entities.
* Parsed with feedparser from an in-memory stream (never a ``bytes``/``str`` argument: feedparser would treat
  one as a path or URL and read it), HTML sanitising and relative-URI rewriting off (we strip HTML to text
  ourselves), and the feed URL as ``content-location`` so relative links resolve against it.
* A document with no version and no entries is "not a feed" (an HTML page served instead of the feed).
  A bozo document that still yields entries keeps its usable items and reports a warning.
* An entry is usable when it has a title (or a summary to build one from) **and** an http(s) link, taken
  from ``<link>`` or else from a permalink guid, resolved against the feed URL. Entries without one (a
  non-permalink guid only, an empty ``<link>``, a ``javascript:``/``data:`` link) are dropped with a warning:
  they cannot be opened by a reader or scraped, so they must never become an alert.
* guid = the entry id, else the canonical link. A guid repeated within one document is a duplicate: the first
  occurrence claims it (even when that entry is itself unusable) and later ones are dropped with a warning,
  so a re-used guid never produces a second alert.
* Dates are aware UTC. Named zones feedparser gets wrong (it reads ``HKT`` as UTC) are mapped to offsets;
  a date without any zone is taken as UTC with a warning; local-script dates (``2025年02月21日``) and dates
  more than a day in the future or before 2000 become None with a warning, so the caller uses the first-seen
  time instead of a wrong one.
"""

from __future__ import annotations

import email.utils
import functools
import html
import importlib
import io
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from xml.parsers import expat

import feedparser
from feedparser.datetimes import _parse_date as _fp_parse_date
from feedparser.encodings import convert_to_utf8
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.util import FeedParserDict
from url_normalize import url_normalize

from moverwatch.errors import BlockedFeedError, FeedError, PermanentFeedError
from moverwatch.models import NewsItem, ParseResult

__all__ = [
    "bot_challenge_reason",
    "canonical_url",
    "parse_feed",
    "strip_html",
]

MAX_TITLE_CHARS = 300
_BUILT_TITLE_CHARS = 120
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_MAX_FUTURE = timedelta(days=1)


# --------------------------------------------------------------------------------------------- text helpers

# Tags after which a word boundary is implied, so "<p>a</p><p>b</p>" reads "a b", not "ab".
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 header hr "
    "li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_INVISIBLE_TAGS = frozenset({"script", "style", "template", "noscript", "iframe", "object"})
_WS = re.compile(r"\s+")


# Regexes rather than an HTML parser: feed HTML is fragments we only need the words of, and this is ~2.5x
# faster than html.parser on WordPress bodies (parsing dominates a cold poll cycle).
_HIDDEN_RE = re.compile(
    r"<(" + "|".join(sorted(_INVISIBLE_TAGS)) + r")\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE
)
_BLOCK_RE = re.compile(r"</?(?:" + "|".join(sorted(_BLOCK_TAGS)) + r")\b[^>]*>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")


def _clean_chars(s: str) -> str:
    """Drop control and format characters (zero-width, bidi overrides, BOM); turn NBSP and line breaks into
    spaces; collapse whitespace. Hostile feeds use these to hide or reorder text in alerts."""
    s = " ".join(s.split())  # every Unicode space, NBSP and line/paragraph separator included
    if s.isprintable():  # the common case: nothing left to remove, skip the per-character pass
        return s
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            out.append(" " if ch in "\t\n\r\x0b\x0c" else "")
        elif cat in ("Cf", "Zl", "Zp"):
            out.append(" " if cat != "Cf" else "")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def strip_html(s: str) -> str:
    """Plain text of an HTML fragment: tags removed, entities unescaped, NBSP as space, whitespace collapsed."""
    if not s:
        return ""
    if "<" not in s and "&" not in s:
        return _clean_chars(s)
    s = _TAG_RE.sub("", _BLOCK_RE.sub(" ", _HIDDEN_RE.sub(" ", s)))
    return _clean_chars(html.unescape(s))


def _clean_title(raw: str) -> str:
    """Plain-text title: leftover entities decoded once (a double-escaped ``&amp;amp;`` arrives as ``&amp;``),
    control/bidi characters removed, capped in length. Tags are kept as text: renderers escape them."""
    title = _clean_chars(html.unescape(raw))
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    return title


def _title_from_summary(summary: str) -> str:
    """A stand-in title for an entry that has none: the first sentence, or the first words, of the summary."""
    end = summary.find(". ")
    if 0 < end < _BUILT_TITLE_CHARS:
        return summary[: end + 1]
    if len(summary) <= _BUILT_TITLE_CHARS:
        return summary
    cut = summary.rfind(" ", 0, _BUILT_TITLE_CHARS)
    return summary[: cut if cut > 40 else _BUILT_TITLE_CHARS].rstrip() + "…"


# ----------------------------------------------------------------------------------------------- URLs

# Click/campaign tracking parameters: they vary per channel and never change the page.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
        "mc_eid", "_ga", "_gl", "ncid", "cmpid", "ocid", "sr_share", ".tsrc", "tsrc", "ref_src", "spm",
    }
)  # fmt: skip


# url_normalize spends most of canonical_url in IDNA-encoding the host, the same few hosts for every link
# of a feed (~1.5 ms of a 50-item feed's ~9 ms). Its normalize_host is a pure function of the host: cached.
# The module, not the function of the same name the package re-exports.
_URL_NORMALIZE: Any = importlib.import_module("url_normalize.url_normalize")
_URL_NORMALIZE.normalize_host = functools.lru_cache(maxsize=4096)(_URL_NORMALIZE.normalize_host)


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k.startswith(("utm_", "__hs", "_hs")) or k in _TRACKING_PARAMS


def canonical_url(url: str) -> str:
    """The dedup key form of a URL: tracking parameters and fragment dropped, scheme/host lower-cased,
    default port and dot segments removed; meaningful query parameters (``?p=141502``) kept in order."""
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        query = urlencode(
            [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)],
            doseq=True,
        )
        stripped = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        normalised = url_normalize(stripped) or stripped
    except ValueError:  # a malformed URL (bad port, bad IPv6 literal) is still a usable opaque key
        return url
    return normalised.split("#", 1)[0]


def _http_url(base: str, link: str) -> str | None:
    """``link`` resolved against ``base`` if the result is an absolute http(s) URL, else None."""
    link = link.strip()
    if not link:
        return None
    try:
        resolved = urljoin(base, link)
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return resolved


# ---------------------------------------------------------------------------------------------- dates

# Zone abbreviations seen in Asian and US feeds. feedparser reads unknown ones (HKT, SGT, ...) as UTC, which
# is silently 8 hours wrong. Ambiguous ones are left to feedparser (CST: US Central there; China elsewhere).
_ZONES: Mapping[str, str] = {
    "HKT": "+0800", "SGT": "+0800", "PHT": "+0800", "MYT": "+0800", "AWST": "+0800", "CCT": "+0800",
    "JST": "+0900", "KST": "+0900", "IST": "+0530", "ICT": "+0700", "WIB": "+0700", "PKT": "+0500",
    "AEST": "+1000", "AEDT": "+1100", "NZST": "+1200", "NZDT": "+1300",
    "EST": "-0500", "EDT": "-0400", "PST": "-0800", "PDT": "-0700",
}  # fmt: skip
_NAMED_ZONE = re.compile(r"^(?P<body>.*\d{1,2}:\d{2}(?::\d{2})?)\s+(?P<zone>[A-Za-z]{2,5})$")
_ISO_NO_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_RFC822_NO_ZONE = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?$"
)
# "Feb 21, 2025 09:45 GMT" (Investing.com and others): feedparser returns None for it.
_EXTRA_FORMATS = ("%b %d, %Y %H:%M", "%b %d, %Y %H:%M:%S", "%B %d, %Y %H:%M", "%B %d, %Y %H:%M:%S")


def _from_struct(st: Any) -> datetime | None:
    try:
        year, month, day, hour, minute, second = (int(v) for v in st[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        return None


def _parse_date(raw: str, parsed: Any) -> tuple[datetime | None, str | None]:
    """(aware UTC datetime or None, warning or None) for one raw date string and feedparser's parse of it."""
    raw = _WS.sub(" ", raw).strip()
    if not raw:
        return None, None
    if not raw.isascii():
        # feedparser turns "2025年02月21日 17:45" into 2025-11-01; the zone is unknown anyway.
        return None, f"unparseable date {raw!r} ignored; first-seen time used"
    m = _NAMED_ZONE.match(raw)
    if m and m.group("zone").upper() in _ZONES:
        try:
            return email.utils.parsedate_to_datetime(
                f"{m.group('body')} {_ZONES[m.group('zone').upper()]}"
            ).astimezone(UTC), None
        except (TypeError, ValueError, IndexError):
            pass
    if _ISO_NO_ZONE.match(raw) or _RFC822_NO_ZONE.match(raw):
        try:
            naive = (
                datetime.fromisoformat(raw)
                if _ISO_NO_ZONE.match(raw)
                else email.utils.parsedate_to_datetime(raw)
            )
        except (TypeError, ValueError, IndexError):
            return None, f"unparseable date {raw!r} ignored; first-seen time used"
        return naive.replace(tzinfo=UTC), f"date {raw!r} has no time zone; assumed UTC"
    dt = _from_struct(parsed) if parsed else None
    if dt is not None:
        return dt, None
    plain = re.sub(r"\s+(?:GMT|UTC|Z)$", "", raw)
    if plain != raw or not re.search(r"[+-]\d{2}:?\d{2}$", raw):
        for fmt in _EXTRA_FORMATS:
            try:
                return datetime.strptime(plain, fmt).replace(tzinfo=UTC), (
                    None if plain != raw else f"date {raw!r} has no time zone; assumed UTC"
                )
            except ValueError:
                continue
    return None, f"unparseable date {raw!r} ignored; first-seen time used"


def _entry_date(entry: Mapping[str, Any], now: datetime) -> tuple[datetime | None, str | None]:
    """The entry's publication time (its update time if it has none), checked for plausibility."""
    for key in ("published", "updated"):
        raw = entry.get(key)
        if isinstance(raw, str) and raw.strip():
            dt, warning = _parse_date(raw, entry.get(f"{key}_parsed"))
            if dt is not None and (dt < _EARLIEST or dt > now + _MAX_FUTURE):
                return None, f"implausible date {raw!r} ({dt.isoformat()}) ignored; first-seen time used"
            return dt, warning
    return None, None


# ------------------------------------------------------------------------------------ refusals before parse

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_CHALLENGE_TITLE = re.compile(
    rb"<title>\s*(?:Just a moment\.\.\.|Attention Required! \| Cloudflare)\s*</title>", re.IGNORECASE
)
_HTML_START = re.compile(rb"^\s*(?:<!DOCTYPE\s+html|<html|<head|<body)", re.IGNORECASE)
_ALTERNATE = re.compile(r"<link\b[^>]*\btype=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE)
_HREF = re.compile(r"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)


def _ascii_view(body: bytes) -> bytes:
    """The body in an ASCII-compatible encoding, so byte patterns also match UTF-16/32 documents."""
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if body.startswith(bom):
            return body.decode(codec, errors="replace").encode("utf-8", errors="replace")
    if body[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        codec = "utf-16-le" if body[0] == 0x3C else "utf-16-be"
        return body.decode(codec, errors="replace").encode("utf-8", errors="replace")
    return body


# feedparser's own split of a document into the head it scans for declarations and the rest (sanitizer.py,
# replace_doctype): everything before the first "<" followed by a word character.
_FIRST_ELEMENT = re.compile(rb"<\w")


def _declares_entities(body: bytes) -> bool:
    """True when ``body`` declares an entity anywhere feedparser or expat would honour it.

    That is anywhere before the root element (feedparser collects every ``<!ENTITY`` there and hands the
    "safe" ones, bounded only by the document size, to its loose parser) and inside any DOCTYPE's internal
    subset (billion laughs, quadratic blowup, XXE).
    """
    first = _FIRST_ELEMENT.search(body)
    head_end = first.start() if first else len(body)
    if _ENTITY_DECL.search(body, 0, head_end):
        return True
    for m in _DOCTYPE.finditer(body):
        bracket, close = body.find(b"[", m.end()), body.find(b">", m.end())
        if bracket == -1 or (close != -1 and close < bracket):
            continue  # no internal subset (e.g. RSS 0.91's public DTD): nothing can be declared
        end = body.find(b"]>", bracket)
        if _ENTITY_DECL.search(body, bracket, end if end != -1 else len(body)):
            return True
    return False


def _as_feedparser_sees_it(body: bytes) -> bytes:
    """The document as UTF-8 exactly as feedparser converts it before parsing (its charset rules: BOM, XML
    declaration, fallbacks), so a declaration in UTF-7 or EBCDIC is as visible as one in ASCII."""
    try:
        return bytes(convert_to_utf8({}, body, FeedParserDict()))
    except Exception:  # a conversion feedparser cannot do either; the byte-level view is still checked
        return b""


def bot_challenge_reason(body: bytes) -> str | None:
    """The reason text when ``body`` is a bot-challenge interstitial instead of content, else None."""
    if _CHALLENGE_TITLE.search(body[:16384]):
        return "blocked by a bot challenge (Cloudflare)"
    return None


def _discover_alternate(text: str, base: str) -> str | None:
    """The first RSS/Atom URL advertised by ``<link rel=alternate>`` in an HTML page, resolved."""
    for tag in _ALTERNATE.findall(text):
        if "alternate" in tag.lower():
            href = _HREF.search(tag)
            if href:
                return _http_url(base, html.unescape(href.group(1)))
    return None


# ------------------------------------------------------------------------------------- fast path (RSS 2.0)

_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
_ATOM_NS = "http://www.w3.org/2005/Atom"
# Namespaces whose channel-level elements feedparser only records as feed metadata (never as entries).
_CHANNEL_NS = frozenset(
    {
        "",
        "http://purl.org/rss/1.0/modules/syndication/",
        "http://purl.org/dc/elements/1.1/",
        "http://wellformedweb.org/CommentAPI/",
        "http://purl.org/rss/1.0/modules/slash/",
    }
)
# Item children whose value we read (RSS 2.0 and content:encoded); each may appear at most once.
_TEXT_FIELDS = {"title": "title", "link": "link", "guid": "id", "pubDate": "published", "description": "summary",
                f"{_CONTENT_NS} encoded": "content"}  # fmt: skip
# Item children feedparser keeps only as metadata we never read (author, tags, comments, enclosures).
_IGNORED_ITEM_CHILDREN = frozenset(
    {
        "category", "comments", "author", "enclosure", "http://purl.org/dc/elements/1.1/ creator",
        "http://wellformedweb.org/CommentAPI/ commentRss", "http://purl.org/rss/1.0/modules/slash/ comments",
    }
)  # fmt: skip
_XML_DECL = re.compile(
    rb"^<\?xml\s+version=[\"']1\.0[\"'](?:\s+encoding=[\"']utf-8[\"'])?\s*\?>", re.IGNORECASE
)
_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")


class _Unusual(Exception):
    """The document leaves the fast path's narrow RSS 2.0 subset: feedparser parses it instead."""


def _fp_text(raw: str) -> str:
    """A text value as feedparser's strict parser finishes it (mixin ``pop``): stripped, UTF-8 read as
    Latin-1 repaired, Windows-1252 code points mapped."""
    out = raw.strip()
    try:
        out = out.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return out.translate(_cp1252)


def _fast_entries(body: bytes) -> tuple[str, list[dict[str, Any]]] | None:
    """(version, entries shaped as feedparser's) for a well-formed UTF-8 RSS 2.0 document of the usual shape,
    else None: anything unusual (other formats or encodings, a DOCTYPE, undefined entities, unknown
    elements or attributes inside items, ``xml:base``, repeated fields) goes to feedparser.

    Only the fields ``_parse`` reads are produced, with feedparser's semantics (title type guess, guid as
    link, content copied to summary, ``&amp;`` in links, its date parser), proven equal in the tests."""
    head = body[:200]
    if not (head.startswith(b"<rss") or _XML_DECL.match(head)):
        return None
    p = expat.ParserCreate("utf-8", namespace_separator=" ")
    entries: list[dict[str, Any]] = []
    stack: list[str] = []
    entry: dict[str, Any] = {}
    field = ""
    text: list[str] = []
    version = ""

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal entry, field, version
        depth = len(stack)
        stack.append(name)
        if any(k.startswith("http://www.w3.org/XML/1998/namespace base") for k in attrs):
            raise _Unusual
        if depth == 0:
            if name != "rss" or attrs.get("version") != "2.0":
                raise _Unusual
            version = "rss20"
        elif depth == 1:
            if name != "channel":
                raise _Unusual
        elif depth == 2:
            if name == "item":
                if attrs:
                    raise _Unusual
                entry = {}
                entries.append(entry)
            elif name.rpartition(" ")[0] not in _CHANNEL_NS and name != f"{_ATOM_NS} link":
                raise _Unusual
            elif name.rpartition(" ")[2] in ("item", "entry", "source"):
                raise _Unusual
        elif stack[2] != "item":
            # inside channel metadata (image, textInput, ...): no entry can start there
            if name.rpartition(" ")[2] in ("item", "entry", "source", "content"):
                raise _Unusual
        elif depth == 3:
            key = _TEXT_FIELDS.get(name)
            if key is not None:
                if key in entry or (key == "summary" and "content" in entry):
                    raise _Unusual  # repeats and content-before-description take feedparser's odd paths
                allowed = {"isPermaLink"} if key == "id" else set()
                if set(attrs) - allowed:
                    raise _Unusual
                if key == "id":
                    entry["_permalink"] = attrs.get("isPermaLink", "true") == "true"
                field = key
                text.clear()
            elif name not in _IGNORED_ITEM_CHILDREN:
                raise _Unusual
        elif field:
            raise _Unusual  # markup nested in a text field

    def end(name: str) -> None:
        nonlocal field
        stack.pop()
        if len(stack) == 3 and field:
            value = _fp_text("".join(text))
            key, field = field, ""
            if key == "title":
                entry["title"] = value
                kind = "text/html" if _FeedParserMixin.looks_like_html(value) else "text/plain"
                entry["title_detail"] = {"type": kind}
            elif key == "link":
                entry["link"] = _LINK_ENTITY.sub(r"&\g<1>", value.replace("&amp;", "&"))
            elif key == "id":
                permalink = entry.pop("_permalink")
                entry["id"] = value
                entry["guidislink"] = permalink and "link" not in entry
                if permalink:
                    entry.setdefault("link", value)
            elif key == "published":
                entry["published"] = value
                entry["published_parsed"] = _fp_parse_date(value)
            elif key == "summary":
                entry["summary"] = value
            else:
                entry["content"] = [{"type": "text/html", "value": value}]
                entry.setdefault("summary", value)

    def chars(data: str) -> None:
        if field:
            text.append(data)

    def refuse(*_args: Any) -> None:
        raise _Unusual

    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    p.StartDoctypeDeclHandler = refuse
    p.EntityDeclHandler = refuse
    p.ordered_attributes = False
    try:
        p.Parse(body, True)
    except (_Unusual, expat.ExpatError, ValueError):
        return None
    for e in entries:
        if "_permalink" in e:
            return None  # an unclosed guid cannot happen in well-formed XML; be safe
    return version, entries


# ---------------------------------------------------------------------------------------------- parsing


# The lead of an article carries its moves; the rest costs parse and detect time on every item (a full
# WordPress body is ~3 KB of text) and adds trap sentences. Only this much of a body is kept.
SUMMARY_LIMIT = 2000
_CONTENT_HTML_LIMIT = 4 * SUMMARY_LIMIT


def _text_of(entry: Mapping[str, Any]) -> str:
    """Plain text of the entry's description, then the lead of its full content, capped at SUMMARY_LIMIT."""
    parts: list[str] = []
    summary = entry.get("summary")
    if isinstance(summary, str):
        parts.append(strip_html(summary))
    for content in entry.get("content") or ():
        value = content.get("value") if isinstance(content, Mapping) else None
        if isinstance(value, str):
            text = strip_html(value[:_CONTENT_HTML_LIMIT])
            if text and not any(text in p for p in parts):
                parts = [p for p in parts if p not in text]
                parts.append(text)
    return _cap(" ".join(p for p in parts if p), SUMMARY_LIMIT)


def _cap(text: str, limit: int) -> str:
    """Cut at the last sentence end before `limit` (else a word boundary), so no half sentence is detected."""
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit)
    return text[: cut + 1].rstrip()


def _title_text(raw: str, entry: Mapping[str, Any]) -> str:
    """The title as text: markup removed only when the title is HTML (Atom ``type="html"``, or feedparser's
    guess for RSS); a plain-text title keeps literal ``<...>`` characters for the renderers to escape."""
    detail = entry.get("title_detail")
    kind = detail.get("type") if isinstance(detail, Mapping) else None
    return strip_html(raw) if kind in ("text/html", "application/xhtml+xml") else raw


def _entry_link(entry: Mapping[str, Any], base: str) -> tuple[str | None, str]:
    """(the entry's http(s) link or None, the raw candidate that was refused or '')."""
    raw = entry.get("link")
    if isinstance(raw, str) and raw.strip():
        return _http_url(base, raw), raw
    # feedparser already copies a permalink guid into `link`; this covers an explicit isPermaLink="true"
    # guid on an entry whose <link> is present but empty.
    guid = entry.get("id")
    if entry.get("guidislink") and isinstance(guid, str) and guid.strip():
        return _http_url(base, guid), guid
    return None, ""


def _publisher(entry: Mapping[str, Any]) -> str:
    """The outlet an aggregator's item names in ``<source>`` (Google News), cleaned; "" when none."""
    source = entry.get("source")
    name = source.get("title") if isinstance(source, Mapping) else None
    return _clean_title(name)[:120] if isinstance(name, str) else ""


def _key_guid(entry_id: str) -> str:
    """A URL guid without its tracking parameters (SCMP's carry ``?utm_source=rss_feed``), so the same
    article keeps one guid whichever campaign tag a feed adds; any other guid as it is."""
    if "?" not in entry_id or not entry_id.startswith(("http://", "https://")):
        return entry_id
    try:
        query = urlsplit(entry_id).query
    except ValueError:
        return entry_id
    if any(_is_tracking(key) for key, _value in parse_qsl(query, keep_blank_values=True)):
        return canonical_url(entry_id) or entry_id
    return entry_id


def _strip_publisher(title: str, entry: Mapping[str, Any]) -> str:
    """Google News appends " - Publisher"; only the last such suffix, and only when it names the source."""
    source = entry.get("source")
    publisher = source.get("title") if isinstance(source, Mapping) else None
    if isinstance(publisher, str) and publisher.strip() and " - " in title:
        head, tail = title.rsplit(" - ", 1)
        if tail.strip() == _clean_title(publisher) and head.strip():
            return head.strip()
    return title


def _refusal(feed: str, url: str, body: bytes) -> FeedError | None:
    """Why a body is refused before feedparser sees it (empty, an XML bomb, a bot challenge), or None."""
    if not body.strip():
        return PermanentFeedError(
            feed, url, f"empty response ({len(body)} bytes); will retry on the next poll"
        )
    probe = _ascii_view(body)
    if _declares_entities(probe) or _declares_entities(_as_feedparser_sees_it(body)):
        return PermanentFeedError(
            feed, url, "XML entity declarations are not allowed (possible XML bomb); refused without parsing"
        )
    challenge = bot_challenge_reason(probe)
    if challenge:
        return BlockedFeedError(feed, url, f"{challenge}; backing off before the next try")
    return None


def _not_a_feed(probe: bytes, url: str) -> str:
    """The reason for a document that is no feed, naming the feed an HTML page advertises if it does."""
    if _HTML_START.search(probe[:1024]) or b"<html" in probe[:4096].lower():
        found = _discover_alternate(probe[:65536].decode("utf-8", errors="replace"), url)
        hint = f"; the page advertises a feed at {found}" if found else ""
        return f"not a feed (HTML page){hint}; check the feed URL"
    return "not a feed (no RSS, Atom or RDF document found); check the feed URL"


def _feedparser_entries(body: bytes, warnings: list[str]) -> tuple[str, list[Any]]:
    """(version, entries) from feedparser, appending its well-formedness warning to ``warnings``."""
    d = feedparser.parse(
        io.BytesIO(body),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = str(d.get("version") or "")
    entries = list(d.get("entries") or ())
    if d.get("bozo"):
        exc = d.get("bozo_exception")
        kind = type(exc).__name__ if exc is not None else "unknown"
        # NonXMLContentType only says we passed no Content-Type header: an artefact of parsing from bytes.
        if (entries or version) and kind != "NonXMLContentType":
            warnings.append(f"feed is not well-formed ({kind}: {exc}); usable entries kept")
    return version, entries


def _parse(
    feed: str,
    url: str,
    body: bytes,
    fetched_at: datetime,
    now: datetime,
    fast_path: bool = True,
    text_since: datetime | None = None,
) -> ParseResult:
    def failed(error: FeedError, version: str = "", warnings: tuple[str, ...] = ()) -> ParseResult:
        return ParseResult(feed, (), version, warnings, error, 0)

    refused = _refusal(feed, url, body)
    if refused is not None:
        return failed(refused)

    warnings: list[str] = []
    fast = _fast_entries(body) if fast_path else None
    if fast is not None:
        version, entries = fast
    else:
        version, entries = _feedparser_entries(body, warnings)
    if not version and not entries:
        return failed(
            PermanentFeedError(feed, url, _not_a_feed(_ascii_view(body), url)), version, tuple(warnings)
        )

    items: list[NewsItem] = []
    seen_guids: set[str] = set()
    skipped = 0
    for n, entry in enumerate(entries, start=1):
        raw_title = entry.get("title")
        title = _clean_title(_title_text(raw_title, entry)) if isinstance(raw_title, str) else ""
        link, raw_link = _entry_link(entry, url)
        raw_id = entry.get("id")
        entry_id = _key_guid(raw_id.strip()) if isinstance(raw_id, str) else ""
        canon = canonical_url(link) if link else ""
        guid = entry_id or canon

        if guid and guid in seen_guids:
            warnings.append(f"entry {n}: duplicate guid {guid!r} within the feed; counted as a duplicate")
            skipped += 1
            continue
        if guid:
            seen_guids.add(guid)
        if link is None:
            why = f"non-http(s) link {raw_link!r} refused" if raw_link else "no link"
            warnings.append(f"entry {n}: {why}; skipped (it cannot be opened or scraped)")
            skipped += 1
            continue
        published_at, date_warning = _entry_date(entry, now)
        # An item too old to alert on is only recorded as seen: its body is not worth turning into text.
        keep_text = text_since is None or (published_at or now) >= text_since
        summary = _clean_chars(_text_of(entry)) if keep_text or not title else ""
        if title:
            title = _strip_publisher(title, entry)
        elif summary:
            title = _title_from_summary(summary)
            warnings.append(f"entry {n}: no title; built one from its summary")
        else:
            warnings.append(f"entry {n}: no title and no summary; skipped")
            skipped += 1
            continue
        if date_warning:
            warnings.append(f"entry {n}: {date_warning}")
        items.append(
            NewsItem(
                source=feed,
                guid=guid,
                url=link,
                canonical_url=canon,
                title=title,
                summary=summary if keep_text else "",
                published_at=published_at,
                fetched_at=fetched_at,
                publisher=_publisher(entry),
            )
        )
    return ParseResult(feed, tuple(items), version, tuple(warnings), None, skipped)


def parse_feed(
    feed: str,
    url: str,
    body: bytes,
    fetched_at: datetime,
    *,
    now: datetime | None = None,
    fast_path: bool = True,
    text_since: datetime | None = None,
) -> ParseResult:
    """Parse one feed document into usable NewsItems; every failure is returned as ``error`` or ``warnings``.

    ``now`` (default: ``fetched_at``) bounds plausible dates: more than a day later is refused.
    ``fast_path=False`` always uses feedparser (the reference the fast path is tested and benched against).
    Items published before ``text_since`` (undated ones count as published ``now``) get an empty summary:
    too old to alert on, they are only recorded as seen.
    """
    try:
        return _parse(feed, url, body, fetched_at, now or fetched_at, fast_path, text_since)
    except Exception as exc:  # one hostile document must not stop a poll cycle
        return ParseResult(
            feed,
            (),
            "",
            (),
            PermanentFeedError(
                feed, url, f"parse failed ({type(exc).__name__}: {exc}); will retry on the next poll"
            ),
            0,
        )
