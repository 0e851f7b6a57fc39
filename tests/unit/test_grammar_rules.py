"""LABELING v2 rules end to end: each rule with several phrasings of our own and a negative case each.

Sentences here are written for these tests (not copied from any corpus item); the watchlist is the sample.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moverwatch.detect import Detector
from moverwatch.watchlist import load_watchlist

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"
Moves = set[tuple[str, str, float | None]]


@pytest.fixture(scope="module")
def det() -> Detector:
    return Detector(load_watchlist(CORPUS / "watchlist.yaml"))


def moves(det: Detector, title: str, summary: str = "") -> Moves:
    return {(m.symbol, m.direction, m.pct) for m in det.detect(title, summary)}


def check(det: Detector, cases: list[tuple[str, str, Moves]]) -> None:
    failures = []
    for title, summary, want in cases:
        got = moves(det, title, summary)
        if got != want:
            failures.append(f"{title!r} / {summary!r}: got {got}, want {want}")
    assert not failures, "\n".join(failures)


# -- §3.1 brackets ----------------------------------------------------------------------------------------
def test_bracketed_codes_after_a_name_belong_to_it(det: Detector) -> None:
    """§3.1: exchange codes, OTC symbols or a descriptor in brackets stand between the name and its verb."""
    check(det, [
        ("Sony Group Corp (NYSE: SONY, TYO: 6758) shares slid 6%", "", {("6758.T", "down", 6.0)}),
        ("Tencent Holdings Ltd (OTC: TCEHY, HK: 0700) stock jumps 8.5%", "", {("0700.HK", "up", 8.5)}),
        ("Shares of Samsung Electronics <005930.KS> dropped 7%", "", {("005930.KS", "down", 7.0)}),
        ("Toyota Motor Corp <7203.T> fell 4.5% in Tokyo", "", {("7203.T", "down", 4.5)}),
        ("Nissan Motor Co (the carmaker) was trading 9% lower", "", {("7201.T", "down", 9.0)}),
        ("Advantest [6857.T] surges 11% on AI orders", "", {("6857.T", "up", 11.0)}),
    ])  # fmt: skip


def test_bracketed_codes_inside_a_list(det: Detector) -> None:
    """§3.1/§3.2: ``A (AAA), B (BBB) and C (CCC) rose`` - every conjunct takes the move."""
    check(det, [
        ("Nio (NIO), XPeng (XPEV) and Li Auto (LI) rallied more than 9%", "",
         {("NIO", "up", 9.0), ("XPEV", "up", 9.0), ("LI", "up", 9.0)}),
        ("Baidu (BIDU) and JD.com (JD) tumble 6% in New York", "", {("BIDU", "down", 6.0), ("JD", "down", 6.0)}),
        ("Alibaba (9988.HK), Tencent (0700.HK) fall 5% and 7%, respectively", "",
         {("BABA", "down", 5.0), ("0700.HK", "down", 7.0)}),
    ])  # fmt: skip


def test_bracket_holding_a_size_is_a_list_entry(det: Detector) -> None:
    """A bracket with a percentage is the size of a list entry, not an insertion (negative case)."""
    check(det, [
        ("Top losers: Meituan (-8.2%), JD.com (-6.1%)", "", {("3690.HK", "down", 8.2), ("JD", "down", 6.1)}),
        ("Tencent (0700.HK) edges up 1%", "", set()),
    ])  # fmt: skip


# -- §3.3 anaphora forms and blocking ---------------------------------------------------------------------
def test_new_anaphor_forms_refer_to_the_nearest_stock(det: Detector) -> None:
    """§3.3: ``its share price``, ``sent its shares tumbling``, ``saw its stock sink``, venue-listed forms."""
    check(det, [
        ("Nissan warns on profit", "Its share price fell 9% in Tokyo.", {("7201.T", "down", 9.0)}),
        ("Tesla recalls cars", "The recall sent its shares tumbling 8% before the bell.", {("TSLA", "down", 8.0)}),
        ("Boeing halts deliveries", "The news sent its shares sharply lower.", set()),
        ("TSMC cuts outlook", "The world's largest contract chipmaker saw its stock sink 9%.", {("TSM", "down", 9.0)}),
        ("Xiaomi unveils car", "The smartphone maker saw its shares soar.", {("1810.HK", "up", None)}),
        ("Alibaba beats estimates", "Alibaba's Hong Kong-listed shares rose 7%.", {("BABA", "up", 7.0)}),
        ("Alibaba beats estimates", "Alibaba's New York-listed ADRs climbed 6.5% overnight.", {("BABA", "up", 6.5)}),
        ("Toyota raises forecast", "The Tokyo-listed stock ended 6% higher.", {("7203.T", "up", 6.0)}),
        ("Kuaishou debuts", "The newly listed shares doubled on their first day.", {("1024.HK", "up", 100.0)}),
        ("Sony profit jumps", "Stock in the electronics group rose 5.5%.", {("6758.T", "up", 5.5)}),
        ("Micron guidance", "Its stock price dropped 3%.", set()),
    ])  # fmt: skip


def test_excluded_sister_company_blocks_the_anaphor(det: Detector) -> None:
    """§3.3 blocking: a sister company named between the mention and the anaphor is the nearer antecedent."""
    check(det, [
        ("Alibaba results due", "Separately, Alibaba Health said its shares jumped 12%.", set()),
        ("Toyota recall widens", "Toyota Industries said its shares fell 8%.", set()),
        ("Samsung earnings", "Samsung SDI, the battery unit, saw its shares sink 10%.", set()),
        ("Hang Seng steady", "Hang Seng Bank shares fell 7%. The stock hit a low.", set()),
        # no blocker: the anaphor refers back to the watched name
        ("Alibaba results due", "Alibaba said its shares jumped 12%.", {("BABA", "up", 12.0)}),
        # an exclude phrase that is not a company does not block ("Sales Target", a source)
        ("Target Misses Sales Target; Shares Tumble 8%", "", {("TGT", "down", 8.0)}),
    ])  # fmt: skip


def test_qualified_name_is_not_an_antecedent(det: Detector) -> None:
    """§3.4 + §3.3: ``a supplier to Apple`` / ``Apple supplier X`` - a following anaphor is not Apple's."""
    check(det, [
        ("Foxconn rival", "Pegatron, a supplier to Apple, said its shares jumped 8%.", set()),
        ("Chip news", "Arm, a partner of Nvidia, saw its stock surge 12%.", set()),
        ("EV news", "Tesla rival Rivian reported results; its shares fell 9%.", set()),
        ("Chip news", "Nvidia-backed CoreWeave said its shares soared.", set()),
        ("Apple news", "Apple said its shares rose 6%.", {("AAPL", "up", 6.0)}),
    ])  # fmt: skip


