"""Unit tests of the detector's steps, each on its own: sentences, anaphora, subjects, predicate, statements,
window, decision. Each step maps to LABELING sections (see the module docstrings of ``moverwatch.detect``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from moverwatch.detect.aliases import AliasMatcher, Excluded, normalize_text
from moverwatch.detect.anaphora import Resolver, Subject, find_anaphors, is_company_block, is_complement
from moverwatch.detect.decide import Found, decide
from moverwatch.detect.grammar import predicate_head, read_filler, read_predicate
from moverwatch.detect.lexicon import num
from moverwatch.detect.sentences import split_sentences
from moverwatch.detect.statements import Statement, interpret
from moverwatch.detect.subjects import (
    appositive_resume,
    attach_brackets,
    group_subjects,
    predicate_span,
    read_context,
)
from moverwatch.detect.window import window_reason
from moverwatch.watchlist import load_watchlist

CORPUS = Path(__file__).parent.parent / "fixtures" / "corpus"


@pytest.fixture(scope="module")
def matcher() -> AliasMatcher:
    return AliasMatcher(load_watchlist(CORPUS / "watchlist.yaml"))


def _symbols(matcher: AliasMatcher) -> list[str]:
    return [t.symbol for t in matcher.tickers]


def _resolve(matcher: AliasMatcher, text: str) -> list[tuple[str, bool]]:
    """Subjects of a one-sentence text as (symbol, via anaphor)."""
    text = normalize_text(text)
    mentions, excluded = matcher.scan(text)
    blockers = [b for b in excluded if is_company_block(text, b)]
    resolver = Resolver([t.kind == "index" for t in matcher.tickers], _symbols(matcher))
    subjects = resolver.resolve(text, mentions, find_anaphors(text, text.lower(), mentions), blockers, None)
    return [(matcher.tickers[s.ticker].symbol, s.anaphor) for s in subjects]


# -- sentences ----------------------------------------------------------------------------------------------
def test_sentences_split_on_full_stops_but_not_after_abbreviations() -> None:
    """A full stop before a capital ends a sentence; ``Corp.`` / ``Inc.`` / ``Oct.`` do not."""
    text = "Sony Corp. rose 6%. Shares of Inc. peers fell. Nikkei up on Oct. 10 trade."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Sony Corp. rose 6%.",
        "Shares of Inc. peers fell.",
        "Nikkei up on Oct. 10 trade.",
    ]


# -- anaphora (§3.3) ------------------------------------------------------------------------------------
def test_anaphors_found_by_form() -> None:
    """``its share price``, ``the Tokyo-listed stock``, bare clause-initial ``Shares``, ``the gauge``."""
    text = "Its share price fell. The Tokyo-listed stock rose. Shares jumped. The gauge slid. Stock benchmark fell."
    found = [(text[a.start : a.end], a.kind) for a in find_anaphors(text, text.lower(), [])]
    assert found == [
        ("Its share price", "stock"),
        ("The Tokyo-listed stock", "stock"),
        ("Shares", "stock"),
        ("The gauge", "index"),
    ]


def test_named_index_and_capitalised_descriptor_are_not_index_anaphors() -> None:
    """``the Growth Index`` and ``the Kosdaq index`` name other indexes; ``the Tokyo benchmark`` is an anaphor."""
    text = "The Growth Index fell. The Kosdaq index fell. The Tokyo benchmark fell."
    assert [text[a.start : a.end] for a in find_anaphors(text, text.lower(), [])] == ["The Tokyo benchmark"]


def test_resolver_takes_the_nearest_preceding_mention(matcher: AliasMatcher) -> None:
    """An anaphor refers to the nearest preceding stock (an index anaphor to the nearest index)."""
    assert _resolve(matcher, "Sony and Nikkei rose while Toyota said its shares fell and the index slid.") == [
        ("6758.T", False), ("N225", False), ("7203.T", False), ("7203.T", True), ("N225", True),
    ]  # fmt: skip


def test_resolver_blocks_after_a_sister_company(matcher: AliasMatcher) -> None:
    """§3.3 blocking: ``Toyota ... Toyota Industries said its shares`` refers to nobody watched."""
    assert _resolve(matcher, "Toyota rose while Toyota Industries said its shares fell.") == [
        ("7203.T", False)
    ]


def test_resolver_blocks_after_a_complement(matcher: AliasMatcher) -> None:
    """§3.4: ``Pegatron, a supplier to Apple, said its shares`` - Apple only qualifies Pegatron."""
    assert _resolve(matcher, "Pegatron, a supplier to Apple, said its shares fell.") == [("AAPL", False)]


def test_company_block_needs_a_name_after_the_alias() -> None:
    """``Alibaba Health`` blocks; ``Sales Target`` (alias at the end) and ``Amazon rainforest`` do not."""
    assert is_company_block("Alibaba Health rose", Excluded(0, 14, 0, 0))
    assert not is_company_block("Sales Target cut", Excluded(0, 12, 0, 6))
    assert not is_company_block("Amazon rainforest fires", Excluded(0, 17, 0, 0))
    assert not is_company_block("according to Nikkei Asia, it fell", Excluded(13, 24, 0, 13))


def test_complement_positions() -> None:
    """``supplier to T``, ``T-backed``, ``T rival BYD`` are complements; ``T shares`` is not."""
    assert is_complement("a supplier to Apple", 14, 19)
    assert is_complement("Nvidia-backed CoreWeave", 0, 6)
    assert is_complement("Tesla rival BYD", 0, 5)
    assert not is_complement("Tesla shares fell", 0, 5)


# -- subjects (§3.1, §3.2, §3.4) ----------------------------------------------------------------------------
def test_brackets_attach_to_the_mention_before_them() -> None:
    """A bracket after a mention extends it and swallows mentions inside; a bracketed size does not."""
    text = "Sony Group Corp (NYSE: SONY) fell; Meituan (-8.2%) too"
    subs = [Subject(0, 10, 1, "Sony Group"), Subject(23, 27, 1, "SONY"), Subject(35, 42, 2, "Meituan")]
    out = attach_brackets(text, subs)
    assert [(s.start, s.end) for s in out] == [(0, 28), (35, 42)]


def test_coordinated_subjects_form_one_group_with_placeholders() -> None:
    """``A, Honda and B`` is one group of three (Honda an unwatched placeholder for respectively-lists)."""
    text = "Sony, Honda and Toyota fall"
    groups = group_subjects(text, [Subject(0, 4, 1, "Sony"), Subject(16, 22, 2, "Toyota")])
    assert [[m.ticker for m in g] for g in groups] == [[1, -1, 2]]


def test_context_reads_object_causative_hypothetical_and_opener() -> None:
    """The words before a group: object of ``on``, causative ``lifting the``, ``Citi sees``, opener."""

    def ctx(text: str, start: int) -> tuple[str, str | None, str, str]:
        c = read_context(text, text.lower(), 0, Subject(start, start + 5, 0, "Sony"), "", text.lower())
        return c.object_of, c.cause_dir, c.hypothetical[:12], c.window[:10]

    assert ctx("Bets on Sony rise", 8) == ("on", None, "", "")
    assert ctx("Yen slide lifting the Sony up", 22) == ("", "up", "", "")
    assert ctx("Citi sees Sony rising", 10) == ("", None, "hypothetical", "")
    assert ctx("So far this year, Sony rose 40%", 18) == ("", None, "", "cumulative")


def test_appositive_with_the_next_subject_resumes_after_its_comma() -> None:
    """``Hon Hai, the biggest supplier to Apple, jumps`` - the predicate resumes after the second comma."""
    text = "Hon Hai, the biggest supplier to Apple, jumps 8%"
    assert appositive_resume(text, 7, 33, len(text)) == 39
    assert appositive_resume("Hon Hai and Apple jump", 7, 12, 22) == -1


# -- predicate (§3.1, §4) -----------------------------------------------------------------------------------
def test_filler_skips_venue_listing_brackets_and_unwatched_conjuncts() -> None:
    """``'s Hong Kong-listed shares``, ``(OTC: X)``, ``and its units`` stand between subject and verb."""
    for tail in ("'s Hong Kong-listed shares rose", " (OTC: TCEHY) stock rose", " and its Jio unit rose"):
        pos, _mv, _names = read_filler(tail, tail.lower())
        assert tail[pos:] == "rose", tail


