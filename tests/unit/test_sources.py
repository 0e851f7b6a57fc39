"""The source catalogue and per-ticker feeds (moverwatch/sources.py), and the quirks of each catalogued source
as the fixture feeds show them (parsed with scrapers.parse.parse_feed)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer

from moverwatch.config import FeedConfig
from moverwatch.dedup import item_keys
from moverwatch.errors import ConfigError
from moverwatch.models import NewsItem
from moverwatch.sources import (
    combine_feeds,
    expand_sources,
    google_news_query,
    load_catalogue,
    per_ticker_feeds,
    rewrite_base,
)
from moverwatch.watchlist import Ticker, load_watchlist
from scrapers.fetch import FeedRequest, FetchSettings, fetch_feeds_sync
from scrapers.parse import parse_feed
from scrapers.sites import known_sites, scrapable

FIXTURES = Path(__file__).parent.parent / "fixtures"
FEEDS = FIXTURES / "feeds"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
NOW = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)  # the fixtures' "now" (README)
CATALOGUE = load_catalogue()

# The source URLs the fixture README says each fixture models.
MODELLED = {
    "asiafinancial": "https://www.asiafinancial.com/feed",
    "asiafinancial-markets": "https://www.asiafinancial.com/markets/feed",
    "asiafinancial-atom": "https://www.asiafinancial.com/feed/atom",
    "scmp-business": "https://www.scmp.com/rss/92/feed",
    "nikkei-asia": "https://asia.nikkei.com/rss/feed/nar",
}


def _parse(name: str, feed: str = "f", url: str = "https://example.com/feed") -> list[NewsItem]:
    result = parse_feed(feed, url, (FEEDS / name).read_bytes(), NOW)
    assert result.error is None, result.error
    assert len(result.items) + result.skipped == EXPECTED["parse"][name]["entries"]
    return list(result.items)


def _ticker(symbol: str, *names: str, kind: str = "stock") -> Ticker:
    return Ticker(symbol=symbol, names=names or (symbol,), kind=kind)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- catalogue
def test_bundled_catalogue_lists_every_source() -> None:
    """The shipped catalogue has the issue's sources, each with a URL, a format and notes."""
    names = {s.name for s in CATALOGUE.sources}
    assert {"asiafinancial", "asiafinancial-markets", "asiafinancial-atom", "scmp-business", "nikkei-asia",
            "cnbc-asia", "marketwatch"} <= names  # fmt: skip
    assert {s.name for s in CATALOGUE.per_ticker} == {"yahoo", "google-news"}
    for name, url, fmt, notes in CATALOGUE.rows():
        assert name and url.startswith("https://") and fmt in {"rss", "atom", "rdf"} and notes


def test_catalogue_urls_and_formats_match_the_fixtures() -> None:
    """Each catalogued URL is the one its fixture models; Atom and RDF are labelled as such."""
    for name, url in MODELLED.items():
        assert CATALOGUE.source(name).url == url
    assert CATALOGUE.source("asiafinancial-atom").format == "atom"
    assert CATALOGUE.source("nikkei-asia").format == "rdf"


def test_catalogue_site_adapters_exist() -> None:
    """Every `site:` the catalogue names is a registered adapter; Asia Financial's feeds all name one."""
    sites = {s.site for s in (*CATALOGUE.sources, *CATALOGUE.per_ticker) if s.site}
    assert sites <= set(known_sites())
    assert all(CATALOGUE.source(n).site == "asiafinancial" for n in MODELLED if n.startswith("asiafinancial"))


def test_expand_sources_in_order_and_valid() -> None:
    """Named sources expand to feed configs in the order given, once each, valid as FeedConfig."""
    feeds = expand_sources(["scmp-business", "asiafinancial", "scmp-business"], CATALOGUE)
    assert [f["name"] for f in feeds] == ["scmp-business", "asiafinancial"]
    assert feeds[1] == {"name": "asiafinancial", "url": MODELLED["asiafinancial"], "site": "asiafinancial"}
    for f in feeds:
        FeedConfig.model_validate(f)