def test_complement_of_supplier_rival_partner_does_not_take_the_move(det: Detector) -> None:
    """§3.4: a watched name as the complement of ``supplier to``, ``rival of``, ``partner of``."""
    check(det, [
        ("Hon Hai, the biggest supplier to Apple, jumps 8%", "", {("2317.TW", "up", 8.0)}),
        ("Rival of Tesla, Rivian, soars 15%", "", set()),
        ("Partner of Nvidia Arm surges 12%", "", set()),
        ("Key Apple supplier Luxshare sinks 9%", "", set()),
        ("Apple supplier Foxconn sinks 9%", "", {("2317.TW", "down", 9.0)}),
    ])  # fmt: skip


def test_named_index_is_not_an_index_anaphor(det: Detector) -> None:
    """§3.3: ``the Growth Index``, ``the Kosdaq index`` are other indexes; ``the Tokyo benchmark`` is one."""
    check(det, [
        ("Nikkei slides", "The Growth Index fell 4%.", set()),
        ("Kospi slips 0.5%", "The Kosdaq index tumbled 3%.", set()),
        ("Nikkei slides", "The Tokyo benchmark lost 3.2% by the close.", {("N225", "down", 3.2)}),
        ("Hang Seng rebounds", "The Hong Kong gauge jumped 2.5%.", {("HSI", "up", 2.5)}),
    ])  # fmt: skip


# -- §6.1 sizes ---------------------------------------------------------------------------------------------
def test_noun_forms_carry_the_size(det: Detector) -> None:
    """§6.1: ``a plunge of almost 15%``, ``a 12% slump``, ``a drop of 6.1%``, ``a 40% gain``."""
    check(det, [
        ("Meituan suffers a plunge of almost 15% on price war", "", {("3690.HK", "down", 15.0)}),
        ("Nio stock posts a 12% slump after delivery miss", "", {("NIO", "down", 12.0)}),
        ("Baidu saw a drop of 6.1% in Hong Kong", "", {("BIDU", "down", 6.1)}),
        ("Palantir notches a 40% gain in its debut week", "", {("PLTR", "up", 40.0)}),
        ("Intel records a decline of 2%", "", set()),
    ])  # fmt: skip


