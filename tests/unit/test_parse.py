"""Feed bytes → NewsItems: the fixture matrix of fixtures/README.md (feeds/ and feeds/broken/) and the helpers."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from moverwatch.errors import BlockedFeedError, PermanentFeedError
from scrapers.parse import ParseResult, canonical_url, parse_feed, strip_html

FIXTURES = Path(__file__).parent.parent / "fixtures"
FEEDS = FIXTURES / "feeds"
BROKEN = FEEDS / "broken"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
NOW = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)  # the fixtures' "now" (fixtures/README.md)
AF_FEED = "https://www.asiafinancial.com/feed"
MARKETS_FEED = "https://www.asiafinancial.com/markets/feed"
REPO = Path(__file__).resolve().parent.parent.parent


def parse(relpath: str, url: str = MARKETS_FEED) -> ParseResult:
    return parse_feed(Path(relpath).stem, url, (FEEDS / relpath).read_bytes(), NOW, now=NOW)


def titles(result: ParseResult) -> list[str]:
    return [item.title for item in result.items]


# --------------------------------------------------------------------------------------- expected.json stats


@pytest.mark.parametrize("relpath", sorted(EXPECTED["parse"]))
def test_every_entry_is_kept_or_counted_as_skipped(relpath: str) -> None:
    """Each feed's entries (per expected.json) come out as items or are counted as skipped; none vanish."""
    stats = EXPECTED["parse"][relpath]
    result = parse(relpath)
    if result.error is None:
        assert result.version == stats["version"]
        assert len(result.items) + result.skipped == stats["entries"]
    else:
        assert result.items == ()
    for item in result.items:
        assert item.url.startswith(("http://", "https://"))
        assert item.title and item.guid and item.canonical_url
        assert item.published_at is None or item.published_at.tzinfo is not None
        assert item.fetched_at == NOW


# --------------------------------------------------------------------------------------- well-formed feeds


def test_asiafinancial_first_entry_is_the_alibaba_story() -> None:
    """The Asia Financial feed yields 20 items; the first has the expected title, ?p= guid and UTC date."""
    result = parse("asiafinancial.xml", AF_FEED)
    assert result.error is None and result.warnings == ()
    assert len(result.items) == EXPECTED["parse"]["asiafinancial.xml"]["entries"]
    first = result.items[0]
    assert first.title == "Alibaba Shares Jump 14% as China Tech Stocks Hit a Hot Streak"
    assert first.guid == "https://www.asiafinancial.com/?p=141502"
    assert first.published_at == datetime(2025, 2, 21, 9, 45, 12, tzinfo=UTC)
    assert (
        first.url
        == "https://www.asiafinancial.com/alibaba-shares-jump-14-as-china-tech-stocks-hit-a-hot-streak"
    )
    assert first.source == "asiafinancial"


def test_asiafinancial_entities_are_decoded_and_summary_is_plain_text() -> None:
    """WordPress entities become characters and the summary carries no HTML tags or entity references."""
    result = parse("asiafinancial.xml", AF_FEED)
    joined = " ".join(titles(result))
    assert "&#8217;" not in joined and "&#038;" not in joined
    first = result.items[0]
    assert "The tech giant’s shares" in first.summary  # the teaser, entity decoded
    assert "jumped more than 14%" in first.summary  # the full content:encoded text follows it
    for item in result.items:
        assert "<" not in item.summary and "&#" not in item.summary


def test_category_feed_guids_all_occur_in_the_main_feed() -> None:
    """The Markets category feed repeats main-feed stories under the same guids, so they dedupe."""
    main = {item.guid for item in parse("asiafinancial.xml", AF_FEED).items}
    markets = parse("asiafinancial_markets.xml").items
    assert len(markets) == EXPECTED["parse"]["asiafinancial_markets.xml"]["entries"]
    assert {item.guid for item in markets} <= main


def test_atom_ids_equal_rss_guids_and_published_wins_over_updated() -> None:
    """Atom entries share the RSS guids, and 141502's time is its published (not updated) time."""
    main = {item.guid for item in parse("asiafinancial.xml", AF_FEED).items}
    atom = parse("asiafinancial_atom.xml", "https://www.asiafinancial.com/feed/atom")
    assert atom.version == "atom10"
    assert {item.guid for item in atom.items} <= main
    story = next(item for item in atom.items if item.guid.endswith("?p=141502"))
    assert story.published_at == datetime(2025, 2, 21, 9, 45, 12, tzinfo=UTC)


