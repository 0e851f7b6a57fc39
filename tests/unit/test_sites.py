"""Site adapters (scrapers/sites): Asia Financial article and listing pages, the registry, the thin-text rule."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from moverwatch.detect import Detector
from moverwatch.errors import ConfigError
from moverwatch.models import Move, NewsItem
from moverwatch.watchlist import load_watchlist
from scrapers.sites import adapter_for, known_sites, needs_article, scrapable, should_scrape

FIXTURES = Path(__file__).parent.parent / "fixtures"
PAGES = FIXTURES / "pages"
EXPECTED: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
AF = adapter_for("asiafinancial")

# The pages/ rows of tests/fixtures/README.md (expected.json has no page section), one entry per fixture.
ARTICLES: dict[str, dict[str, Any]] = {
    "asiafinancial_article_alibaba.html": {
        "url": "https://www.asiafinancial.com/alibaba-shares-jump-14-as-china-tech-stocks-hit-a-hot-streak",
        "headline": "Alibaba Shares Jump 14% as China Tech Stocks Hit a Hot Streak",
        "published_at": datetime(2025, 2, 21, 9, 45, 12, tzinfo=UTC),
        "paragraphs": 8,
        "author": "Vivian Lau",
        "category": "Markets",
        "tags": 5,
        "caption": "An Alibaba Group logo at the company’s office in Beijing (Reuters).",
        "post_id": 141502,
        "body_has": [
            "jumped more than 14%",
            "US-listed shares rose 8%",
            "Lenovo surged more than 15%",
            "Xiaomi rose 5.2% to a record high",
            "Hang Seng Tech Index climbed 6.5%",
            "up more than 70% so far this year",
        ],
    },
    "asiafinancial_article_nio_plunge.html": {
        "url": "https://www.asiafinancial.com/nio-shares-plunge-17-after-surprise-1-2bn-share-sale",
        "headline": "NIO Shares Plunge 17% After Surprise $1.2bn Share Sale",
        "published_at": datetime(2025, 2, 21, 7, 40, 55, tzinfo=UTC),
        "paragraphs": 4,
        "author": "Rahul Mehta",
        "category": "Markets",
        "tags": 3,
        "caption": None,
        "post_id": 141480,
        "body_has": ["plunged as much as 17%", "closed down 15.6%"],
    },
    "asiafinancial_article_sk_hynix_no_jsonld.html": {
        "url": "https://www.asiafinancial.com/sk-hynix-soars-11-to-record-high-on-ai-memory-orders",
        "headline": "SK Hynix Soars 11% to Record High on AI Memory Orders",
        "published_at": None,
        "paragraphs": 3,
        "author": None,
        "category": "Markets",
        "tags": 4,
        "caption": "Memory chips on a circuit board (Reuters).",
        "post_id": 141488,
        "body_has": ["soared 11.4% in Seoul"],
    },
}


def _page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def _article(name: str) -> Any:
    return AF.article(_page(name), ARTICLES[name]["url"])


# ---------------------------------------------------------------------------------------------- articles
@pytest.mark.parametrize("name", sorted(ARTICLES))
def test_article_fields_match_the_readme_row(name: str) -> None:
    """Each article fixture yields the headline, exact time, paragraph count, author, category and tags its
    README row gives, with the canonical URL and the visible date (February 21, 2025)."""
    want, art = ARTICLES[name], _article(name)
    assert art.site == "asiafinancial"
    assert art.headline == want["headline"]
    assert art.canonical_url == want["url"]
    assert art.published_on == date(2025, 2, 21)
    assert art.published_at == want["published_at"]
    assert len(art.paragraphs) == want["paragraphs"]
    assert art.author == want["author"]
    assert art.category == want["category"]
    assert len(art.tags) == want["tags"]
    assert art.image_caption == want["caption"]
    assert art.post_id == want["post_id"]
    body = " ".join(art.paragraphs)
    for phrase in want["body_has"]:
        assert phrase in body


def test_exact_times_are_aware_utc() -> None:
    """Published and modified times from JSON-LD / meta are timezone-aware UTC datetimes."""
    art = _article("asiafinancial_article_alibaba.html")
    assert art.published_at is not None and art.published_at.tzinfo is not None
    assert art.published_at.utcoffset() == timedelta(0)
    assert art.modified_at == datetime(2025, 2, 21, 10, 42, 17, tzinfo=UTC)
    assert not art.date_only


def test_date_only_page_has_no_made_up_time() -> None:
    """A page without JSON-LD or article:published_time keeps only its calendar date, flagged low-precision."""
    art = _article("asiafinancial_article_sk_hynix_no_jsonld.html")
    assert art.published_at is None
    assert art.published_on == date(2025, 2, 21)
    assert art.date_only


def test_first_date_is_the_articles_not_a_related_posts() -> None:
    """The article date is the first tt-post-date of the column, not a related post's 'Feb 21' / 'Feb 20'."""
    soup = BeautifulSoup(_page("asiafinancial_article_alibaba.html"), "html.parser")
    dates = [s.get_text() for s in soup.select("div.col-md-8 span.tt-post-date")]
    assert dates[0] == "February 21, 2025" and dates[-1] != dates[0]  # the trap is real
    assert _article("asiafinancial_article_alibaba.html").published_on == date(2025, 2, 21)


