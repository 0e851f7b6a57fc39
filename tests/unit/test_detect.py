"""Tests for moverwatch.detect: the big-move rules of LABELING.md §3-§8, explain output and the JSONL stream."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from moverwatch.detect import Detector, stream_jsonl
from moverwatch.watchlist import load_watchlist, parse_watchlist

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"

SEED_TITLE = "Alibaba Shares Jump 14% as China Tech Stocks Hit a Hot Streak"
SEED_SUMMARY = (
    "Hong Kong-listed shares of Alibaba jumped more than 14% on Friday. Lenovo, which advanced over 15% to near a "
    "ten-year high, and Xiaomi, which also gained 5.2% to hit a record high, were among the other standouts. "
    "The Hang Seng Tech Index jumped up 6.5% on Friday. The tech giant's shares are up more than 70% so far "
    "this year."
)


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector(load_watchlist(CORPUS / "watchlist.yaml"))


def moves(det: Detector, title: str, summary: str = "") -> set[tuple[str, str, float | None]]:
    return {(m.symbol, m.direction, m.pct) for m in det.detect(title, summary)}


# -- §3 attribution ----------------------------------------------------------------------------------------
def test_seed_article_reports_every_friday_move(det: Detector) -> None:
    """The reference article: four Friday moves; the 70% year-to-date figure is not one of them."""
    assert [(m.symbol, m.direction, m.pct) for m in det.detect(SEED_TITLE, SEED_SUMMARY)] == [
        ("BABA", "up", 14.0),
        ("0992.HK", "up", 15.0),
        ("1810.HK", "up", 5.2),
        ("HSTECH", "up", 6.5),
    ]


def test_explain_shows_aliases_decisions_and_ytd_rejection(det: Detector) -> None:
    """explain must say what was found and why a figure was dropped, so a desk can trust the alert."""
    text = det.explain(SEED_TITLE, SEED_SUMMARY)
    assert "alias 'Alibaba'" in text and "-> BABA" in text
    assert "70%" in text and "year-to-date" in text and "REJECTED" in text
    assert "Decision BABA: up 14%" in text


def test_explain_names_the_reason_for_a_rejected_candidate(det: Detector) -> None:
    """Every rejected candidate carries a reason: threshold, hypothetical, modifier, non-price..."""
    assert "below threshold" in det.explain("Tencent sinks 4% as Prosus sells")
    assert "hypothetical" in det.explain("Nvidia could soar another 50%, says bull")
    assert "modifier" in det.explain("Nvidia-backed CoreWeave soars 33%")
    assert "not a price" in det.explain("Alibaba cloud revenue jumps 26%")
    assert "object of" in det.explain("Coinbase shares rocket 10% on S&P 500 inclusion")


def test_subject_of_move_verb_gets_the_move(det: Detector) -> None:
    """§3.1: the security (or company in a headline) as subject of a price verb is the mover."""
    assert moves(det, "Shares in Tencent rose 7% after approvals") == {("0700.HK", "up", 7.0)}
    assert moves(det, "Intel's stock closed 8% lower") == {("INTC", "down", 8.0)}


def test_causative_object_gets_the_move(det: Detector) -> None:
    """§3.1: 'sends Hang Seng down 2.3%', 'lifting Hang Seng 2.4%' move the object."""
    assert moves(det, "South China Sea tensions send Hang Seng down 2.3%") == {("HSI", "down", 2.3)}
    assert moves(det, "Stimulus hopes lifting Hang Seng 2.4%") == {("HSI", "up", 2.4)}


def test_relative_and_absolute_clauses_attribute_to_their_subject(det: Detector) -> None:
    """§3.1: 'X, which advanced 15%' and 'with X up 7%' state X's own move."""
    assert moves(det, "Tech rally", "Lenovo, which advanced over 15%, led names higher.") == {
        ("0992.HK", "up", 15.0)
    }
    assert moves(det, "Chips rise with Tokyo Electron up 7%") == {("8035.T", "up", 7.0)}