def test_participles_carry_the_size(det: Detector) -> None:
    """§6.1: ``shedding 11 percent of its value``, ``sliding by 6.1%``, ``adding 7%``."""
    check(det, [
        ("Tesla stock extends losses, shedding 11 percent of its value", "", {("TSLA", "down", 11.0)}),
        ("Nvidia tumbles, sliding by 6.1% in late trade", "", {("NVDA", "down", 6.1)}),
        ("Sony closed higher, adding 7% on the day", "", {("6758.T", "up", 7.0)}),
        ("Microsoft ends lower, shedding 1.1%", "", set()),
    ])  # fmt: skip


def test_numbers_in_words_pc_and_ranges(det: Detector) -> None:
    """§6.1: ``eight percent`` -> 8, ``twenty-five per cent`` -> 25, ``4.3pc``, ``6-7%`` / ``6 to 7 percent`` -> 6."""
    check(det, [
        ("Boeing falls eight percent after crash", "", {("BA", "down", 8.0)}),
        ("Apple shares rose more than four per cent", "", {("AAPL", "up", 4.0)}),
        ("Coinbase soars twenty-five percent", "", {("COIN", "up", 25.0)}),
        ("Lenovo jumps twelve per cent on AI PCs", "", {("0992.HK", "up", 12.0)}),
        ("Shell shares drop 4.3pc as oil slides", "", {("SHEL", "down", 4.3)}),
        ("Infosys sinks 9 pc on guidance cut", "", {("INFY", "down", 9.0)}),
        ("Sony rises 6-7% in early trade", "", {("6758.T", "up", 6.0)}),
        ("Netflix gains 6 to 7 percent after hours", "", {("NFLX", "up", 6.0)}),
        ("Nvidia dips two percent", "", set()),
        ("Tencent slips 3-4%", "", set()),
    ])  # fmt: skip


def test_time_or_place_phrase_between_verb_and_size(det: Detector) -> None:
    """§3.1: ``finished Tuesday's session down 12%``, ``ended the morning in Tokyo 8% higher``."""
    check(det, [
        ("Advantest finished Tuesday's session down 12%", "", {("6857.T", "down", 12.0)}),
        ("SoftBank ended the morning in Tokyo 8% higher", "", {("9984.T", "up", 8.0)}),
        ("Meituan traded at the day's lows, down 11%", "", {("3690.HK", "down", 11.0)}),
        ("Nissan closed the week 7% lower", "", {("7201.T", "down", 7.0)}),
        ("Baidu ended Friday's session in New York up 9.5%", "", {("BIDU", "up", 9.5)}),
        ("Toyota finished Tuesday's session up 1.2%", "", set()),
    ])  # fmt: skip


# -- §6.3 strong phrases, §6.5 market value -----------------------------------------------------------------
def test_superlative_one_session_moves_are_strong(det: Detector) -> None:
    """§6.3: ``biggest one-day rise``, ``largest single-day drop``, ``worst day since``, value-loss forms."""
    check(det, [
        ("Alibaba posts biggest one-day rise since 2022", "", {("BABA", "up", None)}),
        ("Tencent logs its biggest one-day rise", "", {("0700.HK", "up", None)}),
        ("Nvidia suffers largest single-day drop on record", "", {("NVDA", "down", None)}),
        ("Nvidia suffers biggest market capitalisation drop in history", "", {("NVDA", "down", None)}),
        ("Meta notches best week since 2023", "", {("META", "up", None)}),
        ("Intel posts the largest two-day value loss in its history", "", {("INTC", "down", None)}),
        ("Nvidia has biggest quarterly revenue rise", "", set()),
    ])  # fmt: skip


def test_market_value_change_forms(det: Detector) -> None:
    """§6.5: market capitalisation drops, ``$N billion erased from its value``, ``Xiaomi's $60 billion rally``."""
    check(det, [
        ("Nvidia's market capitalisation drops by $300 billion", "", {("NVDA", "down", None)}),
        ("Tesla sees $90 billion erased from its value", "", {("TSLA", "down", None)}),
        ("Apple has $120 billion wiped off its market value", "", {("AAPL", "down", None)}),
        ("Meta gets $70 billion added to its market value", "", {("META", "up", None)}),
        ("Xiaomi's $60 billion rally shows no sign of stopping", "", {("1810.HK", "up", None)}),
        ("Samsung's $40 billion selloff deepens", "", {("005930.KS", "down", None)}),
        ("Toyota posts $10 billion loss on writedowns", "", set()),
        ("Apple market value tops $4 trillion", "", set()),
    ])  # fmt: skip