def test_predicate_head_accepts_light_verb_with_time_place_phrase() -> None:
    """``finished tuesday's session down 12%`` starts a predicate; ``said profit rose`` does not."""
    assert predicate_head("finished tuesday's session down 12%", False)[1] == ""
    assert predicate_head("said profit rose", False)[1] != ""


def test_read_predicate_rejects_with_a_reason() -> None:
    """Rejections carry a reason: hypothetical, negated, not a price, transitive."""
    assert "hypothetical" in read_predicate(" could soar 50%", " could soar 50%", None, "").rejected
    assert "negated" in read_predicate(" fails to rally", " fails to rally", None, "").rejected
    assert "not a price" in read_predicate(" revenue jumps 20%", " revenue jumps 20%", None, "").rejected
    assert "transitive" in read_predicate(" sinks ", " sinks ", None, "", object_follows=True).rejected


# -- statements (§6, §7) ------------------------------------------------------------------------------------
def _stmts(region: str) -> list[tuple[str | None, float | None, str, bool]]:
    return [
        (s.direction, s.pct, s.kind, s.eligible) for s in interpret(region, region, 0, None, False, region)
    ]


def test_statement_sizes_in_every_form() -> None:
    """§6.1: digits, words, ``pc``, ranges, noun forms, fractions, multiples."""
    assert _stmts("falls eight percent") == [("down", 8.0, "size", True)]
    assert _stmts("rose 6-7%") == [("up", 6.0, "size", True)]
    assert _stmts("posts a 12% slump") == [("down", 12.0, "size", True)]
    assert _stmts("drops 4.3pc") == [("down", 4.3, "size", True)]
    assert _stmts("loses a fifth of its value") == [("down", 20.0, "size", True)]
    assert _stmts("more than doubles") == [("up", 100.0, "multiple", True)]