def test_signed_list_items_each_get_their_number(det: Detector) -> None:
    """§3.1 lists: '+7.2%' is up, '(-8.2%)' is down, each for the name before it."""
    assert moves(det, "Hong Kong movers: Kuaishou +7.2%, Baidu -5.1%, NetEase +1.4%") == {
        ("1024.HK", "up", 7.2),
        ("BIDU", "down", 5.1),
    }
    assert moves(det, "Top losers: Meituan (-8.2%), JD.com (-6.1%)") == {
        ("3690.HK", "down", 8.2),
        ("JD", "down", 6.1),
    }


def test_coordinated_subjects_share_the_move(det: Detector) -> None:
    """§3.2: 'Alibaba and JD.com shares jump more than 5%' gives both +5."""
    assert moves(det, "Alibaba and JD.com shares jump more than 5% on stimulus") == {
        ("BABA", "up", 5.0),
        ("JD", "up", 5.0),
    }


def test_coordination_with_unwatched_names_still_shares_the_move(det: Detector) -> None:
    """§3.2: unwatched names in the list (Honda, Mastercard) do not break the coordination."""
    assert moves(det, "Toyota, Honda, Nissan shares tumble as tariffs bite") == {
        ("7203.T", "down", None),
        ("7201.T", "down", None),
    }
    assert moves(det, "Visa and Mastercard drop 5% on fee cap") == {("V", "down", 5.0)}


def test_respectively_maps_sizes_in_order(det: Detector) -> None:
    """§3.2: paired lists map in order, each then compared with its own threshold."""
    assert moves(det, "Nvidia, AMD and Broadcom fall 5%, 7% and 4%, respectively") == {
        ("NVDA", "down", 5.0),
        ("AMD", "down", 7.0),
    }
    assert moves(det, "Tencent, Alibaba lead with 4% and 6% advances") == {("BABA", "up", 6.0)}


def test_respectively_counts_unwatched_names_in_the_list(det: Detector) -> None:
    """§3.2: 'Toyota and Honda rose 3% and 6%' - the 6% is Honda's, so Toyota (3% < 4%) is not big."""
    assert moves(det, "Toyota and Honda rose 3% and 6%") == set()
    assert moves(det, "Honda and Toyota rose 3% and 6%") == {("7203.T", "up", 6.0)}


def test_title_case_coordination_is_recognised(det: Detector) -> None:
    """Title Case 'And' coordinates like 'and'; the capitalised verb is not taken for a company name."""
    assert moves(det, "Visa And Mastercard Drop 5%") == {("V", "down", 5.0)}
    assert moves(det, "Nikkei Jumps As SoftBank And Advantest Surge 11% And 8%") == {
        ("N225", "up", None),
        ("9984.T", "up", 11.0),
        ("6857.T", "up", 8.0),
    }


def test_ellipsis_repeats_the_verb(det: Detector) -> None:
    """§3.2: 'Samsung Electronics rises 6%, SK Hynix 9%' - the second name takes the elided verb."""
    assert moves(det, "Samsung Electronics rises 6%, SK Hynix 9%") == {
        ("005930.KS", "up", 6.0),
        ("000660.KS", "up", 9.0),
    }


def test_ellipsis_with_unwatched_name_ends_the_predicate(det: Detector) -> None:
    """'Shell falls 1%, BP 6%': the 6% is BP's, not a later Shell statement."""
    assert moves(det, "Shell falls 1%, BP 6% after oil slumps") == set()


def test_enumerated_group_members_get_the_group_move(det: Detector) -> None:
    """§3.2: members named with 'including' / 'such as' share the group's move."""
    assert moves(det, "Tech stocks including Alibaba and Tencent surge") == {
        ("BABA", "up", None),
        ("0700.HK", "up", None),
    }


def test_group_alone_moves_no_ticker(det: Detector) -> None:
    """§3.2: 'Chinese tech stocks' is not a watched ticker."""
    assert moves(det, "Chinese tech stocks plunge 8% on regulation") == set()


