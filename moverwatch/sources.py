"""The source catalogue (data/sources.yaml) and the feed configs it expands into: named sources a config
enables (``sources: [asiafinancial, scmp-business]``) and per-ticker feeds generated from the watchlist
(``per_ticker_feeds: [yahoo, google-news]``).

Pure functions over plain data: they return feed mappings with the keys of ``config.FeedConfig`` (``name``,
``url``, and ``site`` / ``interval`` when the catalogue sets them), for the config loader to validate like
hand-written feeds. Names are stable (``asiafinancial``, ``yahoo:BABA``, ``google-news:0700.HK``), so a
feed's health record and validators survive a restart. ``base_url`` rewrites every URL's scheme and host
(``http://127.0.0.1:PORT``): tests serve the catalogue from loopback and never touch the internet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import yaml

from moverwatch.errors import ConfigError
from moverwatch.yamlfile import load_yaml_text

__all__ = [
    "Catalogue",
    "Source",
    "TickerSource",
    "combine_feeds",
    "expand_sources",
    "google_news_query",
    "load_catalogue",
    "parse_catalogue",
    "per_ticker_feeds",
    "rewrite_base",
    "yahoo_symbol",
]

FORMATS = frozenset({"rss", "atom", "rdf"})
DEFAULT_PER_TICKER = ("yahoo", "google-news")
# A Google News query names at most this many of a ticker's aliases (each one widens the search).
QUERY_NAMES = 3


class TickerLike(Protocol):
    """What per-ticker feeds read of a watchlist ticker (``watchlist.Ticker`` has it)."""

    @property
    def symbol(self) -> str: ...
    @property
    def names(self) -> Sequence[str]: ...
    @property
    def kind(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Source:
    """One catalogue feed a config enables by name."""

    name: str
    url: str
    format: str
    site: str | None = None
    interval: str | None = None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class TickerSource:
    """A feed template filled per watched ticker: ``{symbol}`` (the source's spelling) or ``{query}``."""

    name: str
    url: str
    format: str
    site: str | None = None
    interval: str | None = None
    kinds: tuple[str, ...] = ("stock",)
    symbols: Mapping[str, str] | None = None  # watchlist symbol -> the source's symbol
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every known source, in catalogue order."""

    sources: tuple[Source, ...]
    per_ticker: tuple[TickerSource, ...]

    def source(self, name: str) -> Source:
        """The named source; an unknown name is a ConfigError listing the known ones."""
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError(f"unknown source {name!r} in sources; known sources: {known}")

    def ticker_source(self, name: str) -> TickerSource:
        """The named per-ticker source; an unknown name is a ConfigError listing the known ones."""
        for s in self.per_ticker:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.per_ticker)
        raise ConfigError(f"unknown per-ticker source {name!r} in per_ticker_feeds; known: {known}")

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(name, URL, format, notes) of every source, per-ticker templates last: the `sources` listing."""
        every: list[Source | TickerSource] = [*self.sources, *self.per_ticker]
        return [(s.name, s.url, s.format, s.notes) for s in every]


# ---------------------------------------------------------------------------------------------- loading
def _text(entry: Mapping[str, Any], key: str, where: str, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"source catalogue {where}: {key} must be a non-empty string")
    return value.strip()


def _common(entry: Any, where: str, fields: set[str]) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"source catalogue {where}: expected a mapping, got {type(entry).__name__}")
    unknown = sorted(set(entry) - fields)
    if unknown:
        raise ConfigError(f"source catalogue {where}: unknown keys {', '.join(unknown)}")
    name = _text(entry, "name", where)
    fmt = _text(entry, "format", where)
    if fmt not in FORMATS:
        raise ConfigError(
            f"source catalogue {where}: format {fmt!r} is not one of {', '.join(sorted(FORMATS))}"
        )
    url = _text(entry, "url", where)
    assert url is not None and name is not None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"source catalogue {where}: url {url!r} must be http(s)")
    return {
        "name": name,
        "url": url,
        "format": fmt,
        "site": _text(entry, "site", where, required=False),
        "interval": _text(entry, "interval", where, required=False),
        "notes": " ".join(str(entry.get("notes") or "").split()),
    }


