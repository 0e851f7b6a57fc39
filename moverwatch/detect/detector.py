"""Big-move detector: which watched tickers a news item says made a big price move (LABELING.md §8).

Pipeline per item (title, then summary):

1. normalise the text and find alias mentions in one automaton pass (``moverwatch.detect.aliases``);
2. only if something matched: split into sentences, add anaphors (``its shares``, ``the stock``,
   ``the index``) resolved to the nearest preceding mention, group coordinated subjects
   (``Alibaba and JD.com``), and read the predicate after each subject with ``moverwatch.detect.grammar``;
3. per ticker, keep the eligible statements and apply the decision procedure: the first size at or above
   the ticker's threshold in reading order, else the first strong statement with pct null.

``explain`` runs the same analysis with a trace, so what the CLI shows is what ``detect`` decided.
``stream_jsonl`` implements the ``moverwatch detect`` contract (DESIGN.md "Detection").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from moverwatch.detect.aliases import AliasMatcher, Mention, _lower_same_length, normalize_text
from moverwatch.detect.grammar import read_predicate
from moverwatch.detect.lexicon import AMOUNT, LEXICON, MV
from moverwatch.detect.statements import Statement
from moverwatch.detect.window import window_reason
from moverwatch.models import Direction, Move, Where
from moverwatch.watchlist import Watchlist

log = logging.getLogger(__name__)

_ABBREVIATIONS = {"inc", "corp", "co", "ltd", "plc", "u.s", "u.k", "mr", "ms", "dr", "st", "jr", "sr", "no",
                  "vs", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
                  "e.g", "i.e", "approx", "est", "bn", "mln", "s.a", "n.v", "ag"}  # fmt: skip
_SENTENCE_END_RE = re.compile(r"[.!?](?=\s+[\"'(]?[A-Z0-9$])")

_ANAPHOR_RES = (
    # "its New York-listed ADRs", "their shares"
    (
        re.compile(
            r"\b(?:its|their)\s+(?:[\w.&-]+\s+){0,3}?(?:shares|stock|adrs|adss|gdrs|[ahb]-shares|share price|"
            r"stock price)\b",
            re.I,
        ),
        "stock",
    ),  # fmt: skip
    # "the tech giant's shares", "the smartphone and EV maker's stock"
    (
        re.compile(
            r"\bthe\s+(?:[\w&-]+\s+){0,4}?[\w-]+'s\s+(?:[\w.-]+\s+){0,2}?(?:shares|stock|adrs|adss)\b", re.I
        ),
        "stock",
    ),  # fmt: skip
    # "Shares of the electric-vehicle maker" (descriptor words consumed in code)
    (re.compile(r"\b(?:shares|stock)\s+(?:of|in)\s+the\s+", re.I), "stock-of"),
    # bare clause-initial "Shares ...", "The stock ..." (clause start checked in code: a lookbehind
    # alternation here was the costliest regex of the detector)
    (re.compile(r"\b(?:the\s+)?(?:shares|stock|adrs|adss)\b(?!\s+(?:of|in)\b)", re.I), "stock-bare"),
    (
        # Descriptor words must be lower case: "the Hang Seng China Enterprises Index" is a name, not an anaphor.
        re.compile(
            r"\b[Tt]he\s+(?:[a-z][\w-]*\s+){0,2}?(?:[Ii]ndex|[Bb]enchmark(?:\s+index)?|[Gg]auge|[Aa]verage)\b"
        ),
        "index",
    ),
    # "Japan's benchmark index", "South Korea's main gauge"
    (
        re.compile(
            r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?'s\s+(?:[a-z][\w-]*\s+){0,2}?(?:index|benchmark(?:\s+index)?|gauge|"
            r"average)\b"
        ),
        "index",
    ),  # fmt: skip
)
_CLAUSE_START_RE = re.compile(
    r"(?:^\s*|[.!?;:,]\s|[;:]|\s-\s|\b(?i:and|but|while|when|with|as|after|before|because|though|although|then|"
    r"yet|so|sending|sent|sends|pushing|pushed|lifting|lifted|driving|drove|dragging|dragged|knocking|knocked|"
    r"taking|took)\s+)$"
)
_AUX = {"is", "are", "was", "were", "has", "have", "had"}

_GROUP_PLAIN_RE = re.compile(r"\s*(?:,\s*(?:(?i:and)\s+)?|(?i:and)\s+|&\s*|/\s*|or\s+)")
_GROUP_NAMES_RE = re.compile(
    r"(?:\s*(?:,|(?i:and)|&|/)\s*(?:(?i:and)\s+)?[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,2})+\s*(?:,\s*(?:(?i:and)\s+)?|(?i:and)\s+|&\s*|/\s*)"
)
_GROUP_PAREN_RE = re.compile(
    r"\s*[,.]?\s*(?:(?:Inc|Corp|Corporation|Co|Ltd|Limited|plc|Plc|PLC|Group|Holdings|Company|SA|NV|AG)\.?\s*)?"
    r"\(\s*(?:[A-Za-z]+\s*:\s*)?"
)
_OBJECT_WORDS = {
    "on", "in", "of", "for", "from", "to", "by", "at", "into", "over", "against", "about", "than", "behind", "vs",
    "versus", "vs.", "toward", "towards", "via", "per", "under", "above", "below", "lead", "leads", "led", "join",
    "joins", "joined", "joining", "beat", "beats", "top", "tops", "overtake", "overtakes", "overtook", "trail",
    "trails", "outperform", "outperforms", "underperform", "underperforms", "buy", "buys", "sell", "sells",
    "acquire", "acquires", "back", "backs", "invest", "invests", "said", "says", "say", "told", "tracking",
    "track", "tracks", "tracked", "unlike",
}  # fmt: skip
_SECURITY_OF_RE = re.compile(r"\b(?:shares|stock|adrs|adss)\s+(?:of|in)\s*$", re.I)
# A subject introduced by a forecaster's verb is an opinion about a move, not a move ("Citi sees X rising").
_OPINION_BEFORE = {
    "sees", "see", "saw", "expects", "expect", "expected", "forecasts", "forecast", "predicts", "predict", "tips",
    "tipped", "bets", "wagers", "reckons", "thinks", "believes", "projects", "warns", "could", "would", "may",
    "might", "will", "can", "should", "must",
}  # fmt: skip
_CAUSE_UP_RE = re.compile(r"\b(?:lift|lifts|lifted|lifting|boost|boosts|boosted|boosting|propel\w*|push(?:es|ed|ing)?|"
                          r"send(?:s|ing)?|sent|drive[sn]?|driving|drove|help(?:s|ed|ing)?)\s*$", re.I)  # fmt: skip
_CAUSE_DOWN_RE = re.compile(r"\b(?:drag\w*|pull\w*|knock\w*|weigh\w*|dent\w*|hit|hits|hitting|sink\w*|sank)\s*$",
                            re.I)  # fmt: skip
# "could send Hang Seng up 5%", "is set to push Nikkei to a record": the causation is not realized (§4).
_HYPO_BEFORE_CAUSE_RE = re.compile(
    r"\b(?:could|can|may|might|would|will|shall|should|set to|poised to|expected to|likely to|about to|"
    r"threatens? to|threatening to|seen|risks?)\s+(?:(?:help|helping)\s+)?$",
    re.I,
)
_MCAP_PREFIX_RE = re.compile(
    r"\b(?P<verb>wipe[sd]?|wiping|erase[sd]?|erasing|knock(?:s|ed|ing)?|shave[sd]?|shaving|slash(?:es|ed|ing)?|"
    r"strip(?:s|ped|ping)?|add(?:s|ed|ing)?)\s+(?:out\s+)?(?:about\s+|nearly\s+|more than\s+|over\s+|some\s+|"
    r"almost\s+|roughly\s+)?"
    + AMOUNT
    + r"\s+(?:(?:of|in)\s+market\s+value\s+)?(?:off|from|to)\s+(?:the\s+)?$",
    re.I,
)
_MV_TAIL_RE = re.compile(r"\s*(?:'s?\s+)?(?:combined\s+)?(?:" + MV + r")\b", re.I)
_CONDITIONAL_PREFIX_RE = re.compile(r"\b(?:if|unless|whether)\b[^;:]*$", re.I)
_OPENER_RE = re.compile(r"(?:^|[;:]\s*)([^;:,]{3,60}),\s*(?:the\s+)?$")
_PREFIX_WINDOW = 160
_LEADING_NAMES_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s:;(]))(?:[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,2}\s*(?:,\s*(?:(?i:and)\s+)?|\s+(?i:and)\s+|\s*&\s*))+$"
)
_NAME_SEP_RE = re.compile(r",\s*(?:(?i:and)\s+)?|\s+(?i:and)\s+|\s*&\s*")
_QUESTION_HYPO = {
    "is",
    "are",
    "will",
    "can",
    "could",
    "should",
    "would",
    "might",
    "may",
    "shall",
    "does",
    "do",
}


@dataclass(slots=True)
class _Subject:
    start: int
    end: int
    ticker: int  # index into the watchlist tickers
    text: str
    anaphor: bool = False


@dataclass(slots=True)
class _Found:
    """A statement attributed to one ticker, with where it was read."""

    order: tuple[int, int, int]
    statement: Statement
    where: Where
    sentence: str
    subject: str


def _split_sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        word = re.search(r"([\w.]+)$", text[start : m.start()])
        if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            continue
        spans.append((start, m.end()))
        start = m.end()
        while start < len(text) and text[start] == " ":
            start += 1
    if start < len(text):
        spans.append((start, len(text)))
    return spans


class Detector:
    """Big-move detector for one watchlist; build once, call ``detect`` per item (thread-safe, no state)."""

    def __init__(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self.matcher = AliasMatcher(watchlist)
        self._tickers = watchlist.tickers
        self._thresholds = [watchlist.threshold(t) for t in self._tickers]
        self._is_index = [t.kind == "index" for t in self._tickers]

    # ----------------------------------------------------------------------------------------------------
    def detect(self, title: str, summary: str = "") -> list[Move]:
        """The big moves the item states: at most one per symbol, in order of first mention."""
        return self._run(title, summary, None)

    def explain(self, title: str, summary: str = "") -> str:
        """A human-readable account of what the detector saw in the item and why it decided so."""
        trace: list[str] = []
        moves = self._run(title, summary, trace)
        lines = list(trace)
        lines.append("")
        if moves:
            lines.append("Result:")
            for mv in moves:
                pct = "null" if mv.pct is None else f"{mv.pct:g}%"
                lines.append(f"  {mv.symbol} {mv.direction} {pct}   [{mv.where}] {mv.evidence}")
        else:
            lines.append("Result: no big move reported.")
        return "\n".join(lines)

    # ----------------------------------------------------------------------------------------------------
    def _run(self, title: str, summary: str, trace: list[str] | None) -> list[Move]:
        parts: list[tuple[Where, str, list[Mention]]] = []
        any_mention = False
        sources: tuple[tuple[Where, str], ...] = (("title", title), ("summary", summary))
        for where, raw in sources:
            text = normalize_text(raw) if raw else ""
            mentions = self.matcher.find(text) if text else []
            any_mention = any_mention or bool(mentions)
            parts.append((where, text, mentions))
        if not any_mention:
            if trace is not None:
                trace.append("No watched alias is mentioned (after whole-word, case and exclude rules).")
            return []

        found: dict[int, list[_Found]] = {}
        first_seen: dict[int, int] = {}
        seen_counter = 0
        last_stock: int | None = None
        last_index: int | None = None
        for part_no, (where, text, mentions) in enumerate(parts):
            if not text:
                continue
            if trace is not None:
                trace.append(f"{where.upper()}: {text}")
                for m in mentions:
                    trace.append(
                        f"  alias {m.alias!r} at {m.start}-{m.end} -> {self._tickers[m.ticker].symbol}"
                    )
            low = _lower_same_length(text)
            anaphors = self._find_anaphors(text, low, mentions)
            mi = ai = 0  # mentions and anaphors are sorted: walk them alongside the sentences
            for s_start, s_end in _split_sentences(text):
                subjects: list[_Subject] = []
                while mi < len(mentions) and mentions[mi].start < s_end:
                    m = mentions[mi]
                    subjects.append(_Subject(m.start, m.end, m.ticker, m.alias))
                    mi += 1
                sentence_anaphors: list[tuple[int, int, str]] = []
                while ai < len(anaphors) and anaphors[ai][0] < s_end:
                    sentence_anaphors.append(anaphors[ai])
                    ai += 1
                if not subjects and not sentence_anaphors:
                    continue
                # Resolve anaphors in reading order against the nearest preceding mention (§3.3).
                items: list[tuple[int, int, str, int | None]] = [
                    (s.start, s.end, "m", s.ticker) for s in subjects
                ]
                items += [(a[0], a[1], a[2], None) for a in sentence_anaphors]
                items.sort()
                resolved: list[_Subject] = []
                for start, end, kind, tick in items:
                    if kind == "m":
                        assert tick is not None
                        if self._is_index[tick]:
                            last_index = tick
                        else:
                            last_stock = tick
                        resolved.append(_Subject(start, end, tick, text[start:end]))
                        if tick not in first_seen:
                            first_seen[tick] = seen_counter
                            seen_counter += 1
                    else:
                        ref = last_index if kind == "index" else last_stock
                        if ref is None:
                            if trace is not None:
                                trace.append(f"  anaphor {text[start:end]!r}: no antecedent, ignored")
                            continue
                        resolved.append(_Subject(start, end, ref, text[start:end], anaphor=True))
                        if trace is not None:
                            trace.append(
                                f"  anaphor {text[start:end]!r} -> {self._tickers[ref].symbol} (nearest preceding)"
                            )
                if resolved:
                    self._read_sentence(text, low, s_start, s_end, resolved, part_no, where, found, trace)

        moves: list[Move] = []
        for tick in sorted(found, key=lambda t: first_seen.get(t, 10**9)):
            move = self._decide(tick, found[tick], trace)
            if move is not None:
                moves.append(move)
        return moves

    # ----------------------------------------------------------------------------------------------------
    def _find_anaphors(self, text: str, low: str, mentions: list[Mention]) -> list[tuple[int, int, str]]:
        out: list[tuple[int, int, str]] = []
        # Cheap substring gates: most texts contain no security or index noun at all.
        has_security = any(k in low for k in ("share", "stock", "adr", "ads", "gdr"))
        has_index = any(k in low for k in ("index", "benchmark", "gauge", "average"))
        for regex, kind in _ANAPHOR_RES:
            if not (has_index if kind == "index" else has_security):
                continue
            for m in regex.finditer(text):
                start, end = (m.start(1), m.end(1)) if m.re.groups else (m.start(), m.end())
                if kind == "stock-bare":
                    if not _CLAUSE_START_RE.search(text, max(0, start - 24), start) and start > 0:
                        continue
                    kind = "stock"
                elif kind == "stock-of":
                    # Consume the descriptor ("the Chinese e-commerce giant") up to the verb.
                    pos = end
                    for _ in range(6):
                        w = re.match(r"([\w&'-]+)\s*", low[pos:])
                        if not w or w.group(1) in LEXICON or w.group(1) in _AUX:
                            break
                        pos += w.end()
                    end = pos
                    kind = "stock"
                if any(not (end <= mm.start or mm.end <= start) for mm in mentions):
                    continue
                if any(not (end <= a[0] or a[1] <= start) for a in out):
                    continue
                out.append((start, end, kind))
        out.sort()
        return out

    def _read_sentence(
        self,
        text: str,
        low: str,
        s_start: int,
        s_end: int,
        subjects: list[_Subject],
        part_no: int,
        where: Where,
        found: dict[int, list[_Found]],
        trace: list[str] | None,
    ) -> None:
        sentence = text[s_start:s_end]
        if trace is not None and (s_start > 0 or s_end < len(text)):
            trace.append(f"  sentence [{s_start}-{s_end}]: {sentence}")
        sentence_low = low[s_start:s_end]
        first_word = re.match(r"\W*(\w+)", sentence_low)
        question_hypo = sentence.rstrip().endswith("?") and bool(
            first_word and first_word.group(1) in _QUESTION_HYPO
        )

        # Group coordinated subjects ("Alibaba and JD.com", "Toyota, Honda, Nissan", "Baidu Inc (NASDAQ: BIDU)").
        groups: list[tuple[list[_Subject], int]] = []  # members, count of unwatched names among them
        for subj in subjects:
            if groups and not subj.anaphor and not groups[-1][0][-1].anaphor:
                prev = groups[-1][0][-1]
                between = text[prev.end : subj.start]
                if _GROUP_PLAIN_RE.fullmatch(between):
                    groups[-1][0].append(subj)
                    continue
                if _GROUP_NAMES_RE.fullmatch(between):
                    extra = len(re.findall(r",|\band\b|&|/", between)) - 1
                    members, n_extra = groups[-1]
                    # Record the unwatched names as placeholders so respectively-mapping counts them.
                    for _ in range(max(0, extra)):
                        members.append(_Subject(prev.end, prev.end, -1, "(unwatched)"))
                    members.append(subj)
                    groups[-1] = (members, n_extra + max(0, extra))
                    continue
                if _GROUP_PAREN_RE.fullmatch(between) and prev.ticker == subj.ticker:
                    # "Tencent (0700.HK)": the same ticker twice; keep one member.
                    groups[-1][0][-1] = _Subject(prev.start, subj.end, subj.ticker, prev.text)
                    continue
            groups.append(([subj], 0))

        last_dir: str | None = None
        for gi, (members, _n_extra) in enumerate(groups):
            first = next(m for m in members if m.ticker >= 0)
            last = members[-1]
            tail_end = groups[gi + 1][0][0].start if gi + 1 < len(groups) else s_end
            tail = text[last.end : tail_end]
            low_tail = low[last.end : tail_end]
            names = ", ".join(f"{m.text!r}" for m in members if m.ticker >= 0)
            # Only the words just before a subject matter (causative verb, preposition, "if ..."); a bounded
            # window keeps pathological texts with thousands of mentions linear.
            p_start = max(s_start, first.start - _PREFIX_WINDOW)
            prefix = low[p_start : first.start]
            prefix_orig = text[p_start : first.start]
            watched = [m for m in members if m.ticker >= 0]

            # Market value wiped off / added to named companies (§6.5): "wipe $80 billion off Tencent".
            mcap = _MCAP_PREFIX_RE.search(prefix_orig)
            if mcap and _MV_TAIL_RE.match(tail):
                d: Direction = "up" if mcap.group("verb").lower().startswith("add") else "down"
                for m in watched:
                    st = Statement(
                        d, None, True, "mcap", mcap.group(0).strip() + " " + m.text + " market value"
                    )
                    self._add(found, m.ticker, st, part_no, first.start, 0, where, sentence, m.text)
                if trace is not None:
                    trace.append(f"  {names}: market value change {mcap.group(0).strip()!r} -> strong {d}")
                continue

            prev_word = re.search(r"([\w.$-]+)\W*$", prefix)
            if prev_word and prev_word.group(1) in _OBJECT_WORDS and not _SECURITY_OF_RE.search(prefix):
                if trace is not None:
                    trace.append(f"  {names}: object of {prev_word.group(1)!r}, not the mover (§3.4)")
                continue

            inherited = last_dir
            cause = _CAUSE_DOWN_RE.search(prefix)
            if cause:
                inherited = "down"
            else:
                cause = _CAUSE_UP_RE.search(prefix)
                if cause:
                    inherited = "up"
            pred = read_predicate(tail, low_tail, inherited, sentence_low, causative=cause is not None)
            if pred.rejected and not pred.statements:
                if trace is not None:
                    trace.append(f"  {names}: {pred.rejected}")
                continue
            hypothetical = ""
            cond = _CONDITIONAL_PREFIX_RE.search(prefix)
            if cond:
                hypothetical = f"hypothetical: {cond.group(0)[:30]!r}"
            elif prev_word and prev_word.group(1) in _OPINION_BEFORE:
                hypothetical = f"hypothetical: opinion/forecast {prev_word.group(1)!r}"
            elif cause and (hypo := _HYPO_BEFORE_CAUSE_RE.search(prefix, 0, cause.start())):
                hypothetical = f"hypothetical: {hypo.group(0).strip()!r} {cause.group(0).strip()!r}"
            # A sentence-initial time adverbial ("So far this year, X has gained 70%") scopes the clause.
            window = ""
            opener = _OPENER_RE.search(prefix) if p_start == s_start else None
            if opener and "%" not in opener.group(1):
                window = window_reason(opener.group(1), sentence_low)
            # Unwatched names in the coordination count for respectively-mapping ("Honda and Toyota rise 3%
            # and 6%": Toyota is the second).
            leading = _LEADING_NAMES_RE.search(prefix_orig)
            lead_n = len(_NAME_SEP_RE.findall(leading.group(0))) if leading else 0
            k = lead_n + len(members) + pred.coord_names
            for j0, m in enumerate(members):
                if m.ticker < 0:
                    continue
                j = lead_n + j0
                for idx, st0 in enumerate(pred.statements):
                    if k >= 2 and st0.kind == "size" and st0.list_len == k and st0.list_index != j:
                        continue  # respectively / paired lists map in order (§3.2)
                    st = Statement(st0.direction, st0.pct, st0.strong, st0.kind, st0.evidence, st0.eligible,
                                   st0.reason, st0.list_index, st0.list_len)  # fmt: skip
                    if question_hypo and st.eligible:
                        st.eligible, st.reason = False, "hypothetical: a question about a possible move"
                    elif hypothetical and st.eligible:
                        st.eligible, st.reason = False, hypothetical
                    elif window and st.eligible:
                        st.eligible, st.reason = False, window
                    self._add(found, m.ticker, st, part_no, first.start, idx, where, sentence, m.text)
                    if trace is not None:
                        self._trace_statement(trace, m, st)
            dirs = [st.direction for st in pred.statements if st.direction]
            if dirs:
                last_dir = dirs[-1]

    def _trace_statement(self, trace: list[str], m: _Subject, st: Statement) -> None:
        sym = self._tickers[m.ticker].symbol
        size = f"{st.pct:g}%" if st.pct is not None else "no size"
        strength = "strong" if st.strong else "mild"
        status = "eligible" if st.eligible else f"REJECTED ({st.reason})"
        via = f" via anaphor {m.text!r}" if m.anaphor else f" via {m.text!r}"
        trace.append(
            f"  {sym}{via}: {st.kind} {st.direction or '?'} {size} [{strength}] {st.evidence!r} -> {status}"
        )

    @staticmethod
    def _add(
        found: dict[int, list[_Found]],
        tick: int,
        st: Statement,
        part_no: int,
        offset: int,
        idx: int,
        where: Where,
        sentence: str,
        subject: str,
    ) -> None:
        found.setdefault(tick, []).append(_Found((part_no, offset, idx), st, where, sentence, subject))

    def _decide(self, tick: int, items: list[_Found], trace: list[str] | None) -> Move | None:
        ticker = self._tickers[tick]
        threshold = self._thresholds[tick]
        items = sorted(items, key=lambda f: f.order)
        eligible = [f for f in items if f.statement.eligible and f.statement.direction in ("up", "down")]
        sized = [f for f in eligible if f.statement.pct is not None]
        decision: Move | None = None
        why = ""
        if sized:
            for f in sized:
                assert f.statement.pct is not None
                if f.statement.pct >= threshold - 1e-9:
                    decision = self._move(ticker.symbol, f, f.statement.pct)
                    why = f"first size >= threshold {threshold:g}%: {f.statement.evidence!r}"
                    break
            else:
                sizes = ", ".join(f"{f.statement.pct:g}%" for f in sized)
                why = f"below threshold {threshold:g}% (sizes {sizes}); a stated size overrides strong words"
        else:
            strong = [f for f in eligible if f.statement.strong]
            if strong:
                decision = self._move(ticker.symbol, strong[0], None)
                why = f"no eligible size; strong {strong[0].statement.kind} {strong[0].statement.evidence!r}"
            else:
                why = "no eligible size and no strong move word"
        if trace is not None:
            verdict = (
                f"{decision.direction} {'null' if decision.pct is None else f'{decision.pct:g}%'}"
                if decision
                else "not reported"
            )
            trace.append(f"Decision {ticker.symbol}: {verdict} - {why}")
        return decision

    @staticmethod
    def _move(symbol: str, f: _Found, pct: float | None) -> Move:
        direction: Direction = "up" if f.statement.direction == "up" else "down"
        return Move(symbol=symbol, direction=direction, pct=pct, evidence=f.sentence, where=f.where)


# ---------------------------------------------------------------------------------------------------------
# One encoder for the stream: json.dumps with keyword arguments builds a new encoder on every call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def stream_jsonl(detector: Detector, lines: Iterable[str], out: TextIO) -> int:
    """Run the detector over JSON lines ``{"id","title","summary"}``; one output line per input, flushed.

    A line that cannot be used yields ``{"id": null, "error": "line N: reason"}`` instead of stopping the
    stream. Returns the number of such error lines.
    """
    errors = 0
    for lineno, line in enumerate(lines, 1):
        result: dict[str, object]
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
            title = obj.get("title")
            summary = obj.get("summary") or ""
            if not isinstance(title, str):
                raise ValueError("'title' must be a string")
            if not isinstance(summary, str):
                raise ValueError("'summary' must be a string or null")
            moves = detector.detect(title, summary)
            result = {
                "id": obj.get("id"),
                "moves": [{"symbol": m.symbol, "direction": m.direction, "pct": m.pct} for m in moves],
            }
        except json.JSONDecodeError as exc:
            errors += 1
            result = {"id": None, "error": f"line {lineno}: invalid JSON: {exc.msg} (column {exc.colno})"}
        except ValueError as exc:
            errors += 1
            result = {"id": None, "error": f"line {lineno}: {exc}"}
        except Exception as exc:  # noqa: BLE001 - one bad item must not stop the stream
            log.exception("detector failed on line %d", lineno)
            errors += 1
            result = {"id": None, "error": f"line {lineno}: internal error: {type(exc).__name__}"}
        out.write(_ENCODE(result) + "\n")
        out.flush()
    return errors
