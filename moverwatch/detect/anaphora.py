"""Anaphora (LABELING §3.3): find ``its shares`` / ``the stock`` / ``the index`` and resolve each to the nearest
preceding mention of a watched stock (or index), with blocking by a nearer unwatched company.

Two steps: :func:`find_anaphors` locates the anaphoric noun phrases of one text; :class:`Resolver` walks the
mentions and anaphors of the item in reading order (title, then summary) and turns both into subjects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from moverwatch.detect.aliases import Excluded, Mention
from moverwatch.detect.lexicon import LEXICON

AnaphorKind = Literal["stock", "index"]

_SECURITY = r"(?:shares|stock|adrs|adss|gdrs|[ahb]-shares)"
_COMPOUND_NOT = (
    r"(?!\s+(?:benchmarks?|index|indexes|indices|markets?|exchanges?|track|sales?|prices|buybacks?|offerings?|"
    r"splits?|options|futures|connect|picks?|watch|reports?|movers|traders?|investors?|analysts?|gauges?|"
    r"averages?|rally|rout|selloff|sell-off|slump|crash|boom)\b)"
)
# Head nouns of a company descriptor ("the iPhone maker", "the e-commerce giant").
_COMPANY_NOUNS = (
    r"maker|giant|company|firm|conglomerate|chipmaker|carmaker|automaker|retailer|lender|operator|developer|"
    r"producer|manufacturer|titan|heavyweight|behemoth|startup|start-up|group|platform|champion|champ|"
    r"designer|supplier|provider|insurer|brand"
)
_ANAPHOR_RES: tuple[tuple[re.Pattern[str], str], ...] = (
    # "its New York-listed ADRs", "their shares", "its share price"
    (
        re.compile(
            r"\b(?:its|their|whose)\s+(?:(?:[\w.&-]+\s+){0,3}?(?:share price|stock price|shares|stock|adrs|adss|gdrs|"
            r"[ahb]-shares)|market value|market cap(?:itali[sz]ation)?)\b",
            re.I,
        ),
        "stock",
    ),  # fmt: skip
    # "the tech giant's shares", "the smartphone and EV maker's stock"
    (
        re.compile(
            r"\bthe\s+(?:[\w&-]+\s+){0,4}?[\w-]+'s\s+(?:[\w.-]+\s+){0,2}?(?:share price|stock price|shares|stock|"
            r"adrs|adss)\b",
            re.I,
        ),
        "stock",
    ),  # fmt: skip
    # "the Tokyo-listed stock", "the Hong Kong-listed shares", "the newly listed shares" (not "... of X")
    (
        re.compile(
            r"\bthe\s+(?:[\w.&]+\s+){0,2}?(?:[\w.&]+-listed|(?:newly|recently)[\s-]listed|listed)\s+"
            + _SECURITY
            + r"\b(?!\s+(?:of|in)\b)",
            re.I,
        ),
        "stock",
    ),
    # "Shares of the electric-vehicle maker", "Stock in the chipmaker" (descriptor words consumed in code)
    (re.compile(r"\b(?:shares|stock)\s+(?:of|in)\s+the\s+", re.I), "stock-of"),
    # bare clause-initial "Shares ...", "The stock ..." (clause start checked in code: a lookbehind
    # alternation here was the costliest regex of the detector); not a compound noun ("Stock benchmark")
    (
        re.compile(r"\b(?:the\s+)?(?:shares|stock|adrs|adss)\b(?!\s+(?:of|in)\b)" + _COMPOUND_NOT, re.I),
        "stock-bare",
    ),
    # a bare descriptor subject: "The iPhone maker rose 15%", "China's second-largest platform operator jumped"
    (
        re.compile(
            r"\b(?:[Tt]he|[A-Z][a-z]+'s)\s+(?:[\w&'-]+\s+){0,5}(?i:"
            + _COMPANY_NOUNS
            + r")(?=\s+(?:shares\s+|stock\s+)?"
            r"(?:[a-z]+ly\s+)?[a-z]+)\b"
        ),
        "stock-descriptor",
    ),
    # Descriptor words must be lower case: "the Hang Seng China Enterprises Index", "the Growth Index" and
    # "the Kosdaq index" are names of other indexes, not anaphors; a place may precede "benchmark"/"gauge".
    (
        re.compile(
            r"\b[Tt]he\s+(?:(?:[a-z][\w-]*\s+){0,2}?(?:[Ii]ndex|[Bb]enchmark(?:\s+index)?|[Gg]auge|[Aa]verage)|"
            r"(?:[A-Z][a-z]+\s+){1,2}(?:[a-z][\w-]*\s+)?(?:benchmark|gauge)(?:\s+index)?)\b"
        ),
        "index",
    ),  # fmt: skip
    # "Japan's benchmark index", "South Korea's main gauge"
    (
        re.compile(
            r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?'s\s+(?:[a-z][\w-]*\s+){0,2}?(?:index|benchmark(?:\s+index)?|gauge|"
            r"average)\b"
        ),
        "index",
    ),  # fmt: skip
)
# A substring each form needs (any of): skips most regexes on most texts.
_GATES: tuple[tuple[str, ...], ...] = (
    ("its ", "their ", "whose "),
    ("'s ",),
    ("listed",),
    (" of the ", " in the "),
    (),
    ("the ", "'s "),
    (),
    ("'s ",),
)
_CLAUSE_START_RE = re.compile(
    r"(?:^\s*|[.!?;:,]\s|[;:]|\s-\s|\b(?i:and|but|while|when|with|as|after|before|because|though|although|then|"
    r"yet|so|sending|sent|sends|pushing|pushed|lifting|lifted|driving|drove|dragging|dragged|knocking|knocked|"
    r"taking|took|saw|sees|watched|watches|watching)\s+)$"
)
# "its market value" after a preposition is the object of the subject's predicate, except after a sized
# "wiped 9% off" (the move of that value itself, §6.5).
_MV_OBJECT_RE = re.compile(r"(?<!%)(?<!cent)(?<!pct)\s(?:off|from|to|in|of|by)\s+$")
_MOVE_NOUN_OF_RE = re.compile(
    r"\b(?:surge|jump|rise|gain|increase|drop|fall|decline|slump|plunge|rally|slide|tumble)s?\s+(?:in|of)\s+$"
)
_AUX = {"is", "are", "was", "were", "has", "have", "had"}
_NEXT_WORD_RE = re.compile(r"\s+(?:(?:shares|stock)\s+)?(?:[a-z]+ly\s+)?([a-z-]+)")
_DESCRIPTOR_WORD_RE = re.compile(r"([\w&'-]+)\s*")

# §3.4 complements: "a supplier to Apple", "Tesla rival BYD", "Nvidia-backed CoreWeave". The head noun (an
# unwatched company) is the nearer antecedent of a following "its shares", so such a mention blocks (§3.3).
_ROLE = (
    r"suppliers?|rivals?|partners?|customers?|clients?|competitors?|peers?|backers?|investors?|vendors?|"
    r"contractors?|licensees?|distributors?|challengers?"
)
_COMPLEMENT_BEFORE_RE = re.compile(r"\b(?i:" + _ROLE + r")\s+(?i:to|of|for|with)\s+(?:the\s+)?$")
_COMPLEMENT_AFTER_RE = re.compile(
    r"(?:-(?i:backed|owned|led|controlled|funded|supported|affiliated)\b|'s\s+(?i:"
    + _ROLE
    + r")\b|\s+(?i:"
    + _ROLE
    + r")\s+[A-Z])"
)
# A news source quoted ("according to Nikkei Asia", "Nikkei Asia reported") is not a company antecedent.
_SOURCE_BEFORE_RE = re.compile(
    r"\b(?i:according to|told|reported by|cited by|report by|reports? in)\s+(?:the\s+)?$"
)


_RUN_SEP_RE = re.compile(
    r"\s*(?:,|and|&)?\s*(?:(?:and|&)\s+)?(?:[A-Z][\w.&'-]*\s+){0,3}?(?:,\s*)?(?:and\s+|&\s+)?", re.I
)


class Anaphor(NamedTuple):
    """An anaphoric noun phrase ``text[start:end]`` referring back to a stock or an index."""

    start: int
    end: int
    kind: AnaphorKind


@dataclass(slots=True)
class Subject:
    """A subject candidate of a sentence: a mention, or an anaphor resolved to its antecedent ticker."""

    start: int
    end: int
    ticker: int  # index into the watchlist tickers; -1 for an unwatched name kept for list counting
    text: str
    anaphor: bool = False


def find_anaphors(text: str, low: str, mentions: list[Mention]) -> list[Anaphor]:
    """The anaphors of ``text`` (``low``: its lower-case copy) that do not overlap a mention, in order."""
    out: list[Anaphor] = []
    # Cheap substring gates: most texts contain no security or index noun at all.
    has_security = (
        "share" in low or "stock" in low or "adr" in low or "ads" in low or "gdr" in low or "market" in low
    )
    has_index = "index" in low or "benchmark" in low or "gauge" in low or "average" in low
    for (regex, kind), gate in zip(_ANAPHOR_RES, _GATES, strict=True):
        if kind != "stock-descriptor" and not (has_index if kind == "index" else has_security):
            continue
        if gate:
            for g in gate:
                if g in low:
                    break
            else:
                continue
        matches = regex.finditer(text) if kind != "stock-descriptor" else _at_sentence_starts(regex, text)
        for m in matches:
            start, end = m.start(), m.end()
            if (
                kind == "stock-bare"
                and start > 0
                and not _CLAUSE_START_RE.search(text, max(0, start - 24), start)
            ):
                continue
            if (
                kind == "stock"
                and "market" in low[start:end]
                and _MV_OBJECT_RE.search(low, max(0, start - 30), start)
            ):
                continue  # "$120 billion wiped off its market value": part of the subject's predicate
            if kind == "stock" and _MOVE_NOUN_OF_RE.search(low, max(0, start - 30), start):
                continue  # "saw a surge in its share price": the object of the subject's move noun
            if kind == "stock-of":
                end = _descriptor_end(low, end)
            elif kind == "stock-descriptor":
                # only a clause-initial descriptor followed by a move word is a subject of its own
                if start > 0 and not _CLAUSE_START_RE.search(text, max(0, start - 24), start):
                    continue
                nxt = _NEXT_WORD_RE.match(low, end)
                if not nxt or nxt.group(1) not in LEXICON:
                    continue
            if any(not (end <= mm.start or mm.end <= start) for mm in mentions):
                continue
            if any(not (end <= a.start or a.end <= start) for a in out):
                continue
            out.append(Anaphor(start, end, "index" if kind == "index" else "stock"))
    out.sort()
    return out


_SENTENCE_GAP_RE = re.compile(r"[.!?;:,]\s+")


def _at_sentence_starts(regex: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """Matches of ``regex`` at the start of the text, a sentence or a clause: a descriptor subject opens one
    ("The iPhone maker rose 15%"), and trying it only there keeps the step cheap."""
    out = [m for m in (regex.match(text, g.end()) for g in _SENTENCE_GAP_RE.finditer(text)) if m]
    first = regex.match(text)
    return [first, *out] if first else out


def _descriptor_end(low: str, pos: int) -> int:
    """Consume the descriptor of ``Shares of the <descriptor>`` up to the verb (at most six words)."""
    for _ in range(6):
        w = _DESCRIPTOR_WORD_RE.match(low, pos)
        if not w or w.group(1) in LEXICON or w.group(1) in _AUX:
            break
        pos = w.end()
    return pos


def is_complement(text: str, start: int, end: int) -> bool:
    """The mention ``text[start:end]`` qualifies another company's noun (§3.4): ``supplier to T``, ``T rival``."""
    return bool(
        _COMPLEMENT_BEFORE_RE.search(text, max(0, start - 40), start) or _COMPLEMENT_AFTER_RE.match(text, end)
    )