def test_unknown_source_lists_known_names() -> None:
    """An unknown source name is a ConfigError naming it and the known sources."""
    with pytest.raises(ConfigError) as err:
        expand_sources(["asiafinancial", "reuters"], CATALOGUE)
    assert "'reuters'" in str(err.value) and "scmp-business" in str(err.value)
    with pytest.raises(ConfigError, match="google-news"):
        per_ticker_feeds([_ticker("BABA", "Alibaba")], ["bing"], CATALOGUE)


def test_combine_feeds_keeps_order_and_refuses_clashes() -> None:
    """Own feeds, named sources and per-ticker feeds combine in that order; a clashing name is an error
    naming both origins."""
    own = [{"name": "mine", "url": "https://example.com/feed"}]
    feeds = combine_feeds(own, ["asiafinancial"], ["yahoo"], [_ticker("BABA", "Alibaba")], CATALOGUE)
    assert [f["name"] for f in feeds] == ["mine", "asiafinancial", "yahoo:BABA"]
    assert combine_feeds(own, [], [], [_ticker("BABA", "Alibaba")], CATALOGUE) == own
    clash = [{"name": "asiafinancial", "url": "https://example.com/feed"}]
    with pytest.raises(ConfigError, match="both feeds and sources"):
        combine_feeds(clash, ["asiafinancial"], [], [], CATALOGUE)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sources: [{name: a, url: 'https://a.example/f', format: json}]", "format"),
        ("sources: [{name: a, url: 'ftp://a.example/f', format: rss}]", "http"),
        ("sources: [{name: a, url: 'https://a.example/f', format: rss, colour: red}]", "unknown keys colour"),
        ("per_ticker: [{name: y, url: 'https://y.example/f', format: rss}]", "{symbol}"),
        (
            "sources: [{name: a, url: 'https://a.example/f', format: rss}]\n"
            "per_ticker: [{name: a, url: 'https://a.example/{symbol}', format: rss}]",
            "repeated: a",
        ),
    ],
)
def test_bad_catalogue_entries_are_named(text: str, problem: str) -> None:
    """A bad catalogue entry is a ConfigError naming the entry and what is wrong with it."""
    with pytest.raises(ConfigError, match=problem.replace("{", r"\{").replace("}", r"\}")):
        load_catalogue(text)


# ---------------------------------------------------------------------------------------------- per ticker
def test_per_ticker_urls_match_the_fixture_sources() -> None:
    """BABA's Yahoo feed is the URL the Yahoo fixture models; a one-name ticker's Google News search is the
    Google fixture's URL."""
    [yahoo] = per_ticker_feeds([_ticker("BABA", "Alibaba")], ["yahoo"], CATALOGUE)
    assert yahoo["name"] == "yahoo:BABA"
    assert yahoo["url"] == "https://feeds.finance.yahoo.com/rss/2.0/headline?s=BABA&region=US&lang=en-US"
    [google] = per_ticker_feeds([_ticker("BABA", "Alibaba", "9988.HK")], ["google-news"], CATALOGUE)
    assert google["name"] == "google-news:BABA"
    assert google["url"] == "https://news.google.com/rss/search?q=Alibaba+when:2d&hl=en-US&gl=US&ceid=US:en"


def test_google_news_query_from_names() -> None:
    """The query keeps aliases in order, drops codes, 1-2 letter tickers and covered aliases, and quotes
    multi-word and punctuated names; it is URL-encoded into the feed URL."""
    assert google_news_query(
        ["Alibaba", "Alibaba Group", "Alibaba Group Holding", "BABA", "9988.HK", "9988"]
    ) == ("Alibaba OR BABA")
    assert google_news_query(["Li Auto", "LI", "2015.HK"]) == '"Li Auto"'
    assert google_news_query(["Trip.com", "Trip.com Group", "Ctrip"]) == '"Trip.com" OR Ctrip'
    assert google_news_query(["0700.HK"], "0700.HK") == '"0700.HK"'
    [feed] = per_ticker_feeds([_ticker("LI", "Li Auto", "LI")], ["google-news"], CATALOGUE)
    assert parse_qs(urlsplit(feed["url"]).query)["q"] == ['"Li Auto" when:2d']