def test_body_stops_at_also_see_and_drops_the_newsletter() -> None:
    """The naive `div.content p` gives 11 paragraphs; the adapter keeps the 8 article ones, the credit line
    apart, and nothing of the newsletter box, the ALSO SEE list or the sidebar."""
    soup = BeautifulSoup(_page("asiafinancial_article_alibaba.html"), "html.parser")
    assert len(soup.select("div.col-md-8 div.content p")) == 11
    assert len(soup.select("div.col-md-8 div.content > p")) == 10
    art = _article("asiafinancial_article_alibaba.html")
    body = " ".join(art.paragraphs)
    assert "AF Daily Briefing" not in body and "ALSO SEE" not in body
    assert "Tencent Gains 6%" not in body and "Shares up 300%" not in body
    assert art.credit == "– Reuters, with additional editing by Vivian Lau"


def test_inline_also_see_line_is_left_out_not_a_stop() -> None:
    """An 'ALSO SEE: <headline>' paragraph inside the body is dropped and the paragraphs after it are kept."""
    art = _article("asiafinancial_article_sk_hynix_no_jsonld.html")
    assert not any("ALSO SEE" in p for p in art.paragraphs)
    assert art.paragraphs[-1].startswith("SK Hynix is the main supplier")


def test_image_and_caption() -> None:
    """The featured image URL and caption are read; a page without `div.story-big-img` gives None for both."""
    art = _article("asiafinancial_article_alibaba.html")
    assert art.image_url == (
        "https://www.asiafinancial.com/wp-content/uploads/2025/02/Alibaba-logo-at-office-in-Beijing-Reuters.jpg"
    )
    nio = _article("asiafinancial_article_nio_plunge.html")
    assert nio.image_url is None and nio.image_caption is None


def test_standfirst_and_lead() -> None:
    """The standfirst (entities decoded) leads the text handed to the detector, then the first paragraphs."""
    art = _article("asiafinancial_article_alibaba.html")
    assert art.standfirst.startswith("The tech giant’s shares are up more than 70%")
    lead = art.lead(2)
    assert lead.startswith(art.standfirst + ". ")  # a sentence of its own
    assert art.paragraphs[1] in lead and art.paragraphs[2] not in lead


def test_jsonld_article_type_is_read() -> None:
    """A JSON-LD `@graph` whose article node is `Article` (not NewsArticle) still gives the exact time."""
    html = _page("asiafinancial_article_nio_plunge.html").replace(
        b'property="article:published_time"', b'property="x-removed"'
    )
    assert AF.article(html, "https://www.asiafinancial.com/x").published_at == datetime(
        2025, 2, 21, 7, 40, 55, tzinfo=UTC
    )


def test_a_page_that_is_not_an_article_gives_empty_fields() -> None:
    """An unrelated or empty page yields an Article of empty fields, never an exception."""
    for html in (b"", b"<html><body><p>hello</p></body></html>", b"<script type='application/ld+json'>{bad"):
        art = AF.article(html, "https://mirror.example/a")
        assert art.headline == "" and art.paragraphs == () and art.published_at is None


def test_scraped_lead_gives_the_detector_the_size() -> None:
    """The thin headline has no size; the scraped page's lead gives BABA's 14% (expected.json moves)."""
    detector = Detector(load_watchlist(FIXTURES / "corpus" / "watchlist.yaml"))
    thin = detector.detect("Alibaba shares surge as earnings beat", "")
    assert [(m.symbol, m.pct) for m in thin] == [("BABA", None)]
    assert needs_article("Alibaba shares surge as earnings beat", "", thin) == "no-size"
    moves = detector.detect(
        "Alibaba shares surge as earnings beat", _article("asiafinancial_article_alibaba.html").lead()
    )
    hk = next(m for m in EXPECTED["moves"]["asiafinancial:141502"] if m["ticker"] == "9988.HK")
    assert [(m.symbol, m.direction, m.pct) for m in moves if m.symbol == "BABA"] == [
        ("BABA", "up", hk["pct"])
    ]


# ---------------------------------------------------------------------------------------------- listing
def test_listing_gives_12_unique_urls_in_order() -> None:
    """The Markets listing yields 12 unique article URLs in page order, first the Alibaba story, with titles
    from `<small>`, post ids from the `post-ID` class and the yearless date label as shown."""
    entries = AF.listing(
        _page("asiafinancial_category_markets.html"), "https://www.asiafinancial.com/markets"
    )
    urls = [e.url for e in entries]
    assert len(urls) == 12 == len(set(urls))
    assert (
        urls[0]
        == "https://www.asiafinancial.com/alibaba-shares-jump-14-as-china-tech-stocks-hit-a-hot-streak"
    )
    assert entries[0].title == "Alibaba Shares Jump 14% as China Tech Stocks Hit a Hot Streak"
    assert entries[0].post_id == 141502 and entries[0].date_label == "Feb 21"
    assert all(e.post_id for e in entries) and all(e.title for e in entries)
    # Every listed story of the feed carries its post id in the feed's guid (?p=ID).
    assert {f"asiafinancial:{e.post_id}" for e in entries} <= set(EXPECTED["moves"])