def test_new_strong_words(det: Detector) -> None:
    """§6.3 v2: crumble, implode, explode, balloon are strong; ``fell sharply`` stays mild."""
    check(det, [
        ("Coinbase shares crumble after hack", "", {("COIN", "down", None)}),
        ("Palantir stock explodes higher on contract", "", {("PLTR", "up", None)}),
        ("Block implodes after earnings", "", {("XYZ", "down", None)}),
        ("Netflix fell sharply after subscriber miss", "", set()),
    ])  # fmt: skip


# -- §3.2 coordination with an unwatched conjunct ---------------------------------------------------------
def test_coordination_with_unwatched_conjunct_moves_the_watched_one(det: Detector) -> None:
    """§3.2: ``Shares of A and its units soared`` moves A; ``A and its Jaguar unit jumped``."""
    check(det, [
        ("Shares of SoftBank and its units soared", "", {("9984.T", "up", None)}),
        ("Shares of Reliance Industries and its Jio unit jumped 6%", "", {("RELIANCE.NS", "up", 6.0)}),
        ("Tencent and its music arm tumble 7%", "", {("0700.HK", "down", 7.0)}),
        ("Alibaba and its affiliates rose 1%", "", set()),
    ])  # fmt: skip


# -- §5 scope of cancelling words, v2 windows ---------------------------------------------------------------
def test_trailing_set_for_about_a_streak_does_not_cancel_the_move(det: Detector) -> None:
    """§5: ``climbs 9%, set for a fifth straight weekly gain`` - the realized 9% stands."""
    check(det, [
        ("Nikkei climbs more than 9%, set for a fifth straight weekly gain", "", {("N225", "up", 9.0)}),
        ("Sony jumps 8%, on track for its best week in a year", "", {("6758.T", "up", 8.0)}),
        ("Baidu rallies 7% and is poised for a third weekly advance", "", {("BIDU", "up", 7.0)}),
        ("Kospi set for 3% weekly gain", "", set()),
    ])  # fmt: skip


def test_weekday_yesterday_and_dates_without_year_are_eligible(det: Detector) -> None:
    """§5 W1 v2: ``yesterday``, ``last Friday``, ``on March 3``, ``since Monday``; a year makes it history."""
    check(det, [
        ("Boeing fell 8% yesterday", "", {("BA", "down", 8.0)}),
        ("Nissan dropped 7% last Friday", "", {("7201.T", "down", 7.0)}),
        ("Meituan plunged 12% on March 3 after results", "", {("3690.HK", "down", 12.0)}),
        ("Nio is up 9% since Monday", "", {("NIO", "up", 9.0)}),
        ("Nio is up 9% since last Tuesday", "", {("NIO", "up", 9.0)}),
        ("Meituan plunged 12% on March 3, 2023", "", set()),
        ("Nio is up 30% since its IPO", "", set()),
    ])  # fmt: skip


def test_week_scale_milestones(det: Detector) -> None:
    """§6.4 v2: ``a fresh low in more than two years``, ``a peak not seen in 18 months`` with an arrival verb."""
    check(det, [
        ("Intel hits a fresh low in more than two years", "", {("INTC", "down", None)}),
        ("Kospi rises to a peak not seen in 18 months", "", {("KOSPI", "up", None)}),
        ("Sony reaches its highest in five years", "", {("6758.T", "up", None)}),
        ("Intel trades near a low not seen in two years", "", set()),
    ])  # fmt: skip


def test_descriptor_subject_and_relative_anaphors(det: Detector) -> None:
    """§3.3: a clause-initial descriptor subject (``The iPhone maker rose 15%``), ``whose shares``, ``its
    stock price``, ``the company's share price``, ``watched shares plunge``."""
    check(det, [
        ("Apple unveils phone", "The iPhone maker rose 6% in New York.", {("AAPL", "up", 6.0)}),
        ("Tencent results", "China's biggest gaming company jumped 9% on Thursday.", {("0700.HK", "up", 9.0)}),
        ("Nio deliveries", "The Shanghai-based carmaker sank 11% after the report.", {("NIO", "down", 11.0)}),
        ("Nio deliveries", "The carmaker said orders were strong.", set()),
        ("Gainers", "Top gainers were Meituan and Kuaishou, whose shares rose more than 8%.",
         {("3690.HK", "up", 8.0), ("1024.HK", "up", 8.0)}),
        ("Intel news", "Intel saw its stock price tumble 9%.", {("INTC", "down", 9.0)}),
        ("Boeing news", "Boeing delayed a jet, and the company's share price closed 7% lower.", {("BA", "down", 7.0)}),
        ("Xiaomi lists", "Xiaomi made its debut and watched shares plummet by almost 6%.", {("1810.HK", "down", 6.0)}),
    ])  # fmt: skip