def test_yahoo_symbols_as_yahoo_spells_them() -> None:
    """HK, Tokyo and Seoul symbols stay as written; indices get a Yahoo feed only when the catalogue maps
    them (HSI → ^HSI, percent-encoded), others none; Google News covers every ticker."""
    wl = load_watchlist(FIXTURES / "corpus" / "watchlist.yaml")
    feeds = {f["name"]: f["url"] for f in per_ticker_feeds(wl.tickers, catalogue=CATALOGUE)}
    assert "s=0700.HK&" in feeds["yahoo:0700.HK"] and "s=7203.T&" in feeds["yahoo:7203.T"]
    assert "s=%5EHSI&" in feeds["yahoo:HSI"]
    assert "yahoo:HSTECH" not in feeds and "google-news:HSTECH" in feeds
    assert all(f"google-news:{t.symbol}" in feeds for t in wl.tickers)


def test_per_ticker_names_are_unique_stable_and_valid() -> None:
    """Feed names are `<source>:<symbol>`, unique, the same on every expansion, and valid FeedConfigs."""
    wl = load_watchlist(FIXTURES / "corpus" / "watchlist.yaml")
    first = per_ticker_feeds(wl.tickers, catalogue=CATALOGUE)
    assert first == per_ticker_feeds(wl.tickers, catalogue=CATALOGUE)
    names = [f["name"] for f in first]
    assert len(names) == len(set(names))
    for f in first:
        FeedConfig.model_validate(f)
    assert {f.get("interval") for f in first} == {"15m", "30m"}


def test_five_thousand_tickers_make_ten_thousand_feeds_fast() -> None:
    """5,000 tickers expand to 10,000 uniquely named feeds well within a second."""
    tickers = [
        _ticker(f"T{i}", f"Company {i}", f"Company {i} Holdings", f"T{i}", f"{i:04d}.HK") for i in range(5000)
    ]
    t0 = time.perf_counter()
    feeds = per_ticker_feeds(tickers, catalogue=CATALOGUE)
    elapsed = time.perf_counter() - t0
    assert len(feeds) == 10_000 == len({f["name"] for f in feeds})
    assert elapsed < 1.0


def test_rewrite_base_keeps_path_and_query() -> None:
    """A base URL replaces scheme and host (a path prefix is kept); None leaves the URL alone."""
    url = "https://feeds.finance.yahoo.com/rss/2.0/headline?s=BABA&region=US&lang=en-US"
    assert (
        rewrite_base(url, "http://127.0.0.1:8080")
        == "http://127.0.0.1:8080/rss/2.0/headline?s=BABA&region=US&lang=en-US"
    )
    assert rewrite_base(url, "http://127.0.0.1:8080/yahoo/").startswith(
        "http://127.0.0.1:8080/yahoo/rss/2.0/"
    )
    assert rewrite_base(url, None) == url


def test_catalogue_and_per_ticker_feeds_on_loopback(httpserver: HTTPServer) -> None:
    """With URLs rewritten to a loopback server, the generated Yahoo, Google News and catalogue feeds are
    fetched and parsed as their fixtures (no internet)."""
    served = {
        "/rss/2.0/headline": ("yahoo_finance_BABA.xml", {"s": "BABA", "region": "US", "lang": "en-US"}),
        "/rss/search": ("google_news_alibaba.xml", {"q": "Alibaba when:2d", "hl": "en-US", "gl": "US", "ceid": "US:en"}),
        "/rss/92/feed": ("scmp_business.xml", None),
        "/feed": ("asiafinancial.xml", None),
    }  # fmt: skip
    for path, (name, query) in served.items():
        httpserver.expect_request(path, query_string=query).respond_with_data(
            (FEEDS / name).read_bytes(), content_type="application/rss+xml"
        )
    base = httpserver.url_for("/").rstrip("/")
    feeds = per_ticker_feeds([_ticker("BABA", "Alibaba")], catalogue=CATALOGUE, base_url=base)
    feeds += expand_sources(["scmp-business", "asiafinancial"], CATALOGUE, base_url=base)
    results = fetch_feeds_sync([FeedRequest(f["name"], f["url"]) for f in feeds], FetchSettings(timeout_s=5))
    counts = {}
    for r in results:
        assert r.error is None and r.body, (r.name, r.error)
        parsed = parse_feed(r.name, r.url, r.body, NOW)
        counts[r.name] = len(parsed.items)
    assert counts == {"yahoo:BABA": 8, "google-news:BABA": 8, "scmp-business": 6, "asiafinancial": 20}


