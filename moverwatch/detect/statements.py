"""Read the move statements of a predicate region (LABELING §6, §7)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from moverwatch.detect.lexicon import (
    ARRIVAL,
    CLOSING_AT,
    COMPOUND_NOUN_RE,
    LEAD_WORDS,
    LEXICON,
    LIGHT_VERBS,
    MV,
    NONPRICE,
    RECORD_MOVE_RE,
    TOKEN_RE,
    num,
)
from moverwatch.detect.window import scope_end, window_reason

_ADJ_BEFORE_NOUN = re.compile(
    r"^\s*(?:(?:one-day|single-day|two-day|three-day|daily|weekly|intraday|session|overnight|premarket|"
    r"pre-market|after-hours|\w+-session|\w+-day|early|earlier|initial|opening|morning|afternoon|late|"
    r"sharp|steep|big|huge|massive|surprise)\s+){0,2}$"
)

# "25% auto tariffs", "5% of workforce", "6.6% discount": the number measures that noun, not the price.
_SIZE_OF_OTHER_RE = re.compile(
    r"\s*\)?\s*(?:of\s+(?:its\s+|the\s+)?)?(?:(?!(?:on|after|as|in|amid|with|for|from|to|at|by|and|but|while)\b)"
    r"[\w-]+\s+){0,2}?(?:" + NONPRICE + r")\b"
)

_PARTICLE_AFTER_RE = re.compile(r"\s+(up|down|higher|lower)\b(?!\s+to\b)")
_TO_LEVEL_RE = re.compile(r"(?<!up )\bto\s*(?:(?:below|above|about|around|just|nearly|over|under)\s*)?$")
_POINTS_AFTER_RE = re.compile(r"\s*(?:percentage|basis)?\s*points?\b")
_LIST_SEP_RE = re.compile(r"\s*(?:,|and|&|, and)\s*")
_ARRIVAL_END_RE = re.compile(r"\b(?:" + ARRIVAL + r"|" + CLOSING_AT + r")\s*$")
_TO_END_RE = re.compile(r"\bto\s*$")
_LOW_RE = re.compile(r"\blow|\blowest|\bbottom")
_MV_AFTER_RE = re.compile(r"\s*(?:(?:in|of|off|from|to)\s+(?:its\s+|their\s+)?)?(?:" + MV + r")\b")
_AMOUNT_LEVEL_RE = re.compile(r"\b(?:to|above|past|over|beyond|at|near|below|under|beneath|through)\s*$")

_IN_NONPRICE_RE = re.compile(r"\s+(?:in|of)\s+(?:[\w-]+\s+)?(?:" + NONPRICE + r")\b")


@dataclass(slots=True)
class Statement:
    """One move statement read from a predicate; ``pct`` None = wordy (strong/mild word, milestone...)."""

    direction: str | None
    pct: float | None
    strong: bool
    kind: str  # size | multiple | word | milestone | limit | superlative | mcap
    evidence: str
    eligible: bool = True
    reason: str = ""
    # index of the size inside a list of sizes ("fall 5%, 7% and 4%"): used for respectively-mapping
    list_index: int = -1
    list_len: int = 0


def interpret(
    region: str,
    orig: str,
    pos: int,
    inherited: str | None,
    mv: bool,
    sentence_low: str,
    causative: bool = False,
) -> list[Statement]:
    tokens = [m for m in TOKEN_RE.finditer(region, pos)]
    phrase_dir: str | None = None  # direction of the current verb phrase
    phrase_start = pos
    phrase_has_verb = False
    phrase_sized = False
    phrase_strong = False
    phrase_word = ""
    pending_word: Statement | None = None
    sized: list[tuple[Statement, int, int]] = []  # statement, start, end in region
    statements: list[tuple[int, Statement]] = []  # (region offset, statement)
    anchors: dict[int, int] = {}  # size offset -> start of its noun/verb phrase ("loss of 30%": "loss")
    saw_move_verb = False

    def flush_word() -> None:
        nonlocal pending_word
        if pending_word is not None and not phrase_sized:
            statements.append((phrase_start, pending_word))
        pending_word = None

    i = 0
    while i < len(tokens):
        t = tokens[i]
        kind = t.lastgroup
        text = t.group(0)
        if kind == "word":
            w = t.group("word")
            if w in LEXICON and not COMPOUND_NOUN_RE.match(region, t.end()):
                d, strong = LEXICON[w]
                # A noun right after a size gives that size its direction ("a 15% weekly gain").
                if sized and _ADJ_BEFORE_NOUN.match(region[sized[-1][2] : t.start()]):
                    for st, _s, _e in sized:
                        if st.direction is None or st.reason == "dir-from-verb":
                            st.direction = d
                            st.reason = ""
                    i += 1
                    continue
                flush_word()
                sized = []
                phrase_start = t.start()
                phrase_has_verb = True
                phrase_sized = False
                saw_move_verb = True
                m_part = _PARTICLE_AFTER_RE.match(region, t.end())
                if m_part:
                    d = "up" if m_part.group(1) in ("up", "higher") else "down"
                    if w in ("give", "gives", "gave", "given", "giving") and m_part.group(1) == "up":
                        d = "down"
                    i += 1  # skip the particle token
                phrase_dir = d
                phrase_strong = strong
                phrase_word = w
                if d is not None:
                    pending_word = Statement(d, None, strong, "word", text)
                    if not strong:
                        pending_word.eligible = False
                        pending_word.reason = f"mild word {w!r} without a size"
            elif w in LEAD_WORDS or w in LIGHT_VERBS:
                # A light verb ("posts", "closes") opens a phrase whose direction comes from what follows.
                flush_word()
                sized = []
                phrase_start = t.start()
                phrase_dir = None
                phrase_has_verb = False
                phrase_sized = False
            i += 1
            continue
        if kind == "particle":
            d = "up" if text in ("up", "higher") else "down"
            if sized and not region[sized[-1][2] : t.start()].strip():
                for st, _s, _e in sized:
                    if st.reason == "dir-from-verb" or st.direction is None:
                        st.direction = d
                        st.reason = ""
            else:
                flush_word()
                sized = []
                phrase_start = t.start()
                phrase_dir = d
                phrase_has_verb = True
                phrase_sized = False
                pending_word = Statement(
                    d, None, False, "word", text, False, f"mild word {text!r} without a size"
                )
            i += 1
            continue
        if kind == "pct":
            before = region[max(0, t.start() - 25) : t.start()]
            after = region[t.end() : t.end() + 40]
            if _TO_LEVEL_RE.search(before):
                i += 1  # "to 40%": a level, not a change
                continue
            if _SIZE_OF_OTHER_RE.match(after) or _POINTS_AFTER_RE.match(after):
                i += 1  # a number about something else ("25% auto tariffs", "at a 6.6% discount")
                continue
            sign = t.group("sign")
            value = num(t.group("num"))
            if sign:
                d2: str | None = "up" if sign == "+" else "down"
                why = ""
            elif phrase_dir is not None:
                d2, why = phrase_dir, "dir-from-verb"
            elif not phrase_has_verb and not saw_move_verb:
                d2, why = inherited, "dir-from-verb"
            else:
                d2, why = None, ""
            evidence = (
                orig[phrase_start : t.end()].strip() if phrase_has_verb else orig[t.start() : t.end()].strip()
            )
            st = Statement(d2, value, phrase_strong, "size", evidence[-60:], reason=why)
            # Sizes joined by ",", "and" form a list ("fall 5%, 7% and 4%").
            if sized and _LIST_SEP_RE.fullmatch(region, sized[-1][2], t.start()):
                sized.append((st, t.start(), t.end()))
            else:
                sized = [(st, t.start(), t.end())]
            phrase_sized = True
            pending_word = None
            if phrase_has_verb and (not statements or statements[-1][0] < phrase_start):
                anchors[t.start()] = phrase_start  # the verb/noun opening this size's own phrase
            statements.append((t.start(), st))
            i += 1
            continue
        if kind == "mult":
            m = t.group("mult")
            value = 100.0 if m.startswith("doubl") else 200.0 if m.startswith("tripl") else 300.0
            d3 = "up"
            if m.startswith("halv"):
                value, d3 = 50.0, "down"
            st = Statement(d3, value, True, "multiple", text)
            statements.append((t.start(), st))
            sized = [(st, t.start(), t.end())]
            phrase_sized = True
            pending_word = None
            i += 1
            continue
        if kind == "points":
            if pending_word is not None:
                pending_word.evidence += f" {text} (points are no size)"
            i += 1
            continue
        if kind == "limit":
            d4 = "up" if ("up" in text or "upper" in text) else "down"
            statements.append((t.start(), Statement(d4, None, True, "limit", text)))
            i += 1
            continue
        if kind == "ddigit":
            noun = t.group("ddnoun")
            if noun in LEXICON and LEXICON[noun][0]:
                statements.append((t.start(), Statement(LEXICON[noun][0], None, True, "word", text)))
            i += 1
            continue
        if kind == "super":
            noun = t.group("supnoun")
            lead = text.split()[0]
            d5: str | None
            if lead in ("best", "strongest"):
                d5 = "up"
            elif lead in ("worst", "weakest", "heaviest", "deepest"):
                d5 = "down"
            else:
                d5 = LEXICON.get(noun, (None, False))[0] or phrase_dir
            if d5 is not None:
                statements.append((t.start(), Statement(d5, None, True, "superlative", text)))
            i += 1
            continue
        if kind == "most":
            if phrase_dir is not None:
                statements.append((t.start(), Statement(phrase_dir, None, True, "superlative", text)))
            i += 1
            continue
        if kind == "milestone" and is_record_move(t, region):
            rec = RECORD_MOVE_RE.match(region, t.end())
            assert rec is not None
            if not _IN_NONPRICE_RE.match(region, rec.end()):
                d6 = LEXICON[rec.group("rdnoun")][0]
                evidence = region[t.start() : rec.end()].strip()
                statements.append((t.start(), Statement(d6, None, True, "superlative", evidence)))
            while i < len(tokens) and tokens[i].start() < rec.end():
                i += 1
            continue
        if kind == "milestone":
            before = region[: t.start()]
            arrival = bool(_ARRIVAL_END_RE.search(before)) or (
                (saw_move_verb or causative) and bool(_TO_END_RE.search(before))
            )
            low_high = "down" if _LOW_RE.search(text) else "up"
            if arrival:
                statements.append((t.start(), Statement(low_high, None, True, "milestone", text.strip())))
            else:
                statements.append(
                    (
                        t.start(),
                        Statement(
                            low_high, None, False, "milestone", text.strip(), False,
                            "milestone without an arrival verb (a level, not a move)",
                        ),
                    )
                )  # fmt: skip
            i += 1
            continue
        if kind == "amount":
            before = region[max(0, t.start() - 15) : t.start()]
            after = region[t.end() : t.end() + 40]
            is_mv = mv or bool(_MV_AFTER_RE.match(after))
            level = _AMOUNT_LEVEL_RE.search(before)
            if is_mv and level and pending_word is not None:
                # "market value jumps to $5 trillion": a level reached, not a change (§4, §6.5).
                pending_word.eligible = False
                pending_word.reason = "market-value level, not a change"
            if is_mv and phrase_dir is not None and not level:
                statements.append(
                    (
                        t.start(),
                        Statement(phrase_dir, None, True, "mcap", f"{phrase_word} {text} market value"),
                    )
                )
                pending_word = None
                phrase_sized = True
            i += 1
            continue
        if kind == "nonprice":
            # "rises 2% and revenue jumps 30%": what follows is about the other quantity.
            break
        i += 1
    if pending_word is not None and not phrase_sized:
        statements.append((phrase_start, pending_word))
    statements.sort(key=lambda p: p[0])
    # Time window (§5) of each statement: from its own text up to the next statement.
    # A milestone or superlative inside a scope describes the move ("falls 10% from its record high"), so it
    # does not end the scope of the statement before it.
    # A W2 marker belongs to the statement it qualifies (§5 "unless a W2 marker applies to it"): one in a
    # following participle clause or premodifying the next move noun is carried over to that statement.
    offsets = [p[0] for p in statements]
    kinds = [p[1].kind for p in statements]
    carried: dict[int, str] = {}
    out: list[Statement] = []
    for k, (off, st) in enumerate(statements):
        nxt = len(region)
        k_next = -1
        for k2 in range(k + 1, len(offsets)):
            if offsets[k2] > off and kinds[k2] not in ("milestone", "superlative"):
                nxt = offsets[k2]
                k_next = k2
                break
        cut, carry = scope_end(region, off, nxt, anchors.get(nxt, nxt), k_next >= 0)
        if carry < nxt and k_next >= 0:
            carried[k_next] = region[carry:nxt]
        scope = carried.get(k, "") + region[off:cut]
        if st.kind == "size" and st.direction is None:
            st.eligible = False
            st.reason = "size without a direction"
        if st.reason == "dir-from-verb":
            st.reason = ""
        why = window_reason(scope, sentence_low)
        if why:
            st.eligible = False
            st.reason = why
        out.append(st)
    _mark_lists(region, statements)
    return out


def is_record_move(tok: re.Match[str], region: str) -> bool:
    """A bare "record" followed by a one-session move noun: "record one-day drop" (§6.3 superlative)."""
    return tok.group(0).endswith("record") and RECORD_MOVE_RE.match(region, tok.end()) is not None


def _mark_lists(region: str, statements: list[tuple[int, Statement]]) -> None:
    sizes = [(off, st) for off, st in statements if st.kind == "size"]
    groups: list[list[Statement]] = []
    prev_end = -1
    for off, st in sizes:
        if groups and prev_end >= 0 and _LIST_SEP_RE.fullmatch(region, prev_end, off):
            groups[-1].append(st)
        else:
            groups.append([st])
        m = TOKEN_RE.match(region, off)
        prev_end = m.end() if m else off
    for g in groups:
        for idx, st in enumerate(g):
            st.list_index = idx
            st.list_len = len(g)