def test_bare_security_noun_in_a_compound_is_not_an_anaphor(det: Detector) -> None:
    """§3.3: ``Stock benchmark ...``, ``Stock Track | ...``, ``Shares sale``: a compound noun, not the stock."""
    check(det, [
        ("Alibaba rises 1%", "Stock benchmark in Hong Kong lost 10% this month.", set()),
        ("Alibaba rises 1%", "Stock market gauges fell 6% overall.", set()),
        ("Stock Track | Baidu Soars 8% on AI Chip Spin-off", "", {("BIDU", "up", 8.0)}),
        ("Alibaba rises 1%", "Shares fell 6% later.", {("BABA", "down", 6.0)}),
    ])  # fmt: skip


def test_determiner_between_governing_word_and_subject(det: Detector) -> None:
    """§3.1/§3.4: ``lifting the Hang Seng 2.4%`` is causative, ``contracts on the Nikkei`` is an object."""
    check(det, [
        ("Rally", "Tech buying lifted the Hang Seng 2.4% to a record.", {("HSI", "up", 2.4)}),
        ("Sell-off", "Contracts on the Nikkei dropped 6% overnight.", set()),
        ("PlayStation sales take Sony to a nine-year high", "", {("6758.T", "up", None)}),
        ("Sell-off", "Selling knocked the Kospi down 3%.", {("KOSPI", "down", 3.0)}),
    ])  # fmt: skip


def test_predicate_continues_past_a_sized_noun_or_a_verb_after_but(det: Detector) -> None:
    """§3.1: ``shares halted after a 20% drop`` and ``debuted at HK$17 but fell 6%`` are the subject's moves;
    ``rose 1% as a 9% drop hit peers`` still ends at ``as``."""
    check(det, [
        ("Trading Halted for Meituan Shares After Over 20% Drop", "", {("3690.HK", "down", 20.0)}),
        ("Nissan closed at 400 yen on Friday following a 9.5 percent slide", "", {("7201.T", "down", 9.5)}),
        ("Xiaomi lists", "Shares debuted at HK$17 but quickly fell 6% in early trade.", {("1810.HK", "down", 6.0)}),
        ("Nio gains 1% but Xpeng sinks", "", {("XPEV", "down", None)}),
        ("Baidu rose 1% as a 9% drop hit its peers", "", set()),
    ])  # fmt: skip


def test_price_level_and_with_phrase_before_the_size(det: Detector) -> None:
    """§3.1: ``closed at 86,300 won, down 9.4%``, ``was trading at 3,527.01, up 2.06%``, ``hits day high with a
    10% surge``."""
    check(det, [
        ("Samsung slides", "Samsung shares closed at 86,300 won, down 9.4 percent.", {("005930.KS", "down", 9.4)}),
        ("Kospi record", "The Kospi was trading at 3,527.01, up 2.06 percent.", {("KOSPI", "up", 2.06)}),
        ("Advantest Hits Day High with 10.62% Surge", "", {("6857.T", "up", 10.62)}),
        ("Samsung slides", "Samsung shares closed at 86,300 won, down 0.4 percent.", set()),
    ])  # fmt: skip


def test_size_of_a_move_in_another_quantity_is_not_a_price_move(det: Detector) -> None:
    """§4: ``posts 33 pct surge in profit``, ``a 12% jump in quarterly revenue`` measure that quantity."""
    check(det, [
        ("BYD posts 33 pct surge in profit", "", set()),
        ("Tencent reports a 12% jump in quarterly revenue", "", set()),
        ("Netflix posts 20% rise in subscribers", "", set()),
        ("Netflix posts a 9% rise in early trade", "", {("NFLX", "up", 9.0)}),
    ])  # fmt: skip


def test_more_strong_and_milestone_vocabulary(det: Detector) -> None:
    """§6.3/§6.4: ``decline most since``, ``vaulted``, ``posts record-high close``, ``highest ever close``,
    ``opened weaker``; mild ``weaker`` stays mild."""
    check(det, [
        ("Pop Mart shares decline most since April", "", {("9992.HK", "down", None)}),
        ("Sensex vaulted 1,422 points", "", {("SENSEX", "up", None)}),
        ("S&P 500 posted a record-high close", "", {("SPX", "up", None)}),
        ("Sensex logs its highest ever close", "", {("SENSEX", "up", None)}),
        ("Samsung opened weaker, down 6%", "", {("005930.KS", "down", 6.0)}),
        ("Samsung opened weaker", "", set()),
    ])  # fmt: skip


