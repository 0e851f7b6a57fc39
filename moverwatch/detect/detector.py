"""Big-move detector: which watched tickers a news item says made a big price move (LABELING.md §8).

Steps per item (title, then summary); each lives in its own module and each logs its decision to ``explain``:

1. mentions (§2): normalise and find alias mentions in one automaton pass (``aliases``); nothing else runs
   when no alias matched (most items);
2. sentences: split each text (``sentences``);
3. anaphora (§3.3): find ``its shares`` / ``the stock`` / ``the index`` and resolve each to the nearest
   preceding antecedent, with blocking (``anaphora``);
4. subjects (§3.1, §3.2, §3.4): brackets belong to their mention, coordinated names form groups, the words
   before a group give its context (object of, causative, hypothetical, opener) (``subjects``);
5. predicate (§4, §6): read the words after the group into move statements (``grammar``, ``statements``),
   each with its time window (§5, ``window``);
6. decision (§6.2, §7, §8): per ticker, the first size at or above its threshold, else the first strong
   statement with pct null (``decide``).

``stream_jsonl`` implements the ``moverwatch detect`` contract (DESIGN.md "Detection").
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import TextIO

from moverwatch.detect.aliases import AliasMatcher, Excluded, Mention, _lower_same_length, normalize_text
from moverwatch.detect.anaphora import Resolver, Subject, find_anaphors, is_company_block
from moverwatch.detect.decide import Found, decide
from moverwatch.detect.grammar import read_predicate
from moverwatch.detect.sentences import split_sentences
from moverwatch.detect.statements import Statement
from moverwatch.detect.subjects import (
    attach_brackets,
    attribute,
    group_subjects,
    predicate_span,
    read_context,
)
from moverwatch.models import Move, Where
from moverwatch.watchlist import Watchlist

log = logging.getLogger(__name__)

_FIRST_WORD_RE = re.compile(r"\W*(\w+)")
# "Is X about to crash?", "Will X double?": a question about a possible move (§4); "Why did X plunge?" counts.
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


_NOTHING: tuple[list[Mention], list[Excluded]] = ([], [])


class Detector:
    """Big-move detector for one watchlist; build once, call ``detect`` per item (thread-safe, no state)."""

    def __init__(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self.matcher = AliasMatcher(watchlist)
        self._tickers = watchlist.tickers
        self._symbols = [t.symbol for t in self._tickers]
        self._thresholds = [watchlist.threshold(t) for t in self._tickers]
        self._is_index = [t.kind == "index" for t in self._tickers]

    # ----------------------------------------------------------------------------------------------------
    def detect(self, title: str, summary: str = "") -> list[Move]:
        """The big moves the item states: at most one per symbol, in order of first mention."""
        return self._run(title, summary, None)

    def explain(self, title: str, summary: str = "") -> str:
        """A human-readable account of each step's decision on the item (same analysis as ``detect``)."""
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
        # Step 1 (mentions, §2) runs on every item: keep it to two scans and no allocation when nothing matched.
        t_text = normalize_text(title) if title else ""
        s_text = normalize_text(summary) if summary else ""
        t_mentions, t_excluded = self.matcher.scan(t_text) if t_text else _NOTHING
        s_mentions, s_excluded = self.matcher.scan(s_text) if s_text else _NOTHING
        if not t_mentions and not s_mentions:
            if trace is not None:
                trace.append(
                    "[mentions] No watched alias is mentioned (after whole-word, case and exclude rules)."
                )
            return []

        parts: tuple[tuple[Where, str, list[Mention], list[Excluded]], ...] = (
            ("title", t_text, t_mentions, t_excluded),
            ("summary", s_text, s_mentions, s_excluded),
        )
        found: dict[int, list[Found]] = {}
        first_seen: dict[int, int] = {}
        resolver = Resolver(self._is_index, self._symbols)
        for part_no, (where, text, mentions, excluded) in enumerate(parts):
            if not text:
                continue
            blockers = [b for b in excluded if is_company_block(text, b)]
            if trace is not None:
                self._trace_mentions(trace, where, text, mentions, blockers)
            for m in mentions:
                first_seen.setdefault(m.ticker, len(first_seen))
            low = _lower_same_length(text)
            anaphors = find_anaphors(text, low, mentions)
            mi = ai = bi = 0  # mentions, anaphors and blockers are sorted: walk them alongside the sentences
            for s_start, s_end in split_sentences(text):
                mi2, ai2, bi2 = mi, ai, bi
                while mi2 < len(mentions) and mentions[mi2].start < s_end:
                    mi2 += 1
                while ai2 < len(anaphors) and anaphors[ai2].start < s_end:
                    ai2 += 1
                while bi2 < len(blockers) and blockers[bi2].start < s_end:
                    bi2 += 1
                if mi2 == mi and ai2 == ai and bi2 == bi:
                    continue
                subjects = resolver.resolve(text, mentions[mi:mi2], anaphors[ai:ai2], blockers[bi:bi2], trace)
                mi, ai, bi = mi2, ai2, bi2
                if subjects:
                    for f in self._read_sentence(text, low, s_start, s_end, subjects, part_no, where, trace):
                        found.setdefault(f[0], []).append(f[1])

        moves: list[Move] = []
        for tick in sorted(found, key=lambda t: first_seen.get(t, 10**9)):
            move, why = decide(self._symbols[tick], self._thresholds[tick], found[tick])
            if trace is not None:
                verdict = (
                    f"{move.direction} {'null' if move.pct is None else f'{move.pct:g}%'}"
                    if move
                    else "not reported"
                )
                trace.append(f"[decision] Decision {self._symbols[tick]}: {verdict} - {why}")
            if move is not None:
                moves.append(move)
        return moves

    def _trace_mentions(
        self, trace: list[str], where: str, text: str, mentions: list[Mention], blockers: list[Excluded]
    ) -> None:
        trace.append(f"{where.upper()}: {text}")
        for m in mentions:
            trace.append(f"  [mentions] alias {m.alias!r} at {m.start}-{m.end} -> {self._symbols[m.ticker]}")
        for b in blockers:
            trace.append(
                f"  [mentions] {text[b.start : b.end]!r} is another company (exclude of {self._symbols[b.ticker]})"
            )

    def _read_sentence(
        self,
        text: str,
        low: str,
        s_start: int,
        s_end: int,
        subjects: list[Subject],
        part_no: int,
        where: Where,
        trace: list[str] | None,
    ) -> list[tuple[int, Found]]:
        """The statements of one sentence attributed to tickers: subjects -> groups -> context -> predicate."""
        sentence = text[s_start:s_end]
        if trace is not None and (s_start > 0 or s_end < len(text)):
            trace.append(f"  [sentences] [{s_start}-{s_end}]: {sentence}")
        sentence_low = low[s_start:s_end]
        first_word = _FIRST_WORD_RE.match(sentence_low)
        question = ""
        if sentence.rstrip().endswith("?") and first_word and first_word.group(1) in _QUESTION_HYPO:
            question = "hypothetical: a question about a possible move"
        out: list[tuple[int, Found]] = []
        groups = group_subjects(text, attach_brackets(text, subjects, trace))
        last_dir: str | None = None
        for gi, members in enumerate(groups):
            first = next(m for m in members if m.ticker >= 0)
            span = predicate_span(text, groups, gi, s_end)
            if trace is not None and span.start != members[-1].end:
                skipped = text[members[-1].end : span.start]
                trace.append(f"  [subjects] {members[0].text!r}: appositive {skipped!r} skipped")
            tail, low_tail = text[span.start : span.end], low[span.start : span.end]
            names = ", ".join(f"{m.text!r}" for m in members if m.ticker >= 0)
            ctx = read_context(text, low, s_start, first, tail, sentence_low)
            if ctx.mcap_dir is not None:
                for m in members:
                    if m.ticker >= 0:
                        kind = "mcap" if ctx.mcap_pct is None else "size"
                        evidence = f"{ctx.mcap_evidence} {m.text} market value"
                        st = Statement(ctx.mcap_dir, ctx.mcap_pct, True, kind, evidence)
                        out.append((m.ticker, Found((part_no, first.start, 0), st, where, sentence, m.text)))
                if trace is not None:
                    trace.append(
                        f"  [subjects] {names}: market value change {ctx.mcap_evidence!r} -> strong {ctx.mcap_dir}"
                    )
                continue
            if ctx.object_of:
                if trace is not None:
                    trace.append(f"  [subjects] {names}: object of {ctx.object_of!r}, not the mover (§3.4)")
                continue
            inherited = ctx.cause_dir or last_dir
            pred = read_predicate(tail, low_tail, inherited, sentence_low, ctx.causative, span.object_follows)
            if pred.rejected and not pred.statements:
                if trace is not None:
                    trace.append(f"  [predicate] {names}: {pred.rejected}")
                continue
            for m, idx, st in attribute(members, pred, ctx, question):
                out.append((m.ticker, Found((part_no, first.start, idx), st, where, sentence, m.text)))
                if trace is not None:
                    self._trace_statement(trace, m, st)
            dirs = [st.direction for st in pred.statements if st.direction]
            if dirs:
                last_dir = dirs[-1]
        return out

    def _trace_statement(self, trace: list[str], m: Subject, st: Statement) -> None:
        size = f"{st.pct:g}%" if st.pct is not None else "no size"
        strength = "strong" if st.strong else "mild"
        status = "eligible" if st.eligible else f"REJECTED ({st.reason})"
        via = f" via anaphor {m.text!r}" if m.anaphor else f" via {m.text!r}"
        trace.append(
            f"  [statement] {self._symbols[m.ticker]}{via}: {st.kind} {st.direction or '?'} {size} [{strength}] "
            f"{st.evidence!r} -> {status}"
        )


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
