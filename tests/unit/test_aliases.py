"""Tests for moverwatch.detect.aliases: the one-pass alias matcher and rules M1-M5 of LABELING.md §2.2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from moverwatch.detect.aliases import AliasMatcher, normalize_text
from moverwatch.watchlist import load_watchlist, parse_watchlist

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"


@pytest.fixture(scope="module")
def sample() -> AliasMatcher:
    return AliasMatcher(load_watchlist(CORPUS / "watchlist.yaml"))


def _symbols(matcher: AliasMatcher, text: str) -> list[str]:
    text = normalize_text(text)
    return [matcher.tickers[m.ticker].symbol for m in matcher.find(text)]


def _matcher(*tickers: dict[str, Any]) -> AliasMatcher:
    return AliasMatcher(parse_watchlist({"tickers": list(tickers)}))


def test_whole_word_rejects_alias_inside_longer_word(sample: AliasMatcher) -> None:
    """M1: 'Applebee's' or 'metaverse' must not mention Apple or Meta."""
    assert _symbols(sample, "Applebee's expands; metaverse tokens rally; Targets missed") == []


def test_whole_word_accepts_punctuation_neighbours(sample: AliasMatcher) -> None:
    """M1: possessives, cashtags, hyphens and exchange codes are still whole-word mentions."""
    assert _symbols(sample, "Apple's supplier, $AAPL, (NASDAQ: BIDU), 9988.HK and Apple-branded") == [
        "AAPL",
        "AAPL",
        "BIDU",
        "BABA",
        "AAPL",
    ]


def test_boundary_checked_only_at_alphanumeric_alias_end() -> None:
    """M1: an exclude ending in ':' still covers 'NASDAQ:NVDA' although a letter follows the colon."""
    m = _matcher(
        {"symbol": "IXIC", "names": ["Nasdaq"], "exclude": ["Nasdaq:"]}, {"symbol": "NVDA", "names": ["NVDA"]}
    )
    assert _symbols(m, "NASDAQ:NVDA rises") == ["NVDA"]


def test_case_sensitive_alias_ignores_common_noun(sample: AliasMatcher) -> None:
    """M2: 'apple' the fruit and 'Coin'/'Tel' in other casing are not the case-sensitive tickers."""
    assert _symbols(sample, "apple prices fall; Coin collectors meet in Tel Aviv; Li Ka-shing") == []
    assert _symbols(sample, "Apple and COIN and TEL and LI") == ["AAPL", "COIN", "8035.T", "LI"]


def test_case_insensitive_alias_matches_any_case(sample: AliasMatcher) -> None:
    """M2: ordinary tickers match whatever the case, as headlines use Title Case and ALL CAPS."""
    assert _symbols(sample, "ALIBABA and alibaba and Alibaba") == ["BABA", "BABA", "BABA"]


def test_space_in_alias_matches_any_whitespace_run(sample: AliasMatcher) -> None:
    """§2.2: a space inside an alias matches one or more whitespace characters (NBSP, newlines)."""
    assert _symbols(sample, "Hang\u00a0 Seng\nTech Index jumps") == ["HSTECH"]


def test_exclude_phrase_cancels_mention_inside_it(sample: AliasMatcher) -> None:
    """M3: 'Sales Target' is excluded while the company 'Target' in the same headline still counts."""
    assert _symbols(sample, "Target Misses Sales Target; Shares Tumble 8%") == ["TGT"]


def test_exclude_is_case_insensitive(sample: AliasMatcher) -> None:
    """M3: excludes match case-insensitively so 'SHELL SHOCK' in caps is still excluded."""
    assert _symbols(sample, "SHELL SHOCK hits small caps") == []
    assert _symbols(sample, "Big Apple vacancies; Amazon rainforest; South China Sea") == []


def test_exclude_applies_only_to_its_own_ticker() -> None:
    """M3: an exclude belongs to one ticker; another ticker's alias inside that phrase still matches."""
    m = _matcher(
        {"symbol": "A", "names": ["Hang Seng"], "exclude": ["Hang Seng Bank"]},
        {"symbol": "B", "names": ["Bank"]},
    )
    assert _symbols(m, "Hang Seng Bank falls") == ["B"]


def test_longest_match_wins_across_tickers(sample: AliasMatcher) -> None:
    """M4: 'Hang Seng Tech Index' is HSTECH only, 'S&P BSE Sensex' is SENSEX, 'JD.com' one JD mention."""
    assert _symbols(sample, "Hang Seng Tech Index") == ["HSTECH"]
    assert _symbols(sample, "S&P BSE Sensex") == ["SENSEX"]
    assert _symbols(sample, "JD.com shares") == ["JD"]


def test_overlap_tie_keeps_leftmost() -> None:
    """M4: two equally long overlapping aliases keep the leftmost one."""
    m = _matcher({"symbol": "AB", "names": ["alpha beta"]}, {"symbol": "BG", "names": ["beta gamma"]})
    assert _symbols(m, "alpha beta gamma") == ["AB"]


def test_only_listed_aliases_mention(sample: AliasMatcher) -> None:
    """M5: unlisted names ('Adani group', 'Mitsubishi Motors', bare '700') do not mention a ticker."""
    assert _symbols(sample, "Adani group, Mitsubishi Motors and 700 others") == []


def test_spans_point_into_normalised_text(sample: AliasMatcher) -> None:
    """Spans index the normalised text so the grammar can read around a mention."""
    text = normalize_text("Shares  of\u00a0Alibaba jumped")
    (m,) = sample.find(text)
    assert text[m.start : m.end] == "Alibaba"


def test_normalize_maps_typography() -> None:
    """Curly quotes, unicode minus and NBSP become ASCII so one grammar covers every source."""
    assert normalize_text("Tencent\u2019s shares \u22126.2%\u00a0") == "Tencent's shares -6.2%"


def test_cjk_text_does_not_crash(sample: AliasMatcher) -> None:
    """Non-Latin text is scanned without error; a Latin alias separated by spaces still matches."""
    assert _symbols(sample, "阿里巴巴 Alibaba 股价大涨") == ["BABA"]


def test_many_aliases_share_one_automaton() -> None:
    """The matcher scales to thousands of tickers: one automaton, not a loop over tickers."""
    tickers = [{"symbol": f"T{i}", "names": [f"Company{i}", f"{1000 + i}.HK"]} for i in range(5000)]
    m = AliasMatcher(parse_watchlist({"tickers": tickers}))
    assert _symbols(m, "Company4999 and 1001.HK rise") == ["T4999", "T1"]