def test_abbreviation_dot_after_a_company_name(det: Detector) -> None:
    """§3.1: ``Sea Ltd. jumped 9%``: the dot of ``Ltd.`` does not end the predicate."""
    check(det, [
        ("Sea gains", "Sea Ltd. jumped 9% after results.", {("SE", "up", 9.0)}),
        ("Boeing", "Boeing Co. fell 6.5% on Monday.", {("BA", "down", 6.5)}),
        ("Boeing", "Boeing Co. said it would cut jobs.", set()),
    ])  # fmt: skip


def test_appositive_or_relative_clause_between_subject_and_verb(det: Detector) -> None:
    """§3.1: ``X, which tracks ..., has declined 6%``, ``X, Hong Kong's worst IPO this year, surged 9%``."""
    check(det, [
        ("Tech", "The Hang Seng Tech index, which tracks the largest tech firms, dropped over 2% on Monday.",
         {("HSTECH", "down", 2.0)}),
        ("IPO", "Kuaishou, Hong Kong's worst-performing listing this year, surged 9% on Thursday.",
         {("1024.HK", "up", 9.0)}),
        ("Chips", "Advantest, a maker of chip testers, tumbled 8%.", {("6857.T", "down", 8.0)}),
        ("Chips", "Advantest, a maker of chip testers, said profit rose.", set()),
    ])  # fmt: skip


def test_move_verb_with_a_market_object_is_transitive(det: Detector) -> None:
    """§3.1: ``Alibaba, Meituan sink Hong Kong stocks``, ``Tesla sinks Nasdaq``: the object moves, not them."""
    check(det, [
        ("Alibaba, Meituan, Tencent sink Hong Kong stocks on regulatory fears", "", set()),
        ("Nvidia drops tech peers after export curbs", "", set()),
        ("Tesla sinks Nasdaq 3% in late trade", "", {("IXIC", "down", 3.0)}),
        ("Alibaba, Meituan sink 6% on regulatory fears", "", {("BABA", "down", 6.0), ("3690.HK", "down", 6.0)}),
    ])  # fmt: skip


def test_hypothetical_marker_qualifies_the_statement_after_it(det: Detector) -> None:
    """§4/§5: ``fell, set to record the biggest declines in years``: the record is not realized; the fall
    before it is read on its own."""
    check(det, [
        ("Naver and Kakao fell, set to record the biggest declines in years", "", set()),
        ("Sony rose, on track for its best week since 2020", "", set()),
        ("Sony jumped 7%, on track for its best week since 2020", "", {("6758.T", "up", 7.0)}),
    ])  # fmt: skip


def test_apposed_superlative_shares_the_window_of_its_move(det: Detector) -> None:
    """§5: ``surged 30.8% in 2020, its largest gain since 2009`` describes the 2020 move (W2)."""
    check(det, [
        ("Kospi history", "The Kospi surged 30.8 per cent in 2020, its largest percentage gain since 2009.", set()),
        ("Nikkei plunges", "The Nikkei plunged 12% on Monday, its worst day since 1987.", {("N225", "down", 12.0)}),
    ])  # fmt: skip


def test_absolute_with_clause_shares_the_main_clause_window(det: Detector) -> None:
    """§5: ``Stocks posted gains in 2025, with the Nikkei rising 26%`` is the 2025 move; an own time wins."""
    check(det, [
        ("Japan", "Japanese stocks posted strong gains in 2025, with the benchmark Nikkei rising 26%.", set()),
        ("Japan", "Stocks had a strong year, with the Nikkei up 26% this year.", set()),
        ("Japan", "Stocks are up 20% this year, with the Nikkei rising 3% on Friday.", {("N225", "up", 3.0)}),
        ("Japan", "Tokyo stocks rallied, with the Nikkei rising 3%.", {("N225", "up", 3.0)}),
    ])  # fmt: skip


def test_potential_move_before_a_name_is_hypothetical(det: Detector) -> None:
    """§4: ``a potential Nvidia stock collapse``, ``a possible Tesla crash`` are not realized."""
    check(det, [
        ("Evaluating the risks behind a potential Nvidia stock collapse", "", set()),
        ("Traders hedge against a possible Tesla crash", "", set()),
        ("Nvidia stock collapses 12%", "", {("NVDA", "down", 12.0)}),
    ])  # fmt: skip