def test_nikkei_entries_have_no_date_and_link_as_guid() -> None:
    """Nikkei RDF items carry no date: published_at is None (first-seen time), never epoch or now."""
    result = parse("nikkei_asia.rdf", "https://asia.nikkei.com/rss/feed/nar")
    assert len(result.items) == EXPECTED["parse"]["nikkei_asia.rdf"]["entries"]
    assert all(item.published_at is None for item in result.items)
    assert all(item.guid == item.url for item in result.items)
    assert not any(w for w in result.warnings if "date" in w)  # a missing date is normal, not a warning


def test_nikkei_double_escaped_ampersand_is_decoded() -> None:
    """A title double-escaped as `M&amp;A` reads `M&A`."""
    result = parse("nikkei_asia.rdf", "https://asia.nikkei.com/rss/feed/nar")
    assert any(t.startswith("Asia M&A boom") for t in titles(result))
    assert not any("&amp;" in t for t in titles(result))


def test_scmp_utm_parameters_are_stripped_from_the_canonical_url() -> None:
    """SCMP links carry ?utm_source=rss_feed; the canonical URL drops it, the raw URL keeps it."""
    result = parse("scmp_business.xml", "https://www.scmp.com/rss/92/feed")
    assert len(result.items) == EXPECTED["parse"]["scmp_business.xml"]["entries"]
    for item in result.items:
        assert "utm_" in item.url
        assert "utm_" not in item.canonical_url and "?" not in item.canonical_url
        # The permalink guid carries the same tag: the guid is the article, not the campaign.
        assert item.guid == item.canonical_url
    # +0800 dates are converted to UTC.
    assert all(
        item.published_at is not None and item.published_at.utcoffset() == timedelta(0)
        for item in result.items
    )


def test_syndicated_copy_with_utm_canonicalises_to_the_asia_financial_url() -> None:
    """Syndication item #2 is AF's own URL plus utm_*: its canonical URL equals the AF story's."""
    af = {item.canonical_url for item in parse("asiafinancial.xml", AF_FEED).items}
    synd = parse("asiamarketsdigest_syndication.xml", "https://www.asiamarketsdigest.example/feed")
    second = synd.items[1]
    assert "utm_" in second.url
    assert second.canonical_url in af
    assert synd.items[0].published_at == datetime(2025, 2, 21, 10, 20, 31, tzinfo=UTC)  # +0800 → UTC


def test_google_news_publisher_suffix_is_stripped() -> None:
    """Google News titles lose the " - Publisher" suffix, only the last one (entry 4 keeps "Hang Seng - ...")."""
    result = parse("google_news_alibaba.xml", "https://news.google.com/rss/search?q=Alibaba")
    assert len(result.items) == EXPECTED["parse"]["google_news_alibaba.xml"]["entries"]
    assert result.items[0].title == "Alibaba Shares Jump 14% as China Tech Stocks Hit a Hot Streak"
    assert result.items[3].title == "Hang Seng - live updates: Alibaba leads Hong Kong tech surge"
    for title in titles(result):
        assert not title.endswith((" - Reuters", " - CNBC", " - Nasdaq", " - Asia Financial"))
    # Google links are opaque redirect tokens: kept as they are.
    assert all(item.url.startswith("https://news.google.com/rss/articles/") for item in result.items)
    # The outlet comes from <source>, not from the link (which only Google can resolve).
    assert result.items[0].publisher == "Asia Financial"
    assert "Reuters" in {item.publisher for item in result.items}


def test_a_feed_without_source_elements_has_no_publisher() -> None:
    """A publisher's own feed names no other outlet: publisher stays empty."""
    assert {item.publisher for item in parse("asiafinancial.xml", AF_FEED).items} == {""}


def test_yahoo_tracking_source_parameter_is_dropped() -> None:
    """Yahoo's `?.tsrc=rss` is tracking; the canonical URL omits it and guids stay the feed's UUIDs."""
    result = parse("yahoo_finance_BABA.xml", "https://feeds.finance.yahoo.com/rss/2.0/headline?s=BABA")
    assert all(".tsrc" not in item.canonical_url for item in result.items)
    assert all(len(item.guid) == 36 for item in result.items)


# --------------------------------------------------------------------------------------- broken feeds matrix