_SOURCE_KEYS = {"name", "url", "format", "site", "interval", "notes"}


def parse_catalogue(data: Any, where: str = "sources.yaml") -> Catalogue:
    """Validate a loaded catalogue mapping; errors name the entry and the field."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"source catalogue {where}: expected a mapping with 'sources' and 'per_ticker'")
    sources = tuple(
        Source(**_common(e, f"{where} sources[{i}]", _SOURCE_KEYS))
        for i, e in enumerate(data.get("sources") or ())
    )
    per_ticker: list[TickerSource] = []
    for i, e in enumerate(data.get("per_ticker") or ()):
        here = f"{where} per_ticker[{i}]"
        common = _common(e, here, _SOURCE_KEYS | {"kinds", "symbols"})
        if "{symbol}" not in common["url"] and "{query}" not in common["url"]:
            raise ConfigError(f"source catalogue {here}: url must contain {{symbol}} or {{query}}")
        symbols = e.get("symbols") or {}
        if not isinstance(symbols, Mapping):
            raise ConfigError(f"source catalogue {here}: symbols must map watchlist symbols to the source's")
        kinds = e.get("kinds") or ["stock"]
        per_ticker.append(
            TickerSource(
                **common,
                kinds=tuple(str(k) for k in kinds),
                symbols={str(k): str(v) for k, v in symbols.items()},
            )
        )
    names = [s.name for s in sources] + [s.name for s in per_ticker]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"source catalogue {where}: names must be unique; repeated: {', '.join(dupes)}")
    return Catalogue(sources, tuple(per_ticker))


def load_catalogue(text: str | None = None) -> Catalogue:
    """The bundled catalogue (``moverwatch/data/sources.yaml``), or one given as YAML text."""
    where = "(given text)"
    if text is None:
        where = "moverwatch/data/sources.yaml"
        text = (resources.files("moverwatch") / "data" / "sources.yaml").read_text(encoding="utf-8")
    try:
        data = load_yaml_text(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"source catalogue {where} is not valid YAML: {exc}") from None
    return parse_catalogue(data, where)


# ---------------------------------------------------------------------------------------------- expanding
def rewrite_base(url: str, base_url: str | None) -> str:
    """``url`` with its scheme and host (and port) replaced by ``base_url``'s; path and query kept."""
    if not base_url:
        return url
    base, parts = urlsplit(base_url), urlsplit(url)
    prefix = base.path.rstrip("/")
    return urlunsplit((base.scheme, base.netloc, prefix + parts.path, parts.query, parts.fragment))


def _feed(name: str, url: str, src: Source | TickerSource) -> dict[str, Any]:
    feed: dict[str, Any] = {"name": name, "url": url}
    if src.site:
        feed["site"] = src.site
    if src.interval:
        feed["interval"] = src.interval
    return feed