def test_value_gained_in_one_session_and_fractions_of_value(det: Detector) -> None:
    """§6.5: ``adds $230 billion in a day`` is a market value change; §6.1 ``loses a fifth of its value``."""
    check(det, [
        ("AI chip champ Nvidia adds $230 billion in a day", "", {("NVDA", "up", None)}),
        ("Apple sheds $100 billion overnight", "", {("AAPL", "down", None)}),
        ("NetEase loses a fifth of its value on gaming rules", "", {("NTES", "down", 20.0)}),
        ("Tencent loses half of its market value in a year", "", set()),
        ("Apple adds $10 billion to its buyback", "", set()),
    ])  # fmt: skip


def test_move_noun_leading_a_market_is_the_subject_move(det: Detector) -> None:
    """§3.1: ``Alibaba surge leads Hong Kong stocks higher`` - a noun with a verb after it is not transitive."""
    check(det, [
        ("Alibaba surge leads Hong Kong stocks to biggest gain in 2 weeks", "", {("BABA", "up", None)}),
        ("Tencent slump drags Asian markets lower", "", {("0700.HK", "down", None)}),
    ])  # fmt: skip


def test_sized_decline_after_a_price_level_overrides_a_strong_word(det: Detector) -> None:
    """§8 step 3: ``plunged`` then ``closed at 94,000 won after a 1.78 percent decline``: the size decides."""
    check(det, [
        ("SK Hynix slides", "SK Hynix plunged. SK Hynix closed at 94,000 won (US$78) after a 1.78 percent decline.",
         set()),
        ("SK Hynix slides", "SK Hynix closed at 94,000 won after a 7.5 percent decline.", {("000660.KS", "down", 7.5)}),
    ])  # fmt: skip


def test_sized_share_of_value_wiped_off(det: Detector) -> None:
    """§6.1/§6.5: ``wiped 9% off its market value``, ``knocked 8% off Alibaba's shares`` are sized falls;
    ``its market value fell 6%`` is the stock's move; ``$120 billion wiped off its market value`` stays §6.5."""
    check(det, [
        ("Meituan results", "The report wiped 9% off its market value.", {("3690.HK", "down", 9.0)}),
        ("Alibaba results", "The report knocked 8% off Alibaba's shares.", {("BABA", "down", 8.0)}),
        ("Nvidia news", "Its market value fell 6%.", {("NVDA", "down", 6.0)}),
        ("Apple has $120 billion wiped off its market value", "", {("AAPL", "down", None)}),
        ("Alibaba results", "The report knocked 2% off Alibaba's shares.", set()),
    ])  # fmt: skip


def test_possessive_after_an_abbreviated_company_suffix(det: Detector) -> None:
    """§3.1: ``SoftBank Group Corp.'s stock jumped 9%``."""
    check(det, [
        ("SoftBank Group Corp.'s stock jumped 9%", "", {("9984.T", "up", 9.0)}),
        ("SoftBank Group Corp.'s profit jumped 9%", "", set()),
    ])  # fmt: skip


def test_guards_on_the_new_forms(det: Detector) -> None:
    """Negative cases: ``could see its shares surge``, ``after a 9% plunge in <another company>``,
    ``Samsung SDI plunges``, ``The group expects shares to rise``."""
    check(det, [
        ("Tencent results", "The company could see its shares surge 20%.", set()),
        ("Sony rose 1% after a 9% plunge in Nintendo", "", set()),
        ("Samsung SDI plunges 10%", "", set()),
        ("Tencent results", "The group expects shares to rise 10%.", set()),
        ("Toyota posts 12% rise in quarterly profit", "", set()),
    ])  # fmt: skip


def test_off_before_a_size_and_depositary_receipts(det: Detector) -> None:
    """§7 ``Advantest off 8%`` is down 8; ``American depositary receipts`` are the company's securities (§3.1)."""
    check(det, [
        ("Nikkei slides", "The Nikkei fell 1%, with Advantest off 8%.", {("6857.T", "down", 8.0)}),
        ("Infosys", "Infosys's American depositary receipts fell 6% in New York.", {("INFY", "down", 6.0)}),
        ("Nikkei slides", "Advantest traded 8% off its high.", set()),
    ])  # fmt: skip


def test_bracket_after_an_abbreviated_suffix_and_a_dash_before_the_predicate(det: Detector) -> None:
    """§3.1: ``Xiaomi Corp. (1810.HK; XIACF) fell 7%``, ``Nvidia Corp. (NVDA) - down 7%``."""
    check(det, [
        ("Shares of Xiaomi Corp. (1810.HK; XIACF) fell 7%", "", {("1810.HK", "down", 7.0)}),
        ("Baidu Inc. (NASDAQ:BIDU; HKEX:9888) stock rose 7%", "", {("BIDU", "up", 7.0)}),
        ("Nvidia Corp. (NVDA) - down 7%", "", {("NVDA", "down", 7.0)}),
        ("Nvidia Corp. (NVDA) - chip news", "", set()),
    ])  # fmt: skip