def check_malformed_unclosed(r: ParseResult) -> None:
    # The loose parser recovers 4 entries; entry 2 is empty. Usable: items 1, 3, 4 (README: 3).
    assert r.error is None
    assert any("not well-formed" in w for w in r.warnings)
    assert len(r.items) == 3 and r.skipped == 1
    last = r.items[-1]
    assert last.title.startswith("NIO Shares Plunge 17%")
    assert last.guid == last.canonical_url  # no id: keyed on the link
    # README says entry 4 has no date, but its <pubDate> precedes the cut-off and feedparser reads it.


def check_encoding_gb2312(r: ParseResult) -> None:
    assert r.error is None
    assert r.items[0].title == "阿里巴巴港股大涨14% 创三年新高"
    text = " ".join(f"{i.title} {i.summary}" for i in r.items)
    assert "大涨14%" in text and "暴跌17%" in text


def check_encoding_big5(r: ParseResult) -> None:
    assert r.error is None
    assert r.items[0].title == "阿里巴巴股價急升14% 恆指連升六星期"


def check_encoding_windows1252(r: ParseResult) -> None:
    assert r.error is None
    assert r.items[0].title == "Alibaba’s “hot streak” – shares up 14% in Hong Kong"
    assert "€" in r.items[0].summary


def check_encoding_mislabeled_utf8(r: ParseResult) -> None:
    # CharacterEncodingOverride is a warning, not a failure, and the text still comes out right.
    assert r.error is None
    assert any("CharacterEncodingOverride" in w for w in r.warnings)
    assert r.items[0].title == "Alibaba’s “hot streak” – shares up 14% in Hong Kong"


def check_bom_and_leading_whitespace(r: ParseResult) -> None:
    assert r.error is None
    assert len(r.items) == 2


def check_html_instead_of_feed(r: ParseResult) -> None:
    assert isinstance(r.error, PermanentFeedError) and not isinstance(r.error, BlockedFeedError)
    assert "not a feed (HTML page)" in r.error.reason
    assert "https://www.asiafinancial.com/rss/finance.xml" in r.error.reason  # the discovered alternate
    assert r.items == ()


def check_cloudflare_challenge(r: ParseResult) -> None:
    assert isinstance(r.error, BlockedFeedError)
    assert "blocked by a bot challenge (Cloudflare)" in r.error.reason
    assert r.items == ()


def check_empty(r: ParseResult) -> None:
    assert isinstance(r.error, PermanentFeedError)
    assert "empty response (0 bytes)" in r.error.reason
    assert r.items == ()


def check_relative_links(r: ParseResult) -> None:
    assert r.error is None
    urls = [i.url for i in r.items]
    assert urls == [
        "https://www.asiafinancial.com/hang-seng-index-notches-sixth-straight-weekly-gain",
        "https://www.asiafinancial.com/markets/sk-hynix-soars-11-to-record-high-on-ai-memory-orders",
        "https://www.asiafinancial.com/nio-shares-plunge-17-after-surprise-1-2bn-share-sale",
        "https://www.asiafinancial.com/markets/feed?p=141474",
        "https://www.asiafinancial.com/tech/baidu-flat-after-results-beat-ad-revenue-declines",
    ]


def check_missing_fields(r: ParseResult) -> None:
    # Policy: usable = title (or one built from the summary) + http(s) link. C and F (no link) and G (title
    # only) are dropped; H re-uses C's guid and is counted as a duplicate, never a second alert.
    assert r.error is None
    assert [t.split(":")[0] for t in titles(r)] == ["A", "B", "D", "E"]
    a, b, d, e = r.items
    assert a.guid == a.canonical_url == "https://www.asiafinancial.com/a-no-guid"
    assert b.url == "https://www.asiafinancial.com/b-permalink-guid"
    assert d.published_at is None
    assert "12% jump" in e.title
    assert r.skipped == 4
    assert any("duplicate guid" in w and "900003" in w for w in r.warnings)


def check_billion_laughs(r: ParseResult) -> None:
    assert isinstance(r.error, PermanentFeedError)
    assert "XML entity declarations are not allowed (possible XML bomb)" in r.error.reason
    assert r.items == ()


def check_injection_titles(r: ParseResult) -> None:
    # Titles stay literal text (renderers escape them); javascript: links are refused, dropping the item.
    assert r.error is None
    assert len(r.items) == 7
    assert all(i.url.startswith(("https://", "http://")) for i in r.items)
    assert not any(i.guid == "inj-5" for i in r.items)
    assert any("javascript:" in w for w in r.warnings)
    assert r.items[0].title.startswith("<script>")
    assert "<script>" not in r.items[0].summary and "alert" not in r.items[0].summary
    for item in r.items:
        assert len(item.title) <= 300
        assert "\n" not in item.title
        assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in item.title)


