"""Find watched-ticker mentions in a text: one Aho-Corasick pass, rules M1-M5 of LABELING.md §2.2.

The matcher is built once per watchlist and scans any text in time proportional to the text length, whatever
the number of aliases (thousands of tickers). Rules implemented:

* M1 whole words: a boundary is required only at an end of the alias that is a letter or digit;
* M2 case: ``case_sensitive`` tickers match the text as written, the others match its lower-cased copy;
* a space inside an alias matches one or more whitespace characters (the text is normalised first);
* M3 excludes: an alias occurrence lying inside an occurrence of one of its ticker's exclude phrases
  (case-insensitive, same boundary rule) is dropped;
* M4 longest match wins across tickers, then the leftmost.

Spans refer to the *normalised* text returned by :func:`normalize_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick

from moverwatch.watchlist import Ticker, Watchlist

_WS_RE = re.compile(r"\s+")
# Typographic variants news text uses for plain ASCII punctuation; mapping them keeps the grammar simple.
_TRANSLATE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2212": "-",  # unicode minus
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": " - ",
        "\uff05": "%",
        "\u00ad": None,  # soft hyphen
        "\u200b": None,
        "\ufeff": None,
    }
)


def normalize_text(text: str) -> str:
    """Return the text with typographic punctuation mapped to ASCII and whitespace runs collapsed."""
    # Fast path: most headlines are plain ASCII with single spaces (this runs on every item).
    if text.isascii() and "  " not in text and "\n" not in text and "\t" not in text and "\r" not in text:
        return text.strip()
    return _WS_RE.sub(" ", text.translate(_TRANSLATE)).strip()


def _normalize_phrase(phrase: str) -> str:
    return normalize_text(phrase)


def _lower_same_length(text: str) -> str:
    """Lower-case without changing the length (a few characters lower-case to two code points)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


@dataclass(frozen=True, slots=True)
class Excluded:
    """An exclude phrase occurrence that cancelled an alias of ``ticker`` at ``alias_start``: a possible
    sister company (``Alibaba Health``) that blocks anaphora (§3.3)."""

    start: int
    end: int
    ticker: int
    alias_start: int


@dataclass(frozen=True, slots=True)
class Mention:
    """One accepted alias occurrence: ``text[start:end]`` names ``ticker``."""

    start: int
    end: int
    ticker: int  # index into AliasMatcher.tickers
    alias: str


def _build(entries: dict[str, list[tuple[int, int]]]) -> ahocorasick.Automaton | None:
    # Payload: (length, boundary needed at start, boundary needed at end, ((kind, ticker), ...)),
    # kind 0 = alias, 1 = exclude. M1: a boundary is checked only at an end that is a letter or digit.
    if not entries:
        return None
    automaton = ahocorasick.Automaton()
    for key, owners in entries.items():
        automaton.add_word(key, (len(key), key[0].isalnum(), key[-1].isalnum(), tuple(owners)))
    automaton.make_automaton()
    return automaton


class AliasMatcher:
    """Compiled alias, exclude and case-sensitive automata for one watchlist."""

    def __init__(self, watchlist: Watchlist) -> None:
        self.tickers: tuple[Ticker, ...] = watchlist.tickers
        folded: dict[str, list[tuple[int, int]]] = {}
        exact: dict[str, list[tuple[int, int]]] = {}
        for index, ticker in enumerate(self.tickers):
            for name in ticker.names:
                alias = _normalize_phrase(name)
                if not alias:
                    continue
                if ticker.case_sensitive:
                    owners = exact.setdefault(alias, [])
                else:
                    owners = folded.setdefault(_lower_same_length(alias), [])
                if (0, index) not in owners:
                    owners.append((0, index))
            for phrase in ticker.exclude:
                key = _lower_same_length(_normalize_phrase(phrase))
                if key:
                    owners = folded.setdefault(key, [])
                    if (1, index) not in owners:
                        owners.append((1, index))
        # Excludes share the lower-case automaton with the case-insensitive aliases: one pass finds both.
        self._folded = _build(folded)
        self._exact = _build(exact)
        self.alias_count = sum(len(t.names) for t in self.tickers)

    def find(self, text: str) -> list[Mention]:
        """Mentions in ``text`` (already normalised), in reading order, after excludes and overlaps."""
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[list[Mention], list[Excluded]]:
        """Mentions as :meth:`find`, and the exclude occurrences that cancelled an alias occurrence."""
        candidates: list[tuple[int, int, int]] = []  # (start, end, ticker)
        excludes: dict[int, list[tuple[int, int]]] = {}
        n = len(text)
        if self._folded is not None:
            low = _lower_same_length(text)
            for last, (length, check_start, check_end, owners) in self._folded.iter(low):
                start = last + 1 - length
                end = last + 1
                if check_start and start > 0 and low[start - 1].isalnum():
                    continue
                if check_end and end < n and low[end].isalnum():
                    continue
                for kind, index in owners:
                    if kind == 0:
                        candidates.append((start, end, index))
                    else:
                        excludes.setdefault(index, []).append((start, end))
        if self._exact is not None:
            for last, (length, check_start, check_end, owners) in self._exact.iter(text):
                start = last + 1 - length
                end = last + 1
                if check_start and start > 0 and text[start - 1].isalnum():
                    continue
                if check_end and end < n and text[end].isalnum():
                    continue
                for _kind, index in owners:
                    candidates.append((start, end, index))
        if not candidates:
            return [], []
        cancelled: list[Excluded] = []
        if excludes:
            kept_candidates = []
            for c in candidates:
                spans = excludes.get(c[2])
                if spans:
                    cover = [(s, e) for s, e in spans if s <= c[0] and c[1] <= e]
                    if cover:
                        cancelled.append(Excluded(cover[0][0], cover[0][1], c[2], c[0]))
                        continue
                kept_candidates.append(c)
            candidates = kept_candidates
            if not candidates:
                return [], cancelled
        if len(candidates) == 1:
            s0, e0, t0 = candidates[0]
            return [Mention(s0, e0, t0, text[s0:e0])], cancelled
        # M4: longest first, then leftmost; keep an occurrence only if it overlaps nothing kept.
        candidates.sort(key=lambda c: (c[0] - c[1], c[0]))
        kept: list[tuple[int, int, int]] = []
        taken = bytearray(n)  # characters already covered by a kept mention (linear, whatever the count)
        for cand in candidates:
            if taken.find(1, cand[0], cand[1]) < 0:
                kept.append(cand)
                taken[cand[0] : cand[1]] = b"\x01" * (cand[1] - cand[0])
        kept.sort()
        return [Mention(s, e, t, text[s:e]) for s, e, t in kept], cancelled
