"""The expat fast path for plain RSS 2.0 gives exactly feedparser's result, and hands anything else over."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from moverwatch.models import ParseResult
from scrapers.parse import _fast_entries, parse_feed

FIXTURES = Path(__file__).parent.parent / "fixtures"
FEEDS = sorted(p for p in (FIXTURES / "feeds").rglob("*") if p.is_file())
BENCH_POLL = Path(__file__).resolve().parent.parent.parent / "bench" / "poll.py"
NOW = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)  # the fixtures' "now" (fixtures/README.md)
URL = "https://www.asiafinancial.com/markets/feed"


def both(body: bytes, url: str = URL, now: datetime = NOW) -> tuple[ParseResult, ParseResult]:
    return (
        parse_feed("f", url, body, now, now=now, fast_path=False),
        parse_feed("f", url, body, now, now=now),
    )


def assert_same(ref: ParseResult, fast: ParseResult) -> None:
    assert len(fast.items) == len(ref.items)
    for a, b in zip(ref.items, fast.items, strict=True):
        for name in a.__dataclass_fields__:
            assert getattr(b, name) == getattr(a, name), name
    assert (fast.version, fast.warnings, fast.skipped) == (ref.version, ref.warnings, ref.skipped)
    assert str(fast.error) == str(ref.error) and type(fast.error) is type(ref.error)


@pytest.mark.parametrize("path", FEEDS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_feeds_equal_feedparser(path: Path) -> None:
    """Every fixture feed gives the same items, field by field, and the same warnings on both paths."""
    assert_same(*both(path.read_bytes()))


def test_fast_path_taken_on_plain_rss() -> None:
    """The WordPress-style fixtures take the fast path (else the equality above proves nothing)."""
    taken = {p.name for p in FEEDS if _fast_entries(p.read_bytes()) is not None}
    assert {"asiafinancial.xml", "asiafinancial_markets.xml", "yahoo_finance_BABA.xml"} <= taken
    assert "nikkei_asia.rdf" not in taken and "asiafinancial_atom.xml" not in taken


def _bench_poll() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_poll", BENCH_POLL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_poll"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_farm_feeds_equal_feedparser() -> None:
    """Generated benchmark-farm feeds (bench/poll.py) take the fast path and equal feedparser's items."""
    farm = _bench_poll().Farm(n_feeds=4, n_items=50, hosts=["127.0.0.1"], ports=[8000], seed=3, gzip=False)
    now = datetime.now(UTC)
    for body in farm.bodies:
        assert _fast_entries(body) is not None
        ref, fast = both(body, "http://127.0.0.1:8000/f", now)
        assert len(ref.items) == 50
        assert_same(ref, fast)


ITEM = "<item>{}</item>"
CASES = {
    "guid before link": "<guid>https://e.com/g</guid><title>A</title><link>https://e.com/l</link>",
    "permalink guid only": "<title>A</title><guid>https://e.com/g</guid>",
    "non-permalink guid only": '<title>A</title><guid isPermaLink="false">https://e.com/g</guid>',
    "odd permalink case": '<title>A</title><guid isPermaLink="True">https://e.com/g</guid>',
    "content only": "<title>A</title><link>/r</link><content:encoded><![CDATA[<p>Up 5%</p>]]></content:encoded>",
    "content before description": "<title>A</title><link>/r</link><content:encoded>x</content:encoded>"
    "<description>d</description>",
    "html title": "<title>A &amp;amp; B &lt;b&gt;x&lt;/b&gt;</title><link>https://e.com/?a=1&amp;b=2</link>",
    "entity in link": "<title>A</title><link>https://e.com/?a=1&amp;copy=2</link>",
    "empty link": "<title>A</title><link></link><guid>https://e.com/g</guid>",
    "no title": "<link>https://e.com/a</link><description>Shares rose 5%. More.</description>",
    "whitespace and cp1252": "<title>  Caf\u00c3\u00a9 \u0093q\u0094 </title><link> https://e.com/a </link>",
    "title attribute": '<title type="html">A</title><link>https://e.com/a</link>',
    "nested markup": "<title>A <b>B</b></title><link>https://e.com/a</link>",
    "repeated title": "<title>A</title><title>B</title><link>https://e.com/a</link>",
    "dc date": "<title>A</title><link>https://e.com/a</link><dc:date>2025-02-21T09:00:00Z</dc:date>",
    "bad date": "<title>A</title><link>https://e.com/a</link><pubDate>Feb 21, 2025 09:45 GMT</pubDate>",
    "xml base": '<title xml:base="https://o.com/">A</title><link>x</link>',
    "source": '<title>A - Pub</title><link>https://e.com/a</link><source url="https://p.com">Pub</source>',
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_edge_cases_equal_feedparser(case: str) -> None:
    """Field order, guid/link rules, content vs description, title guesses and oddities match feedparser."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<channel><title>T</title><link>https://e.com/</link>"
        + ITEM.format(CASES[case] + "<pubDate>Fri, 21 Feb 2025 09:00:00 +0800</pubDate>")
        + "</channel></rss>"
    ).encode()
    assert_same(*both(body))


def test_text_since_blanks_only_old_summaries() -> None:
    """Items published before ``text_since`` keep everything but their summary; younger ones are untouched."""
    body = (FIXTURES / "feeds" / "asiafinancial.xml").read_bytes()
    full = parse_feed("f", URL, body, NOW, now=NOW)
    cut = sorted(i.published_at or NOW for i in full.items)[len(full.items) // 2]
    part = parse_feed("f", URL, body, NOW, now=NOW, text_since=cut)
    assert [replace(i, summary="") for i in part.items] == [replace(i, summary="") for i in full.items]
    for a, b in zip(full.items, part.items, strict=True):
        assert b.summary == (a.summary if (a.published_at or NOW) >= cut else "")
    assert any(not b.summary for b in part.items) and any(b.summary for b in part.items)