ODD_DATE_0945 = datetime(2025, 2, 21, 9, 45, 12, tzinfo=UTC)
ODD_DATES: dict[str, datetime | None] = {
    **{f"{n:02d}": ODD_DATE_0945 for n in (1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 14)},
    "09": datetime(2025, 2, 21, 17, 45, 12, tzinfo=UTC),  # no zone: assumed UTC, with a warning
    "11": datetime(2025, 2, 21, 17, 45, 12, tzinfo=UTC),  # SQL style: assumed UTC, with a warning
    "12": datetime(2025, 2, 21, 9, 45, tzinfo=UTC),
    **{f"{n:02d}": None for n in (15, 16, 17, 18)},
}


def check_odd_dates(r: ParseResult) -> None:
    assert r.error is None
    got = {i.title[:2]: i.published_at for i in r.items}
    assert got == ODD_DATES
    assert sum("no time zone; assumed UTC" in w for w in r.warnings) == 2
    assert sum("implausible date" in w for w in r.warnings) == 2  # 2035 and 1970


def check_undefined_entities(r: ParseResult) -> None:
    assert r.error is None
    assert len(r.items) == 3
    assert r.items[0].title == "China’s tech rally — Alibaba up 14%…"  # NBSP became a plain space
    assert r.items[1].title.startswith("S&P ")
    assert not any("\xa0" in t for t in titles(r))


BROKEN_ROWS: dict[str, Callable[[ParseResult], None]] = {
    "malformed_unclosed.xml": check_malformed_unclosed,
    "encoding_gb2312.xml": check_encoding_gb2312,
    "encoding_big5.xml": check_encoding_big5,
    "encoding_windows1252.xml": check_encoding_windows1252,
    "encoding_mislabeled_utf8.xml": check_encoding_mislabeled_utf8,
    "bom_and_leading_whitespace.xml": check_bom_and_leading_whitespace,
    "html_instead_of_feed.html": check_html_instead_of_feed,
    "cloudflare_challenge.html": check_cloudflare_challenge,
    "empty.xml": check_empty,
    "relative_links.xml": check_relative_links,
    "missing_fields.xml": check_missing_fields,
    "billion_laughs.xml": check_billion_laughs,
    "injection_titles.xml": check_injection_titles,
    "odd_dates.xml": check_odd_dates,
    "undefined_entities.xml": check_undefined_entities,
}


def test_every_broken_fixture_has_a_row() -> None:
    """A new file in feeds/broken/ cannot go untested: the matrix covers every file there."""
    assert set(BROKEN_ROWS) == {p.name for p in BROKEN.iterdir()}


@pytest.mark.parametrize("name", sorted(BROKEN_ROWS))
def test_broken_feed_row(name: str) -> None:
    """Each broken fixture is handled as its fixtures/README.md row says, without raising."""
    BROKEN_ROWS[name](parse(f"broken/{name}"))


_BOMB_SCRIPT = """
import json, resource, sys
from datetime import UTC, datetime, timedelta
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from scrapers.parse import parse_feed
r = parse_feed("bomb", "https://www.asiafinancial.com/feed", open(sys.argv[1], "rb").read(),
               datetime(2025, 2, 21, 11, 30, tzinfo=UTC))
print(json.dumps({"error": type(r.error).__name__, "reason": r.error and r.error.reason,
                  "titles": [i.title for i in r.items]}))
"""


def test_xml_bomb_is_rejected_under_a_memory_and_time_limit() -> None:
    """The billion-laughs feed is refused without expansion in a 1 GB / 10 s sandbox; nothing titled &lol9;."""
    proc = subprocess.run(
        [sys.executable, "-c", _BOMB_SCRIPT, str(BROKEN / "billion_laughs.xml")],
        capture_output=True,
        text=True,
        timeout=10,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["error"] == "PermanentFeedError"
    assert "possible XML bomb" in out["reason"]
    assert "&lol9;" not in out["titles"] and out["titles"] == []


def test_entity_declaration_in_utf16_document_is_refused() -> None:
    """The bomb check also sees a DOCTYPE in a UTF-16 document, where byte patterns would miss it."""
    body = (BROKEN / "billion_laughs.xml").read_text(encoding="utf-8").replace('encoding="UTF-8"', "")
    result = parse_feed("bomb16", AF_FEED, body.encode("utf-16"), NOW)
    assert result.error is not None and "possible XML bomb" in result.error.reason


# --------------------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "body",
    [b"/etc/passwd", b"https://example.com/feed", b"\x00\xff\xfe garbage", b"<rss", b"{}", b"   \n"],
)
def test_odd_bodies_never_raise_and_are_never_read_as_paths(body: bytes) -> None:
    """Any bytes give a result, not an exception; a body that looks like a path or URL is not opened."""
    result = parse_feed("odd", AF_FEED, body, NOW)
    assert result.items == ()
    assert result.error is not None