def test_historic_high_is_a_record_milestone(det: Detector) -> None:
    """§6.4: ``climbs to a historic peak`` is a record reached by a move verb; ``near a historic high`` is not."""
    check(det, [
        ("Kospi climbs to historic peak of 3,500 points", "", {("KOSPI", "up", None)}),
        ("Sony hits historical high", "", {("6758.T", "up", None)}),
        ("Sony trades near a historic high", "", set()),
    ])  # fmt: skip


def test_long_descriptor_subject_takes_its_last_head_noun(det: Detector) -> None:
    """§3.3: ``China's second-largest short video platform operator jumped 11%`` (head noun ``operator``)."""
    check(det, [
        ("Kuaishou rallies", "China's second-largest short video platform operator jumped by as much as 11 per cent.",
         {("1024.HK", "up", 11.0)}),
        ("Kuaishou rallies", "The short video platform operator said users grew.", set()),
    ])  # fmt: skip


def test_hypothetical_marker_ends_the_window_scope_of_the_move_before_it(det: Detector) -> None:
    """§5: ``shoots up 8%, on track for a seventh straight day of gains`` - the streak is the marker's, the
    realized 8% stands; the month ``May`` is no marker."""
    check(det, [
        ("Alibaba shoots up more than 8 per cent, on track for seventh straight day of gains", "",
         {("BABA", "up", 8.0)}),
        ("Sony rose 20% in May and could rise further", "", set()),
        ("Sony rose 20% over seven sessions, and could rise further", "", set()),
    ])  # fmt: skip


def test_move_noun_object_and_causal_to(det: Detector) -> None:
    """§3.3/§3.4: ``witnessed a surge in its share price, climbing 8%`` is the subject's own move;
    ``thanks to Apple's shares soaring 9%`` has Apple as the gerund's subject; ``bets on Apple`` stays an object."""
    check(det, [
        ("SoftBank rallies", "SoftBank Group Corp. witnessed a surge in its share price on Tuesday, climbing as much "
         "as 8%.", {("9984.T", "up", 8.0)}),
        ("Rally", "Markets rose, thanks to Apple's shares soaring 9%.", {("AAPL", "up", 9.0)}),
        ("Rally", "Markets rose on bets on Apple soaring 9%.", set()),
    ])  # fmt: skip


def test_unwatched_conjunct_with_its_own_name(det: Detector) -> None:
    """§3.2: ``Reliance Industries and its subsidiary Jio Financial rose 6%`` moves Reliance."""
    check(det, [
        ("Reliance Industries and its subsidiary Jio Financial rose 6%", "", {("RELIANCE.NS", "up", 6.0)}),
        ("Alibaba and its Hong Kong-listed peers surged", "", {("BABA", "up", None)}),
        ("Reliance Industries and its subsidiary Jio Financial rose 1%", "", set()),
    ])  # fmt: skip


def test_more_real_text_forms(det: Detector) -> None:
    """§6.3 ``biggest market cap wipeout in history``; §3.1 ``The Hong Kong stocks of X``, ``experienced a
    significant drop of 17%``, a multi-word suffix before an appositive; §3.2 ``A, B, other crypto stocks
    plunge``; §6.5 ``X's record US$197bn surge``."""
    check(det, [
        ("Why Nvidia Suffered Its Biggest Market Cap Wipeout in History", "", {("NVDA", "down", None)}),
        ("Xiaomi news", "The Hong Kong stocks of Xiaomi hit a record high in early trading.", {("1810.HK", "up", None)}),
        ("Intel", "Intel's stock has experienced a significant drop of 17.0% in a single day.", {("INTC", "down", 17.0)}),
        ("Pop Mart", "Shares in Pop Mart International Group Ltd., the toy maker, slumped 6% on Friday.",
         {("9992.HK", "down", 6.0)}),
        ("Coinbase, Tesla, other crypto stocks plunge with bitcoin", "", {("COIN", "down", None), ("TSLA", "down", None)}),
        ("Meta's record US$197bn surge", "", {("META", "up", None)}),
        ("Meta's record revenue", "", set()),
        ("Intel", "Intel's stock has experienced a significant drop of 2% in a single day.", set()),
    ])  # fmt: skip