def test_leading_gives_no_size(det: Detector) -> None:
    """§3.2: 'Alibaba, Meituan lead losses' gives those tickers no move of their own."""
    assert moves(det, "Hang Seng Tech Index tumbles 4% as Alibaba, Meituan lead losses") == {
        ("HSTECH", "down", 4.0)
    }


def test_anaphor_refers_to_nearest_preceding_stock(det: Detector) -> None:
    """§3.3: 'The streamer's shares', bare 'Shares', 'its ADRs' refer back to the company."""
    assert moves(det, "Netflix beats on revenue", "The streamer's shares jumped 9% after hours.") == {
        ("NFLX", "up", 9.0)
    }
    assert moves(det, "Target Misses Sales Target; Shares Tumble 8%") == {("TGT", "down", 8.0)}
    assert moves(det, "Alibaba rises 3% in Hong Kong as its ADRs jump 6% overnight") == {("BABA", "up", 6.0)}


def test_index_anaphor_refers_to_nearest_index(det: Detector) -> None:
    """§3.3: 'the index' / 'the gauge' refer to the index, not to a stock mentioned in between."""
    assert moves(
        det, "Nikkei hits record as chips rally", "The index rose 2.4%, with Tokyo Electron up 7%."
    ) == {
        ("N225", "up", 2.4),
        ("8035.T", "up", 7.0),
    }


def test_bare_shares_after_causative_refers_back(det: Detector) -> None:
    """§3.3: 'pile into Nvidia, sending shares up 8%' - the shares are Nvidia's."""
    assert moves(det, "Investors pile into Nvidia, sending shares up 8%") == {("NVDA", "up", 8.0)}


def test_modifier_is_not_the_mover(det: Detector) -> None:
    """§3.4: 'Nvidia-backed CoreWeave soars' moves CoreWeave, not Nvidia."""
    assert moves(det, "Nvidia-backed CoreWeave soars 33% on Meta deal") == set()
    assert moves(det, "Google parent Alphabet climbs 5% to record") == {("GOOGL", "up", 5.0)}


def test_possessed_non_security_is_not_the_stock(det: Detector) -> None:
    """§3.4: "Tesla's China sales" or "Apple's iPhone shipments" are not the share price."""
    assert moves(det, "Tesla's China-made EV sales slump 20% in October") == set()
    assert moves(det, "Apple's iPhone shipments in China fall 9%") == set()


# -- §4 which moves count ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "title",
    [
        "Reliance Jio subscribers jump 10% ahead of IPO",
        "Toyota to cut November output by 10%, Nikkei reports",
        "Xiaomi raises HK$42.5 billion in share placement at 6.6% discount",
        "Toyota, Honda shares dip as Trump sets 25% auto tariffs",
        "Visa raises quarterly dividend 13%",
    ],
)
def test_non_price_quantities_are_not_moves(det: Detector, title: str) -> None:
    """§4: revenue, subscribers, output, discounts, tariffs, dividends are not the share price."""
    assert moves(det, title) == set()


@pytest.mark.parametrize(
    "title",
    [
        "Musk says Tesla stock could jump 1,000% on robots",
        "Hang Seng set to open 2% higher after Wall Street rally",
        "Samsung Electronics poised for best week since 2020",
        "Kospi seen rising 20% next year, Goldman says",
        "Is Palantir Stock About to Crash?",
        "Jefferies sees 40% upside for Meituan",
    ],
)
def test_hypothetical_move_is_not_realized(det: Detector, title: str) -> None:
    """§4: forecasts, 'set to', questions about a possible move and upside are not moves."""
    assert moves(det, title) == set()


def test_forecaster_verb_before_subject_is_hypothetical(det: Detector) -> None:
    """§4: 'Citi sees Alibaba rising 20%' is an opinion about a move, not a move."""
    assert moves(det, "Citi sees Alibaba rising 20%") == set()
    assert moves(det, "If Nvidia falls 20%, the market follows") == set()