def test_now_defaults_to_fetched_at_for_the_future_date_check() -> None:
    """Without `now`, a date more than a day after the fetch time is refused."""
    body = (BROKEN / "odd_dates.xml").read_bytes()
    result = parse_feed("dates", AF_FEED, body, NOW)
    assert result.items[15].published_at is None  # 2035


# --------------------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://WWW.AsiaFinancial.com/?p=141502", "https://www.asiafinancial.com/?p=141502"),
        ("https://www.scmp.com/a?utm_source=rss_feed&utm_medium=x", "https://www.scmp.com/a"),
        ("https://x.example/a?id=7&fbclid=abc&gclid=def#comments", "https://x.example/a?id=7"),
        ("https://x.example:443/a/../b", "https://x.example/b"),
        ("https://finance.yahoo.com/news/x-1.html?.tsrc=rss", "https://finance.yahoo.com/news/x-1.html"),
        ("", ""),
    ],
)
def test_canonical_url_drops_tracking_and_keeps_meaning(raw: str, expected: str) -> None:
    """Tracking parameters, fragment, host case and default port go; meaningful query parameters stay."""
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>Alibaba&#8217;s <b>14%</b>&nbsp;jump</p><p>Next</p>", "Alibaba’s 14% jump Next"),
        ("<script>alert(1)</script>Text <style>p{}</style>only", "Text only"),
        ("a &lt; b &amp; c", "a < b & c"),
        ("plain\n\n  text\u200b", "plain text"),
        ("", ""),
    ],
)
def test_strip_html_gives_plain_text(raw: str, expected: str) -> None:
    """Tags and invisible content are removed, entities decoded, NBSP and whitespace normalised."""
    assert strip_html(raw) == expected


def _one_item_feed(pub_date: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Story</title><link>https://www.asiafinancial.com/s</link>"
        f"<pubDate>{pub_date}</pubDate></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize(
    ("pub_date", "expected_utc"),
    [
        ("Fri, 21 Feb 2025 17:45:12 HKT", "2025-02-21T09:45:12"),
        ("Fri, 21 Feb 2025 17:45:12 SGT", "2025-02-21T09:45:12"),
        ("Fri, 21 Feb 2025 18:45:12 JST", "2025-02-21T09:45:12"),
        ("Fri, 21 Feb 2025 18:45:12 KST", "2025-02-21T09:45:12"),
        ("Fri, 21 Feb 2025 15:15:12 IST", "2025-02-21T09:45:12"),
        ("Fri, 21 Feb 2025 04:45:12 EST", "2025-02-21T09:45:12"),
        ("2025-02-21T09:45:12Z", "2025-02-21T09:45:12"),
    ],
)
def test_named_time_zones_convert_to_utc(pub_date: str, expected_utc: str) -> None:
    """Asian and US zone abbreviations are applied (feedparser alone reads HKT/SGT/... as UTC)."""
    result = parse_feed("z", AF_FEED, _one_item_feed(pub_date), NOW)
    assert result.items[0].published_at == datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)
    assert result.warnings == ()


def test_public_doctype_without_entities_is_accepted() -> None:
    """An RSS 0.91 feed with its public DOCTYPE (no internal subset) is not mistaken for an XML bomb."""
    body = _one_item_feed("Fri, 21 Feb 2025 09:45:12 +0000").replace(
        b"<rss ",
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss ',
    )
    result = parse_feed("rss091", AF_FEED, body, NOW)
    assert result.error is None and len(result.items) == 1


def test_html_typed_titles_lose_their_markup() -> None:
    """An Atom title declared type="html" is reduced to its text; entities are decoded."""
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry><id>urn:1</id>'
        b'<title type="html">&lt;b&gt;Alibaba&lt;/b&gt; jumps 14% &amp;amp; more</title>'
        b'<link href="https://www.asiafinancial.com/x"/><updated>2025-02-21T09:45:12Z</updated></entry></feed>'
    )
    result = parse_feed("atom", AF_FEED, body, NOW)
    assert result.items[0].title == "Alibaba jumps 14% & more"