def is_company_block(text: str, ex: Excluded) -> bool:
    """An exclude occurrence that names another company (``Alibaba Health``, ``Hang Seng Bank``): it starts
    with the alias and goes on with a capitalised word, and is not a quoted news source."""
    if ex.alias_start != ex.start:
        return False  # "Sales Target", "Big Apple", "South China Sea": not a sister company
    rest = text[ex.start : ex.end].split(None, 1)
    if len(rest) < 2 or not rest[1][:1].isupper():
        return False  # "Amazon rainforest", "Shell shock", "block trade"
    return not _SOURCE_BEFORE_RE.search(text, max(0, ex.start - 30), ex.start)


class Resolver:
    """Resolves anaphors to the nearest preceding antecedent across the sentences of one item (§3.3).

    An antecedent is a watched mention; a blocker (a sister company named by an exclude phrase, or a company
    the watched name only qualifies) is an unwatched antecedent: anaphors after it refer to nobody watched.
    """

    __slots__ = ("_is_index", "_symbols", "last_stock", "last_index", "blocked_by")

    def __init__(self, is_index: list[bool], symbols: list[str]) -> None:
        self._is_index = is_index
        self._symbols = symbols
        self.last_stock: int | None = None
        self.last_index: int | None = None
        self.blocked_by = ""  # text of the blocker when the nearest stock antecedent is unwatched

    def resolve(
        self,
        text: str,
        mentions: list[Mention],
        anaphors: list[Anaphor],
        blockers: list[Excluded],
        trace: list[str] | None,
    ) -> list[Subject]:
        """Subjects of one sentence in reading order; only antecedents *before* an anaphor count."""
        events: list[tuple[int, int, int, object]] = [(m.start, 1, m.end, m) for m in mentions]
        events += [(a.start, 2, a.end, a) for a in anaphors]
        events += [(b.start, 0, b.end, b) for b in blockers]
        events.sort(key=lambda e: (e[0], e[1]))
        out: list[Subject] = []
        run: list[Mention] = []  # the coordinated mentions just read ("Meituan and Kuaishou")
        for start, _order, end, item in events:
            if isinstance(item, Excluded):
                self.last_stock, self.blocked_by = None, text[start:end]
            elif isinstance(item, Mention):
                out.append(Subject(start, end, item.ticker, item.alias))
                if run and _RUN_SEP_RE.fullmatch(text, run[-1].end, start):
                    run.append(item)
                else:
                    run = [item]
                if self._is_index[item.ticker]:
                    self.last_index = item.ticker
                elif is_complement(text, start, end):
                    self.last_stock, self.blocked_by = None, f"the company {item.alias!r} qualifies"
                else:
                    self.last_stock, self.blocked_by = item.ticker, ""
            else:
                assert isinstance(item, Anaphor)
                ref = self.last_index if item.kind == "index" else self.last_stock
                phrase = text[start:end]
                if ref is None:
                    if trace is not None:
                        blocked = self.blocked_by and item.kind == "stock"
                        why = (
                            f"nearer antecedent is {self.blocked_by!r} (blocking)"
                            if blocked
                            else "no antecedent"
                        )
                        trace.append(f"  [anaphora] {phrase!r}: {why}, ignored")
                    continue
                if phrase[:5].lower() == "whose" and len(run) > 1:
                    # "Meituan and Kuaishou, whose shares rose": the relative refers to the coordination
                    refs = [m.ticker for m in run if not self._is_index[m.ticker]]
                    out.extend(Subject(start, end, r, phrase, anaphor=True) for r in dict.fromkeys(refs))
                    continue
                out.append(Subject(start, end, ref, phrase, anaphor=True))
                if trace is not None:
                    trace.append(f"  [anaphora] {phrase!r} -> {self._symbols[ref]} (nearest preceding)")
        return out