def test_question_presupposing_a_move_counts(det: Detector) -> None:
    """§4: 'Why Tesla Stock Plummeted Today' presupposes a completed move."""
    assert moves(det, "Why Tesla Stock Plummeted Today") == {("TSLA", "down", None)}


def test_negated_move_is_not_reported(det: Detector) -> None:
    """§4: 'little changed', 'flat', 'fails to rally' are no moves."""
    assert moves(det, "Baidu spins off chip unit; shares unchanged") == set()
    assert moves(det, "Meta unveils glasses", "Its stock was little changed in afternoon trading.") == set()


def test_derivative_is_not_the_index(det: Detector) -> None:
    """§4: futures/options/ETFs on T are not T."""
    assert moves(det, "S&P 500 futures jump 2% after truce") == set()
    assert moves(det, "Options traders brace for 9% swing in Nvidia") == set()


def test_level_is_not_a_move(det: Detector) -> None:
    """§4: market-value levels and round-number crossings are levels, not moves."""
    assert moves(det, "Apple market value tops $4 trillion for first time") == set()
    assert moves(det, "Kospi tops 4,000 for first time") == set()
    assert moves(det, "Nvidia market value jumps to $5 trillion") == set()


# -- §5 time window ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "title",
    [
        "Nvidia shares have more than doubled this year",
        "Netflix shares have fallen 25% since July peak",
        "Tesla stock is down 40% from its December peak",
        "Alibaba's Hong Kong shares are up 90% over the past 12 months",
        "Nikkei extends losing streak to seven sessions, down 9% over the period",
        "Alibaba posts 15% monthly gain",
    ],
)
def test_ytd_move_is_not_eligible(det: Detector, title: str) -> None:
    """W2: cumulative and historical moves (this year, since, from a peak, > 5 sessions) are not eligible."""
    assert moves(det, title) == set()


def test_sentence_initial_time_adverbial_scopes_the_clause(det: Detector) -> None:
    """W2 written before the subject ('So far this year, X has gained 70%') still makes the move cumulative."""
    assert moves(det, "Alibaba rallies", "So far this year, Alibaba has gained 70%.") == set()
    assert moves(det, "Alibaba jumps", "After a 20% slide this year, Alibaba jumped 8% on Friday.") == {
        ("BABA", "up", 8.0)
    }


def test_short_multi_day_window_is_eligible(det: Detector) -> None:
    """W1: two days or this week are within the one-week window."""
    assert moves(det, "Meituan shares down 5% over two days") == {("3690.HK", "down", 5.0)}
    assert moves(det, "Xiaomi stock slides 16% this week, worst since 2022") == {("1810.HK", "down", 16.0)}


def test_since_inside_comparison_keeps_move_current(det: Detector) -> None:
    """W3: 'worst day since 2008' describes today's move."""
    assert moves(det, "SK Hynix suffers worst day since 2008") == {("000660.KS", "down", None)}
    assert moves(det, "Kospi sinks 3.9% in worst day since April") == {("KOSPI", "down", 3.9)}


def test_w2_marker_in_a_participle_clause_does_not_cancel_the_earlier_move(det: Detector) -> None:
    """W2 applies only to the statement it qualifies: ', cutting its year-to-date decline' is not today's 8%."""
    assert moves(det, "Meituan rallies 8%, cutting its year-to-date decline to 25%") == {
        ("3690.HK", "up", 8.0)
    }
    assert moves(det, "Nikkei rises 2.5%, extending its winning streak to seven sessions") == {
        ("N225", "up", 2.5)
    }
    # Without a quantity of its own, the clause still describes the same move ("putting it in a bear market").
    assert moves(det, "Nikkei has dropped 21%, putting it in a bear market") == set()


def test_w2_marker_premodifying_a_move_noun_belongs_to_that_noun(det: Detector) -> None:
    """W2: 'this year's 40% slide' is cumulative, the 6% before it is not; and vice versa."""
    assert moves(det, "JD.com climbs 6% to narrow this year's 40% slide") == {("JD", "up", 6.0)}
    assert moves(det, "Baidu falls 3%, extending its year-to-date loss to 30%") == set()
    assert moves(det, "Baidu falls 3%, extending its year-to-date loss of 30%") == set()


