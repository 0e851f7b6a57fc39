"""Read the move statements of a predicate region (LABELING §6.1, §6.3-§6.5, §7), then their window (§5).

:class:`_Reader` walks the lexer's tokens with one handler per token kind (a size, a move word, a particle,
a multiple, a milestone, a superlative, a market-value amount...), each handler a LABELING rule with its
section in the docstring. :func:`apply_windows` then gives every statement its time-window eligibility from
its own scope, and the hypothetical markers (``set to``) their scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
    NUMBER_WORDS,
    RECORD_MOVE_RE,
    TOKEN_RE,
    UP_PARTICLES,
    WORD_PCT_RE,
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
    # "a 33 pct surge in first-quarter profit": the move noun measures the other quantity
    r"|\s*(?:[\w-]+\s+)?(?:surge|jump|rise|gain|drop|fall|decline|increase|decrease|growth|slump|plunge|rebound|"
    r"climb|slide)s?\s+(?:in|of)\s+(?:(?!(?:on|after|as|in|amid|with|for|from|to|at|by|and|but|while)\b)"
    r"[\w-]+\s+){0,3}?(?:" + NONPRICE + r")\b"
)

# A move verb with a market as its direct object is transitive: "Alibaba, Tencent sink Hong Kong stocks".
_TRANSITIVE_OBJECT_RE = re.compile(
    r"\s+(?:the\s+)?(?:(?!(?:on|in|at|to|by|as|after|for|from|with|over|past|amid|into|and|but|leads?|led|leading|"
    r"lifts?|lifted|drives?|drove|push(?:es|ed)?|sends?|sent|drags?|dragged|helps?|helped|takes?|took|boosts?|"
    r"weighs?|pulls?|hits?)\b)[a-z&.'-]+\s+){0,3}?"
    r"(?:stocks|equities|markets?|indexes|indices|benchmarks?|gauges?|sectors?|bourses?|peers)\b"
)
_PARTICLE_AFTER_RE = re.compile(r"\s+(up|down|higher|lower|weaker|stronger|firmer)\b(?!\s+to\b)")
_TO_LEVEL_RE = re.compile(r"(?<!up )\bto\s*(?:(?:below|above|about|around|just|nearly|over|under)\s*)?$")
_POINTS_AFTER_RE = re.compile(r"\s*(?:percentage|basis)?\s*points?\b")
_LIST_SEP_RE = re.compile(r"\s*(?:,|and|&|, and)\s*")
_ARRIVAL_END_RE = re.compile(r"\b(?:" + ARRIVAL + r"|" + CLOSING_AT + r")\s*$")
_TO_END_RE = re.compile(r"\bto\s*$")
_LOW_RE = re.compile(r"\blow|\blowest|\bbottom")
_MV_AFTER_RE = re.compile(r"\s*(?:(?:in|of|off|from|to)\s+(?:its\s+|their\s+)?)?(?:" + MV + r")\b")
_AMOUNT_LEVEL_RE = re.compile(r"\b(?:to|above|past|over|beyond|at|near|below|under|beneath|through)\s*$")

# §6.5 "$90 billion erased from its value", "$120 billion wiped off its market value", "$70 billion added to".
_MV_PARTICIPLE_RE = re.compile(
    r"\s+(?:(?:being|been)\s+)?(?P<v>wiped|erased|knocked|shaved|stripped|slashed|lost|added|gained)\s+"
    r"(?:out\s+)?(?:off|from|to|of|in)?\s*(?:its|their|the company's|the group's|the)?\s*(?:combined\s+)?"
    r"(?:" + MV + r")\b"
)
# "Xiaomi's $60 billion rally", "a $40 billion selloff": a move noun after the amount (not "loss": net loss)
_MV_NOUN_RE = re.compile(
    r"\s+(?:(?:one-day|single-day|two-day|weekly|intraday|stock|share|market)\s+)?(?P<n>rally|rallies|surge|jump|"
    r"rebound|selloff|sell-off|rout|slump|plunge|tumble|crash|wipeout|slide|decline|drop)\b"
)
_FRACTIONS = {"tenth": 10.0, "fifth": 20.0, "quarter": 25.0, "third": 33.3, "half": 50.0}
_SESSION_AFTER_RE = re.compile(
    r"(?:(?<=illion)|(?<=bn)|(?<=tn))\s+(?:in (?:a|one) (?:single )?(?:day|session)|in a single trading day|overnight|"
    r"in (?:early|late) trad(?:e|ing))\b"
)
_VALUE_UP = {"added", "gained", "rally", "rallies", "surge", "jump", "rebound"}
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


class _Reader:
    """Reads one predicate region token by token: one handler per token kind, the open phrase in fields.

    A *phrase* is opened by a move verb or noun (``jumps``, ``a 6% drop``), a particle (``up``) or a light
    verb (``closes``, ``posts``); sizes inside it take its direction. A mild or strong word without a size
    stays *pending* until the phrase ends, so ``jumps 14%`` is one size statement, not a word and a size.
    """

    __slots__ = (
        "region", "orig", "inherited", "mv", "causative", "found", "anchors", "sized", "pending",
        "p_dir", "p_start", "p_verb", "p_sized", "p_strong", "p_word", "saw_move_verb",
    )  # fmt: skip

    def __init__(self, region: str, orig: str, pos: int, inherited: str | None, mv: bool, causative: bool):
        self.region = region
        self.orig = orig
        self.inherited = inherited  # direction of an elided verb ("Samsung rises 6%, SK Hynix 9%")
        self.mv = mv  # the subject was "X market value": amounts are market-value changes
        self.causative = causative
        self.found: list[tuple[int, Statement]] = []  # (region offset, statement)
        self.anchors: dict[int, int] = {}  # size offset -> start of its phrase ("loss of 30%": "loss")
        self.sized: list[tuple[Statement, int, int]] = []  # the current list of sizes: statement, start, end
        self.pending: Statement | None = None
        self.p_dir: str | None = None  # direction of the open phrase
        self.p_start = pos
        self.p_verb = False  # the open phrase has a move verb/noun/particle
        self.p_sized = False  # ... and a size
        self.p_strong = False
        self.p_word = ""
        self.saw_move_verb = False

    def read(self) -> list[tuple[int, Statement]]:
        """The statements of the region in reading order, as (region offset, statement)."""
        tokens = list(TOKEN_RE.finditer(self.region, self.p_start))
        n = len(tokens)
        i = 0
        while i < n:
            tok = tokens[i]
            kind = tok.lastgroup or ""
            if kind == "word" and tok.group("word") not in _PHRASE_WORDS:
                i += 1  # most words are neither move words nor light verbs: skip without a call
                continue
            handler = _HANDLERS.get(kind)
            i = handler(self, tokens, i) if handler is not None else i + 1
        if self.pending is not None and not self.p_sized:
            self.found.append((self.p_start, self.pending))
        self.found.sort(key=lambda p: p[0])
        return self.found

    def _open(self, start: int, direction: str | None, has_verb: bool) -> None:
        """End the open phrase (keeping its pending word) and open a new one at ``start``."""
        if self.pending is not None and not self.p_sized:
            self.found.append((self.p_start, self.pending))
        self.pending = None
        self.sized = []
        self.p_start = start
        self.p_dir = direction
        self.p_verb = has_verb
        self.p_sized = False

    def _direct_sizes(self, direction: str) -> None:
        """A direction word right after sizes gives them its direction ("a 15% weekly gain", "8% lower")."""
        for st, _s, _e in self.sized:
            if st.direction is None or st.reason == "dir-from-verb":
                st.direction = direction
                st.reason = ""

    # -- handlers: (reader, tokens, index) -> index of the next token to read -----------------------------
    def on_word(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.3 move words open a phrase with a direction; light verbs open one without."""
        t = tokens[i]
        w = t.group("word")
        if w in NUMBER_WORDS:
            # §6.1 "eight percent", "twenty-five per cent": read here, not in the lexer (kept fast)
            m = WORD_PCT_RE.match(self.region, t.start())
            if m:
                return self._size(tokens, i, t.start(), m.end(), num(m.group("num")), None)
            return i + 1
        if w in LEXICON and not COMPOUND_NOUN_RE.match(self.region, t.end()):
            d, strong = LEXICON[w]
            if (
                self.sized
                and d is not None
                and _ADJ_BEFORE_NOUN.match(self.region[self.sized[-1][2] : t.start()])
            ):
                self._direct_sizes(d)
                return i + 1
            if (
                self.sized
                and d is None
                and _ADJ_BEFORE_NOUN.match(self.region[self.sized[-1][2] : t.start()])
            ):
                return i + 1
            if _TRANSITIVE_OBJECT_RE.match(self.region, t.end()):
                return len(tokens)  # "sink Hong Kong stocks": the object moves; what follows is its
            self._open(t.start(), None, True)
            self.saw_move_verb = True
            nxt = i + 1
            m_part = _PARTICLE_AFTER_RE.match(self.region, t.end())
            if m_part:
                d = "up" if m_part.group(1) in UP_PARTICLES else "down"
                if w in ("give", "gives", "gave", "given", "giving") and m_part.group(1) == "up":
                    d = "down"
                nxt += 1  # the particle token is part of this verb
            self.p_dir, self.p_strong, self.p_word = d, strong, w
            if d is not None:
                self.pending = Statement(d, None, strong, "word", t.group(0))
                if not strong:
                    self.pending.eligible = False
                    self.pending.reason = f"mild word {w!r} without a size"
            return nxt
        if w in LEAD_WORDS or w in LIGHT_VERBS:
            self._open(t.start(), None, False)
        return i + 1

    def on_particle(self, tokens: list[re.Match[str]], i: int) -> int:
        """``up``/``down``/``higher``/``lower``: directs a size just before it, else a mild word (§6.3)."""
        t = tokens[i]
        text = t.group(0)
        d = "up" if text in UP_PARTICLES else "down"
        if self.sized and not self.region[self.sized[-1][2] : t.start()].strip():
            self._direct_sizes(d)
        else:
            self._open(t.start(), d, True)
            self.pending = Statement(
                d, None, False, "word", text, False, f"mild word {text!r} without a size"
            )
        return i + 1

    def on_pct(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.1 a percentage size; its direction from the sign, the open phrase or the elided verb (§7)."""
        t = tokens[i]
        return self._size(tokens, i, t.start(), t.end(), num(t.group("num")), t.group("sign"))

    def _size(
        self, tokens: list[re.Match[str]], i: int, start: int, end: int, value: float, sign: str | None
    ) -> int:
        """A size at ``region[start:end]`` (a ``pct`` token or a number in words): the next token to read."""
        region = self.region
        nxt = i + 1
        while nxt < len(tokens) and tokens[nxt].start() < end:
            nxt += 1
        if _TO_LEVEL_RE.search(region, max(0, start - 25), start):
            return nxt  # "to 40%": a level, not a change
        other = _SIZE_OF_OTHER_RE.match(region, end, end + 60)
        if other or _POINTS_AFTER_RE.match(region, end, end + 40):
            # a number about something else ("25% auto tariffs", "at a 6.6% discount"); a move noun in the
            # match ("33 pct surge in profit") is that quantity's too
            stop = other.end() if other else end
            while nxt < len(tokens) and tokens[nxt].start() < stop:
                nxt += 1
            return nxt
        d: str | None
        if sign:
            d, why = ("up" if sign == "+" else "down"), ""
        elif self.p_dir is not None:
            d, why = self.p_dir, "dir-from-verb"
        elif not self.p_verb and not self.saw_move_verb:
            d, why = self.inherited, "dir-from-verb"
        else:
            d, why = None, ""
        ev_start = self.p_start if self.p_verb else start
        st = Statement(d, value, self.p_strong, "size", self.orig[ev_start:end].strip()[-60:], reason=why)
        # Sizes joined by ",", "and" form a list ("fall 5%, 7% and 4%").
        if self.sized and _LIST_SEP_RE.fullmatch(region, self.sized[-1][2], start):
            self.sized.append((st, start, end))
        else:
            self.sized = [(st, start, end)]
        self.p_sized = True
        self.pending = None
        if self.p_verb and (not self.found or self.found[-1][0] < self.p_start):
            self.anchors[start] = self.p_start  # the verb/noun opening this size's own phrase
        self.found.append((start, st))
        return nxt

    def on_frac(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.1 ``a fifth of its value`` -> 20, ``half of its value`` -> 50; direction from the open phrase."""
        t = tokens[i]
        text = t.group(0)
        value = next(v for k, v in _FRACTIONS.items() if k in text)
        if self.p_dir is not None:
            st = Statement(
                self.p_dir, value, self.p_strong, "size", self.orig[self.p_start : t.end()].strip()
            )
            self.found.append((t.start(), st))
            self.sized = [(st, t.start(), t.end())]
            self.p_sized = True
            self.pending = None
        return i + 1

    def on_mult(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.1 multiples: double 100, triple 200, quadruple 300, halve 50 down."""
        t = tokens[i]
        m = t.group("mult")
        value = 100.0 if m.startswith("doubl") else 200.0 if m.startswith("tripl") else 300.0
        d = "up"
        if m.startswith("halv"):
            value, d = 50.0, "down"
        st = Statement(d, value, True, "multiple", t.group(0))
        self.found.append((t.start(), st))
        self.sized = [(st, t.start(), t.end())]
        self.p_sized = True
        self.pending = None
        return i + 1

    def on_points(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.1 points are no size: noted on the pending word's evidence."""
        if self.pending is not None:
            self.pending.evidence += f" {tokens[i].group(0)} (points are no size)"
        return i + 1

    def on_limit(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.3 limit up/down, upper/lower circuit."""
        t = tokens[i]
        text = t.group(0)
        d = "up" if ("up" in text or "upper" in text) else "down"
        self.found.append((t.start(), Statement(d, None, True, "limit", text)))
        return i + 1

    def on_ddigit(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.3 ``double-digit gain/drop``."""
        t = tokens[i]
        noun = t.group("ddnoun")
        if noun in LEXICON and LEXICON[noun][0]:
            self.found.append((t.start(), Statement(LEXICON[noun][0], None, True, "word", t.group(0))))
        return i + 1

    def on_super(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.3 superlatives: ``biggest one-day gain since``, ``worst day since``."""
        t = tokens[i]
        text = t.group(0)
        lead = text.split()[0]
        d: str | None
        if lead in ("best", "strongest"):
            d = "up"
        elif lead in ("worst", "weakest", "heaviest", "deepest"):
            d = "down"
        else:
            noun = t.group("supnoun") or t.group("supnoun2")
            d = LEXICON.get(noun, (None, False))[0] or self.p_dir
        if d is not None:
            self.found.append((t.start(), Statement(d, None, True, "superlative", text)))
        return i + 1

    def on_most(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.3 ``(rise / fall) the most since``."""
        t = tokens[i]
        if self.p_dir is not None:
            self.found.append((t.start(), Statement(self.p_dir, None, True, "superlative", t.group(0))))
        return i + 1

    def on_milestone(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.4 a milestone is strong only when reached by an arrival verb; ``record one-day drop`` is §6.3."""
        t = tokens[i]
        region = self.region
        rec = RECORD_MOVE_RE.match(region, t.end()) if t.group(0).endswith("record") else None
        if rec is not None:
            if not _IN_NONPRICE_RE.match(region, rec.end()):
                d = LEXICON[rec.group("rdnoun")][0]
                evidence = region[t.start() : rec.end()].strip()
                self.found.append((t.start(), Statement(d, None, True, "superlative", evidence)))
            while i < len(tokens) and tokens[i].start() < rec.end():
                i += 1
            return i
        before = region[: t.start()]
        arrival = bool(_ARRIVAL_END_RE.search(before)) or (
            (self.saw_move_verb or self.causative) and bool(_TO_END_RE.search(before))
        )
        text = t.group(0).strip()
        d = "down" if _LOW_RE.search(text) else "up"
        if arrival:
            self.found.append((t.start(), Statement(d, None, True, "milestone", text)))
        else:
            why = "milestone without an arrival verb (a level, not a move)"
            self.found.append((t.start(), Statement(d, None, False, "milestone", text, False, why)))
        return i + 1

    def on_amount(self, tokens: list[re.Match[str]], i: int) -> int:
        """§6.5 a currency amount of market value gained or lost; a level reached is not a change (§4)."""
        t = tokens[i]
        before = self.region[max(0, t.start() - 15) : t.start()]
        level = _AMOUNT_LEVEL_RE.search(before)
        d = self.p_dir
        evidence = f"{self.p_word} {t.group(0)} market value"
        is_mv = self.mv or bool(_MV_AFTER_RE.match(self.region, t.end()))
        consumed = t.end()  # the participle or noun read with the amount is not a statement of its own
        if not is_mv and not level:
            # "sees $90 billion erased from its value", "Xiaomi's $60 billion rally"
            part = _MV_PARTICIPLE_RE.match(self.region, t.end())
            noun = None if part else _MV_NOUN_RE.match(self.region, t.end())
            if part or (noun and not _IN_NONPRICE_RE.match(self.region, noun.end())):
                word = part.group("v") if part else noun.group("n")  # type: ignore[union-attr]
                d = "up" if word in _VALUE_UP else LEXICON.get(word, ("down", True))[0]
                is_mv, evidence = True, f"{t.group(0)} {word}"
                consumed = (part or noun).end()  # type: ignore[union-attr]
        if not is_mv and not level and d is not None and _SESSION_AFTER_RE.match(self.region, t.end()):
            # "Nvidia adds $230 billion in a day": a company's amount gained in one session is its value
            is_mv = True
        if is_mv and level and self.pending is not None:
            # "market value jumps to $5 trillion": a level reached, not a change.
            self.pending.eligible = False
            self.pending.reason = "market-value level, not a change"
        if is_mv and d is not None and not level:
            self.found.append((t.start(), Statement(d, None, True, "mcap", evidence)))
            self.pending = None
            self.p_sized = True
        i += 1
        while i < len(tokens) and tokens[i].start() < consumed:
            i += 1
        return i

    def on_nonprice(self, tokens: list[re.Match[str]], i: int) -> int:
        """§4 "rises 2% and revenue jumps 30%": what follows is about the other quantity; stop reading."""
        return len(tokens)


_Handler = Callable[[_Reader, list[re.Match[str]], int], int]
_HANDLERS: dict[str, _Handler] = {
    "word": _Reader.on_word,
    "particle": _Reader.on_particle,
    "pct": _Reader.on_pct,
    "mult": _Reader.on_mult,
    "frac": _Reader.on_frac,
    "points": _Reader.on_points,
    "limit": _Reader.on_limit,
    "ddigit": _Reader.on_ddigit,
    "super": _Reader.on_super,
    "most": _Reader.on_most,
    "milestone": _Reader.on_milestone,
    "amount": _Reader.on_amount,
    "nonprice": _Reader.on_nonprice,
}


_PHRASE_WORDS = frozenset(LEXICON) | frozenset(LIGHT_VERBS) | frozenset(LEAD_WORDS) | NUMBER_WORDS


def interpret(
    region: str,
    orig: str,
    pos: int,
    inherited: str | None,
    mv: bool,
    sentence_low: str,
    causative: bool = False,
) -> list[Statement]:
    """The move statements of ``region`` (lower-cased predicate; ``orig`` the same span as written) from
    ``pos``, each with its time-window eligibility (§5) and its place in a list of sizes (§3.2)."""
    reader = _Reader(region, orig, pos, inherited, mv, causative)
    found = reader.read()
    apply_windows(region, found, reader.anchors, sentence_low)
    _mark_lists(region, found)
    return [st for _off, st in found]


# §4/§5: a hypothetical marker between two statements makes the later one not realized.
_HYPO_MARKER_RE = re.compile(
    r"\b(?:(?:set|poised|on track|on course|heading|headed|expected|likely|tipped|seen|due) (?:to|for)|could|"
    # "may" the modal, not the month ("in May", "on May 3", "early May")
    r"(?<!in )(?<!on )(?<!of )(?<!since )(?<!during )(?<!through )(?<!early )(?<!late )(?<!mid-)may(?!\s+\d)|"
    r"might|would|will|risks?|threatens? to)\b"
)
_APPOSED_RE = re.compile(r",\s*(?:its|their|the)\s+$")


def apply_windows(
    region: str, found: list[tuple[int, Statement]], anchors: dict[int, int], sentence_low: str
) -> None:
    """§5: mark each statement outside the eligible window, from its own scope (its text up to the next one).

    A milestone or superlative inside a scope describes the move ("falls 10% from its record high"), so it
    does not end the scope of the statement before it. A W2 marker belongs to the statement it qualifies: one
    in a following participle clause or premodifying the next move noun is carried over to that statement.
    """
    offsets = [p[0] for p in found]
    kinds = [p[1].kind for p in found]
    carried: dict[int, str] = {}
    hypo: re.Match[str] | None = None  # once seen, a hypothetical marker qualifies every later statement
    has_marker = _HYPO_MARKER_RE.search(region) is not None
    may_hypo = len(found) > 1 and has_marker
    for k, (off, st) in enumerate(found):
        nxt = len(region)
        k_next = -1
        for k2 in range(k + 1, len(offsets)):
            if offsets[k2] > off and kinds[k2] not in ("milestone", "superlative"):
                nxt = offsets[k2]
                k_next = k2
                break
        cut, carry = scope_end(region, off, nxt, anchors.get(nxt, nxt), k_next >= 0)
        marker = _HYPO_MARKER_RE.search(region, off, cut) if has_marker else None
        if marker and marker.start() > off:
            # "shoots up 8%, on track for a seventh straight day of gains": the streak belongs to the marker
            cut = min(cut, marker.start())
        if carry < nxt and k_next >= 0:
            carried[k_next] = region[carry:nxt]
        if st.kind == "size" and st.direction is None:
            st.eligible = False
            st.reason = "size without a direction"
        if st.reason == "dir-from-verb":
            st.reason = ""
        why = window_reason(carried.get(k, "") + region[off:cut], sentence_low)
        prev_off = offsets[k - 1] if k else 0
        if k and hypo is None and may_hypo:
            hypo = _HYPO_MARKER_RE.search(region, prev_off, off)
        if hypo:
            # "fell, set to record the biggest declines in years": the marker qualifies what follows it
            why = f"hypothetical: {hypo.group(0)!r} qualifies it"
        elif k and st.kind in ("superlative", "milestone") and _APPOSED_RE.search(region, prev_off, off):
            # "surged 30.8% in 2020, its largest gain since 2009": the apposition describes the move before it
            prev = found[k - 1][1]
            if not prev.eligible and prev.reason.startswith(("cumulative", "historical")):
                why = prev.reason
        if why:
            st.eligible = False
            st.reason = why


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