# ---------------------------------------------------------------------------------------------- source quirks
def test_google_news_titles_lose_the_publisher_suffix() -> None:
    """Google News ' - Publisher' suffixes are stripped using <source>; entry 4's inner ' - ' survives."""
    items = _parse("google_news_alibaba.xml")
    titles = [i.title for i in items]
    assert titles[0] == "Alibaba Shares Jump 14% as China Tech Stocks Hit a Hot Streak"
    assert titles[3] == "Hang Seng - live updates: Alibaba leads Hong Kong tech surge"
    for t in titles:
        assert not t.endswith((" - Reuters", " - CNBC", " - Asia Financial", " - Nasdaq", " - TechNode"))


def test_google_news_links_are_opaque_and_never_scraped() -> None:
    """Every Google News link is a news.google.com redirect token and is never chosen for scraping."""
    for item in _parse("google_news_alibaba.xml"):
        assert urlsplit(item.url).hostname == "news.google.com"
        assert not scrapable(item.url, "asiafinancial")


def test_scmp_utm_parameters_leave_the_canonical_url() -> None:
    """SCMP links and permalink guids carry ?utm_source=rss_feed; the canonical URL (a dedup key) has none."""
    items = _parse("scmp_business.xml")
    assert all("utm_source=rss_feed" in i.url for i in items)
    assert all("utm_" not in i.canonical_url for i in items)
    assert all("utm_" not in k for i in items for k in item_keys(i) if k.startswith("url:"))


def test_nikkei_rdf_items_have_no_date() -> None:
    """Nikkei's RDF items parse with no publication time (the first-seen time stands in), never epoch/now."""
    items = _parse("nikkei_asia.rdf")
    assert len(items) == EXPECTED["parse"]["nikkei_asia.rdf"]["entries"]
    assert all(i.published_at is None for i in items)
    assert all(i.guid == i.url for i in items)


def test_wordpress_entities_are_decoded() -> None:
    """Asia Financial's WordPress entities (&#8217; &#038;) come out as characters in titles and summaries."""
    items = _parse("asiafinancial.xml")
    text = " ".join(i.title + " " + i.summary for i in items)
    assert "&#8217;" not in text and "&#038;" not in text and "&amp;" not in text
    assert any("’" in i.title for i in items) and any("&" in i.title for i in items)


def test_same_asia_financial_story_has_the_same_keys_in_every_feed() -> None:
    """Story 141502 in the RSS, Atom and Markets feeds shares its item keys, so it is one story."""
    guid = "https://www.asiafinancial.com/?p=141502"
    keys = []
    for feed, name in (("asiafinancial", "asiafinancial.xml"), ("asiafinancial-atom", "asiafinancial_atom.xml"),
                       ("asiafinancial-markets", "asiafinancial_markets.xml")):  # fmt: skip
        [story] = [i for i in _parse(name, feed, CATALOGUE.source(feed).url) if i.guid == guid]
        keys.append(set(item_keys(story)))
    assert keys[0] == keys[1] == keys[2]
    markets = {k for i in _parse("asiafinancial_markets.xml", "m") for k in item_keys(i)}
    main = {k for i in _parse("asiafinancial.xml", "a") for k in item_keys(i)}
    assert markets <= main  # polling both feeds stores 20 stories, not 26