def test_period_after_a_superlative_is_a_comparison(det: Detector) -> None:
    """W3: 'its biggest gain this year' / 'biggest one-day drop in 2025' describe today's move."""
    assert moves(det, "Nvidia surges 9%, its biggest gain this year") == {("NVDA", "up", 9.0)}
    assert moves(det, "Nikkei posts biggest one-day drop in 2025") == {("N225", "down", None)}


def test_explicitly_dated_past_move_is_not_eligible(det: Detector) -> None:
    """W2: a move dated with a year is historical; v2: a date without a year is a recent session (W1)."""
    assert moves(det, "Nikkei plunged 12% on Aug. 5, 2024 as carry trades unwound") == set()
    assert moves(det, "Sony shares slumped 9% on 5 August 2023") == set()
    assert moves(det, "Nikkei plunged 12% in March 2020") == set()
    assert moves(det, "S&P 500 lost 9% in the 2008 crash") == set()
    assert moves(det, "Sony shares slumped 9% on 5 August") == {("6758.T", "down", 9.0)}
    assert moves(det, "Nikkei plunged 12% on Aug. 5 as carry trades unwound") == {("N225", "down", 12.0)}
    assert moves(det, "Nikkei closes 4% lower, its worst day since Oct. 10") == {("N225", "down", 4.0)}


# -- §6 size, threshold, strong words --------------------------------------------------------------------------
def test_qualifiers_are_ignored(det: Detector) -> None:
    """§6.1: 'nearly 5%' is 5, and 5 meets an inclusive 5% threshold."""
    assert moves(det, "Alibaba drops nearly 5% as delisting fears resurface") == {("BABA", "down", 5.0)}


def test_percent_spellings_are_sizes(det: Detector) -> None:
    """§6.1: 'per cent', 'percent', 'pct', unicode minus all give a size."""
    assert moves(det, "JD.com shares jump 10 per cent") == {("JD", "up", 10.0)}
    assert moves(det, "Tencent \u22126.2% after fine") == {("0700.HK", "down", 6.2)}


def test_multiples_are_sizes(det: Detector) -> None:
    """§6.1: double = 100, triple = 200, halve = 50 down."""
    assert moves(det, "Kuaishou shares more than double in Hong Kong debut") == {("1024.HK", "up", 100.0)}
    assert moves(det, "Tencent halves in value") == {("0700.HK", "down", 50.0)}


def test_points_are_not_a_size(det: Detector) -> None:
    """§6.1: points decide nothing by themselves; 'or 2.9%' is the size."""
    assert moves(det, "Hang Seng jumps 600 points on stimulus") == {("HSI", "up", None)}
    assert moves(det, "Hang Seng Index rises 400 points") == set()
    assert moves(det, "Hang Seng drops 700 points, or 2.9%") == {("HSI", "down", 2.9)}


def test_threshold_is_per_ticker_and_inclusive(det: Detector) -> None:
    """§6.2: NIO needs 8%; Palantir 7% exactly is big."""
    assert moves(det, "NIO ADRs fall 7.9% after offering") == set()
    assert moves(det, "Palantir jumps 7% after Army contract") == {("PLTR", "up", 7.0)}


def test_custom_threshold_from_inline_watchlist() -> None:
    """Nothing is hard-coded: the threshold comes from the watchlist the detector is given."""
    wl = parse_watchlist({"default_threshold_pct": 10, "tickers": [{"symbol": "ZZ", "names": ["Zedco"]}]})
    det = Detector(wl)
    assert det.detect("Zedco jumps 9%") == []
    assert [(m.symbol, m.pct) for m in det.detect("Zedco jumps 10%")] == [("ZZ", 10.0)]


def test_strong_word_without_size_is_big(det: Detector) -> None:
    """§6.3: a strong word alone makes the move big, pct null."""
    assert moves(det, "Tesla shares tank after Musk unveils party") == {("TSLA", "down", None)}