def expand_sources(
    names: Iterable[str], catalogue: Catalogue, *, base_url: str | None = None
) -> list[dict[str, Any]]:
    """Feed configs of the named catalogue sources, in the order given (a name given twice counts once)."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        src = catalogue.source(name)
        out.append(_feed(src.name, rewrite_base(src.url, base_url), src))
    return out


# Exchange codes and bare numbers ("9988", "0700.HK", "002594"): they match unrelated news in a search.
_CODE = re.compile(r"[0-9][0-9A-Za-z]*(?:\.[A-Za-z]{1,3})?")
_NON_WORD = re.compile(r"\W+")


def google_news_query(names: Sequence[str], symbol: str = "") -> str:
    """A search query naming the ticker: its aliases in watchlist order (the first is the display name),
    without exchange codes, one- or two-letter tickers ("LI", "V": noise in a search) or aliases an earlier
    one already covers ("Alibaba Group" is found by "Alibaba"); at most QUERY_NAMES of them, joined with OR."""
    kept: list[str] = []
    words: list[str] = []  # " alibaba ": whole-word containment is a substring test on padded word lists
    for raw in names:
        name = " ".join(raw.split())
        if len(name) <= 2 or _CODE.fullmatch(name):
            continue
        padded = f" {_NON_WORD.sub(' ', name.lower()).strip()} "
        if any(w in padded for w in words):
            continue
        kept.append(name)
        words.append(padded)
        if len(kept) == QUERY_NAMES:
            break
    if not kept:  # every alias is a code: search for the symbol (or the first alias) rather than nothing
        fallback = symbol or (" ".join(names[0].split()) if names else "")
        kept = [fallback] if fallback else []
    return " OR ".join(f'"{n}"' if not n.isalnum() else n for n in kept)


def yahoo_symbol(ticker: TickerLike, src: TickerSource) -> str | None:
    """The ticker as the source spells it: the catalogue's mapping, else the watchlist symbol when the
    source serves the ticker's kind, else None (no feed)."""
    mapped = (src.symbols or {}).get(ticker.symbol)
    if mapped:
        return mapped
    return ticker.symbol if ticker.kind in src.kinds else None


def per_ticker_feeds(
    tickers: Iterable[TickerLike],
    kinds: Sequence[str] = DEFAULT_PER_TICKER,
    catalogue: Catalogue | None = None,
    *,
    base_url: str | None = None,
) -> list[dict[str, Any]]:
    """Feed configs named ``<source>:<symbol>`` for every ticker and every per-ticker source in ``kinds``.

    ``{symbol}`` templates take the source's spelling of the symbol (percent-encoded: ``^HSI`` → ``%5EHSI``);
    ``{query}`` templates take ``google_news_query`` of the ticker's names (``quote_plus``-encoded).
    """
    cat = catalogue or load_catalogue()
    sources = [cat.ticker_source(k) for k in dict.fromkeys(kinds)]
    out: list[dict[str, Any]] = []
    for ticker in tickers:
        for src in sources:
            url = src.url
            if "{symbol}" in url:
                symbol = yahoo_symbol(ticker, src)
                if symbol is None:
                    continue
                url = url.replace("{symbol}", quote(symbol, safe=""))
            if "{query}" in url:
                if ticker.kind not in src.kinds and ticker.symbol not in (src.symbols or {}):
                    continue
                url = url.replace("{query}", quote_plus(google_news_query(ticker.names, ticker.symbol)))
            out.append(_feed(f"{src.name}:{ticker.symbol}", rewrite_base(url, base_url), src))
    return out


def combine_feeds(
    explicit: Sequence[Mapping[str, Any]],
    sources: Sequence[str],
    per_ticker: Sequence[str],
    tickers: Iterable[TickerLike],
    catalogue: Catalogue | None = None,
    *,
    base_url: str | None = None,
) -> list[dict[str, Any]]:
    """The config's own feeds, then its named sources, then the watchlist's per-ticker feeds; a name given
    by two of them is a ConfigError saying where each came from (a hand-written feed never silently wins)."""
    cat = catalogue or load_catalogue()
    origin: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    groups: list[tuple[str, list[dict[str, Any]]]] = [
        ("feeds", [dict(f) for f in explicit]),
        ("sources", expand_sources(sources, cat, base_url=base_url)),
        (
            "per_ticker_feeds",
            per_ticker_feeds(tickers, per_ticker, cat, base_url=base_url) if per_ticker else [],
        ),
    ]
    for where, feeds in groups:
        for f in feeds:
            name = str(f.get("name", ""))
            if name in origin:
                raise ConfigError(
                    f"feed name {name!r} is given by both {origin[name]} and {where}; rename the feed in feeds"
                )
            origin[name] = where
            out.append(f)
    return out