def test_listing_selectors_are_scoped() -> None:
    """The page links 34 distinct asiafinancial.com URLs; none of the nav, slider or sidebar ones are listed."""
    html = _page("asiafinancial_category_markets.html")
    soup = BeautifulSoup(html, "html.parser")
    every = {
        str(a["href"]).split("#")[0]
        for a in soup.find_all("a", href=True)
        if "asiafinancial.com" in a["href"]
    }
    assert len(every) == 34  # the README's count: nav, slider, sidebar, tags and the 12 stories
    entries = AF.listing(html, "https://www.asiafinancial.com/markets")
    assert not any("/page/" in e.url or "/tag/" in e.url or "/author/" in e.url for e in entries)


def test_listing_resolves_relative_links_against_the_page() -> None:
    """Root-relative listing links resolve against the page URL, so a mirror's listing works the same."""
    html = (
        b'<div class="col-md-8"><div class="tt-post has-thumbnail type-6 post-7"><div class="tt-post-info">'
        b'<a class="tt-post-title c-h5" href="/a-story"><small>A story</small></a></div></div></div>'
    )
    [entry] = AF.listing(html, "http://127.0.0.1:8000/markets")
    assert entry.url == "http://127.0.0.1:8000/a-story" and entry.post_id == 7


# ---------------------------------------------------------------------------------------------- registry
def test_registry_knows_asiafinancial() -> None:
    """`adapter_for` returns the adapter registered under the feed's `site:` name."""
    assert "asiafinancial" in known_sites()
    assert adapter_for("asiafinancial").name == "asiafinancial"


def test_unknown_site_names_it_and_the_known_ones() -> None:
    """An unknown site is a ConfigError that names the site and lists the known adapters."""
    with pytest.raises(ConfigError) as err:
        adapter_for("asia-finance")
    assert "'asia-finance'" in str(err.value) and "asiafinancial" in str(err.value)


def test_site_key_picks_the_adapter_whatever_the_host() -> None:
    """The page served from a loopback mirror reads the same as from asiafinancial.com."""
    name = "asiafinancial_article_alibaba.html"
    mirror = AF.article(_page(name), "http://127.0.0.1:8765/alibaba")
    assert mirror.paragraphs == _article(name).paragraphs
    assert scrapable("http://127.0.0.1:8765/alibaba", "asiafinancial")


def test_google_news_links_are_never_scraped() -> None:
    """A news.google.com redirect link is not scrapable, even when the feed names an adapter."""
    link = "https://news.google.com/rss/articles/CBMiAU_yqLabc?oc=5"
    assert not scrapable(link, "asiafinancial")
    assert not scrapable("https://www.asiafinancial.com/x", None)
    assert not scrapable("https://www.asiafinancial.com/x", "no-such-site")
    assert not scrapable("javascript:alert(1)", "asiafinancial")


# ---------------------------------------------------------------------------------------------- thin text
def _item(title: str, summary: str, url: str = "https://www.asiafinancial.com/x") -> NewsItem:
    now = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)
    return NewsItem("af", url, url, url, title, summary, now, now)


def test_thin_text_rule() -> None:
    """Thin: a move without a size, or no text beyond the headline; a sized move with a summary is enough."""
    up = Move("BABA", "up", None)
    sized = Move("BABA", "up", 14.0)
    assert needs_article("Alibaba shares surge", "Earnings beat.", [up]) == "no-size"
    assert needs_article("Alibaba shares surge 14%", "", [sized]) == "no-summary"
    assert needs_article("Some headline", "   ", []) == "no-summary"
    assert needs_article("Alibaba jumps", "Alibaba jumps  Reuters", []) == "no-summary"  # Google News style
    assert needs_article("Alibaba jumps 14%", "Shares rose on earnings.", [sized]) is None
    assert needs_article("Markets quiet", "Nothing moved much today.", []) is None


def test_should_scrape_combines_link_and_text() -> None:
    """`should_scrape` gives the thin reason only for scrapable links of a feed with an adapter."""
    moves = [Move("BABA", "up", None)]
    assert should_scrape(_item("Alibaba shares surge", ""), "asiafinancial", moves) == "no-size"
    google = _item("Alibaba shares surge", "", "https://news.google.com/rss/articles/CBMi?oc=5")
    assert should_scrape(google, "asiafinancial", moves) is None
    assert should_scrape(_item("Alibaba shares surge", ""), None, moves) is None