def test_mild_word_without_size_is_not_big(det: Detector) -> None:
    """§6.3: mild words never make a move big without a size."""
    assert moves(det, "Tencent shares edge up as WeChat agent rolls out") == set()


def test_strong_word_does_not_rescue_small_size(det: Detector) -> None:
    """§6.3/§8: a stated size below threshold wins over a strong word, even one in the title."""
    assert moves(det, "Kospi soars 1.5% as chips rebound") == set()
    assert moves(det, "Tesla shares tumble after miss", "The stock fell 3.5% in early trading.") == set()


def test_milestone_needs_an_arrival_verb(det: Detector) -> None:
    """§6.4: 'hits record high' is a move; 'at lowest since 1990s' is a level."""
    assert moves(det, "Apple Hits All-Time High Ahead of Launch") == {("AAPL", "up", None)}
    assert moves(det, "Intel shares at lowest since 1990s") == set()
    assert moves(det, "Xiaomi shares surge 8% on record orders") == {("1810.HK", "up", 8.0)}


def test_causative_object_reaching_a_milestone_is_an_arrival(det: Detector) -> None:
    """§3.1 + §6.4: 'sends Nikkei to a record high' is the index arriving at the milestone (strong)."""
    assert moves(det, "Weak yen pushes Nikkei to a record high") == {("N225", "up", None)}
    assert moves(det, "Tariff fears drag Hang Seng to lowest since 2022") == {("HSI", "down", None)}
    assert moves(det, "Investors send Nikkei to the brink") == set()


def test_hypothetical_causative_is_not_realized(det: Detector) -> None:
    """§4: 'could send Hang Seng up 5%' and 'may push Nikkei to a record' are not realized."""
    assert moves(det, "Stimulus could send Hang Seng up 5%") == set()
    assert moves(det, "Rate cut may push Nikkei to a record high") == set()


def test_record_one_session_move_is_strong(det: Detector) -> None:
    """§6.3: 'record one-day drop' is the biggest one-session move ever; 'record loss' is not a price."""
    assert moves(det, "Nikkei suffers record one-day drop") == {("N225", "down", None)}
    assert moves(det, "Kospi logs its record single-day gain") == {("KOSPI", "up", None)}
    assert moves(det, "Intel posts record loss") == set()
    assert moves(det, "Infosys posts record single-day gain in orders") == set()


def test_limit_moves_are_strong(det: Detector) -> None:
    """§6.3: limit up/down and upper/lower circuit are strong moves."""
    assert moves(det, "BYD's Shenzhen-listed shares hit limit down") == {("1211.HK", "down", None)}
    assert moves(det, "Adani Enterprises hits lower circuit") == {("ADANIENT.NS", "down", None)}


def test_market_value_change_is_strong_without_pct(det: Detector) -> None:
    """§6.5: adding or shedding a stated market value is a strong move, pct null."""
    assert moves(det, "Nvidia Sheds $200 Billion in Market Value") == {("NVDA", "down", None)}
    assert moves(det, "Gaming curbs wipe $80 billion off Tencent, NetEase market value") == {
        ("0700.HK", "down", None),
        ("NTES", "down", None),
    }


# -- §7 which number ---------------------------------------------------------------------------------------
def test_first_size_at_or_above_threshold_is_reported(det: Detector) -> None:
    """§7: 'rises as much as 7% before paring gains to close up 2%' reports 7."""
    assert moves(det, "Nvidia rises as much as 7% before paring gains to close up 2%") == {
        ("NVDA", "up", 7.0)
    }
    assert moves(det, "Xiaomi rises 6% on Friday, capping a 15% weekly gain") == {("1810.HK", "up", 6.0)}