def test_statement_strong_words_superlatives_and_market_value() -> None:
    """§6.3/§6.5: strong word, session superlative, ``$60 billion rally``; a mild word is not eligible."""
    assert _stmts("crumbles") == [("down", None, "word", True)]
    assert _stmts("posts its biggest one-day rise") == [("up", None, "superlative", True)]
    assert _stmts("'s $60 billion rally") == [("up", None, "mcap", True)]
    assert _stmts("edges up")[0][3] is False


def test_statement_number_of_another_quantity_is_skipped() -> None:
    """§4: ``33 pct surge in profit`` is about profit; the move noun goes with it."""
    assert _stmts("posts 33 pct surge in profit") == []


# -- window (§5) ---------------------------------------------------------------------------------------------
def test_window_reasons() -> None:
    """W2 markers give a reason; v2 W1 forms (weekday, yesterday, date without year, since Monday) do not."""
    assert window_reason("rose 9% this year", "") != ""
    assert window_reason("rose 9% on march 3, 2023", "") != ""
    assert window_reason("rose 9% since its ipo", "") != ""
    for scope in ("rose 9% yesterday", "rose 9% on march 3", "rose 9% since monday", "worst day since 2008"):
        assert window_reason(scope, "") == "", scope


def test_hypothetical_marker_scope_starts_at_the_marker() -> None:
    """§5: ``climbs 9%, set for a fifth weekly gain`` - the size stands, what follows the marker does not."""
    out = _stmts("climbs 9%, set for its best week since 2020")
    assert out[0] == ("up", 9.0, "size", True)
    assert all(not eligible for _d, _p, _k, eligible in out[1:])


# -- decision (§8) ----------------------------------------------------------------------------------------
def test_decide_first_size_at_threshold_else_first_strong() -> None:
    """§8: the first size >= threshold in reading order; with no size, the first strong statement."""
    sized = [Found((0, 0, 0), Statement("up", 3.0, True, "size", "a"), "title", "s", "X"),
             Found((0, 0, 1), Statement("up", 7.0, False, "size", "b"), "title", "s", "X")]  # fmt: skip
    move, _why = decide("X", 5, sized)
    assert move is not None and move.pct == 7.0
    strong = [Found((1, 0, 0), Statement("down", None, True, "word", "c"), "summary", "s", "X")]
    move, _why = decide("X", 5, strong)
    assert move is not None and (move.direction, move.pct) == ("down", None)
    assert decide("X", 5, sized[:1])[0] is None


def test_num_reads_digits_and_words() -> None:
    """§6.1: ``1,234.5``, ``twenty-five``, ``eight``."""
    assert (num("1,234.5"), num("twenty-five"), num("eight")) == (1234.5, 25.0, 8.0)


def test_predicate_span_skips_an_appositive_and_flags_a_transitive_verb() -> None:
    """The group's predicate: past ``, the biggest supplier to Apple,``; a bare verb before the next subject."""
    text = "Hon Hai, the biggest supplier to Apple, jumps 8%"
    groups = [[Subject(0, 7, 1, "Hon Hai")], [Subject(33, 38, 0, "Apple")]]
    span = predicate_span(text, groups, 0, len(text))
    assert text[span.start : span.end] == " jumps 8%" and not span.object_follows
    text = "Tesla sinks Nasdaq"
    span = predicate_span(text, [[Subject(0, 5, 1, "Tesla")], [Subject(12, 18, 2, "Nasdaq")]], 0, len(text))
    assert text[span.start : span.end] == " sinks " and span.object_follows


def test_explain_tags_each_line_with_its_step() -> None:
    """``explain`` shows each step's decision: mentions, anaphora, subjects, predicate, statement, decision."""
    from moverwatch.detect import Detector

    det = Detector(load_watchlist(CORPUS / "watchlist.yaml"))
    text = det.explain(
        "Sony Group Corp (NYSE: SONY) slides 6%",
        "Toyota Industries said its shares fell 8%. Citi sees Nissan rising. Bets on Nissan rise. Sony said profit grew.",
    )
    for tag in ("[mentions]", "[anaphora]", "[subjects]", "[predicate]", "[statement]", "[decision]"):
        assert tag in text, tag
    assert "blocking" in text and "bracket" in text and "Decision 6758.T: down 6%" in text


def test_governing_word_skips_quotes_brackets_and_a_determiner() -> None:
    """The word before a subject: ``on the`` -> ``on``; ``lifting "`` -> ``lifting``; a ``|`` ends it."""
    from moverwatch.detect.subjects import governing_word

    assert governing_word("Contracts on the ") == "on"
    assert governing_word('Buying lifting "') == "lifting"
    assert governing_word("Stock Track | ") == ""
    assert governing_word("") == ""