def test_pared_or_reversed_sized_move_is_read_in_order(det: Detector) -> None:
    """§7: 'pares an early 9% rally' states a 9% move (the noun gives direction); 'pares gains' is mild."""
    assert moves(det, "Nvidia pares an early 9% rally to finish 2% up") == {("NVDA", "up", 9.0)}
    assert moves(det, "Tesla reverses a 6% early drop to close up 1%") == {("TSLA", "down", 6.0)}
    assert moves(det, "AMD pares gains after upbeat forecast") == set()


def test_size_decides_before_milestone(det: Detector) -> None:
    """§8: 'closes at record high, up 0.4%' is not big for an index with a 2% threshold."""
    assert moves(det, "S&P 500 closes at record high, up 0.4%") == set()


def test_one_move_per_symbol_in_order_of_first_mention(det: Detector) -> None:
    """§1: at most one move per symbol, listed in order of first mention."""
    got = det.detect("Baidu soars 12%, Alibaba gains 6%", "Baidu shares jumped 12% and Alibaba rose 6%.")
    assert [m.symbol for m in got] == ["BIDU", "BABA"]


# -- robustness --------------------------------------------------------------------------------------------
def test_hostile_text_does_not_crash(det: Detector) -> None:
    """Decoded entities, NBSP, curly quotes, CJK and empty strings must never raise."""
    for title in [
        "",
        "   ",
        "阿里巴巴股价大涨 14%",
        "\u201cAlibaba\u201d\u00a0jumps 9%",
        "%%% 5% +-",
        "Alibaba " * 500,
    ]:
        det.detect(title, title)
    assert moves(det, "\u201cAlibaba\u201d shares jump\u00a09%") == {("BABA", "up", 9.0)}


def test_dev_corpus_f1_regression_guard(det: Detector) -> None:
    """The labeled dev corpus keeps micro F1 >= 0.97 over (id, symbol, direction)."""
    tp = fp = fn = 0
    for line in (CORPUS / "headlines-dev.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        got = {(m.symbol, m.direction) for m in det.detect(item["title"], item.get("summary") or "")}
        want = {(e["symbol"], e["direction"]) for e in item["expected"]}
        tp += len(got & want)
        fp += len(got - want)
        fn += len(want - got)
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.97, f"dev F1 {f1:.3f}"


# -- stream_jsonl contract -----------------------------------------------------------------------------------
def test_stream_writes_one_line_per_input_in_order(det: Detector) -> None:
    """DESIGN 'Detection (contract)': one output line per input line, same order, same ids."""
    lines = [
        json.dumps({"id": "a", "title": "Alibaba jumps 14%", "summary": ""}),
        json.dumps({"id": 2, "title": "Nothing here", "summary": None}),
    ]
    out = io.StringIO()
    assert stream_jsonl(det, lines, out) == 0
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert rows == [
        {"id": "a", "moves": [{"symbol": "BABA", "direction": "up", "pct": 14.0}]},
        {"id": 2, "moves": []},
    ]


def test_stream_reports_malformed_line_and_continues(det: Detector) -> None:
    """A bad line yields an error object with its line number instead of stopping the stream."""
    lines = [
        "{not json",
        json.dumps(["a list"]),
        json.dumps({"id": "x"}),
        json.dumps({"id": "ok", "title": "Hi"}),
    ]
    out = io.StringIO()
    assert stream_jsonl(det, lines, out) == 3
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == [None, None, None, "ok"]
    assert rows[0]["error"].startswith("line 1: ") and rows[2]["error"].startswith("line 3: ")


def test_stream_flushes_after_each_line(det: Detector) -> None:
    """Streaming: each result is flushed before the next input is read (a pipe consumer sees it at once)."""

    class Recorder(io.StringIO):
        flushed: list[int] = []

        def flush(self) -> None:
            self.flushed.append(len(self.getvalue().splitlines()))

    def gen() -> object:
        yield json.dumps({"id": 1, "title": "a"})
        assert Recorder.flushed == [1]
        yield json.dumps({"id": 2, "title": "b"})

    out = Recorder()
    stream_jsonl(det, gen(), out)  # type: ignore[arg-type]
    assert Recorder.flushed == [1, 2]
