"""The predicate after a subject (LABELING §3.1, §4): where it starts, where it ends, whether it is a move.

Given the text after a subject (a watched name, a coordinated group or an anaphor), :func:`read_predicate`
runs four named steps: :func:`read_filler` skips what stands between subject and verb (security nouns,
venues, brackets, unwatched conjuncts), ``_region_end`` finds the clause boundary, :func:`predicate_head`
checks that a move token starts the predicate (after a light verb and a time/place phrase), and
``statements.interpret`` reads the statements. A text that is no move gets a rejection in words (hypothetical,
negated, not a price, derivative, transitive...) for ``explain``.

This module knows words, not tickers. Every regular expression is compiled once at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from moverwatch.detect.lexicon import (
    COMPOUND_NOUN_RE,
    DERIVATIVE,
    LEAD_WORDS,
    LEXICON,
    LIGHT_VERBS,
    MV,
    NONPRICE,
    QUALIFIER_RE,
    TOKEN_RE,
)
from moverwatch.detect.statements import Statement, interpret, is_record_move

# Subordinators open a clause with its own subject; a gerund after them keeps the subject ("before paring").
_BOUNDARY_RE = re.compile(
    # ". " inside a sentence is an abbreviation; a month ("on Oct. 10") does not end the predicate.
    r";|:|\s-\s|\.\s(?<!\bjan\.\s)(?<!\bfeb\.\s)(?<!\bmar\.\s)(?<!\bapr\.\s)(?<!\bjun\.\s)"
    r"(?<!\bjul\.\s)(?<!\baug\.\s)(?<!\bsep\.\s)(?<!\bsept\.\s)(?<!\boct\.\s)(?<!\bnov\.\s)(?<!\bdec\.\s)|"
    r"(?<!much )(?<!many )(?<!well )(?<!high )(?<!little )(?<!low )(?<!such )"
    r"\b(?:as|after|while|when|whereas|but|amid|because|though|although|despite|following|ahead of|"
    r"even as|until|unless|if|yet|whilst|once)\b(?!-)(?!\s+(?:much|little|high|low|well|many|hours|"
    r"the (?:bell|close|open)|[a-z]+ing\b))"
    # "shares suspended after (a) 20% drop": a sized move noun, not a clause, follows
    r"(?!(?<!\bas)(?<!\bif)(?<!\bunless)\s+(?:an?\s+)?(?:(?:more than|over|nearly|almost|about|around|some)\s+)?"
    r"\d[\d.,]*\s?(?:%|per\s?cent|percent|pct|pc)\s+(?:[a-z-]+\s+)?(?:drop|fall|decline|gain|rise|jump|surge|"
    r"plunge|slump|rally|slide|loss|tumble|rout|selloff|sell-off)s?\b(?!\s+(?:in|at|of|for|by|among)\b))"
)
# ", BP 4%" / "and Honda 3%": an ellipsis with an unwatched subject ends the current subject's predicate.
_ELLIPSIS_OTHER_RE = re.compile(
    r"(?:,\s*|\s+(?i:and)\s+|\s+&\s+)(?!(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d)"
    r"(?:[A-Z][\w.&'-]*\s+){1,3}\(?[+-]?\d"
)

_HYPOTHETICAL_RE = re.compile(
    r"^(?:could|can|may|might|would|will|shall|should|must|set (?:to|for)|poised|on track|on course|"
    r"heading|headed|expected|seen|tipped|likely|about to|to|risks?|looks? set|aims?|plans?|wants?|hopes?|"
    r"eyes|targets?|threatens?|needs?|is set|are set|set)\b"
)
_NEGATION_RE = re.compile(
    r"^(?:fail(?:s|ed)?|shrug(?:s|ged)?|did not|didn't|does not|doesn't|do not|don't|not|no|never|"
    r"little changed|flat|unchanged|steady|holds? steady|stable|muted)\b"
)
_MODIFIER_RE = re.compile(
    r"^-?\s*(?:-(?:backed|owned|led|linked|related|style|supported|funded|controlled|based|made|"
    r"like|affiliated)|rival|parent|owner|supplier|partner|backer|unit|arm|affiliate|spinoff|spin-off|"
    r"subsidiary|peer|'s (?:\w+ ){0,2}?(?:arm|unit|affiliate|subsidiary|stake|deal|bid))\b"
)

# Filler between a subject and its verb: possessives, security nouns, listing places, company suffixes,
# auxiliaries, harmless adverbs and time phrases.
_FILLER_RE = re.compile(
    r"\([^()%]{0,40}\)|\s+|,|-(?=\s)|\(|\)|\"|'s\b|'(?=\s)|\.(?=\s+[a-z]|')|"
    r"(?:share price|stock price|(?:american )?depositary (?:receipts?|shares?)|shares?|stocks?|adrs?|adss?|gdrs?|[abh]-shares?|class [abc]|ordinary|common|"
    r"equity|equities|"
    r"index|composite|average|benchmark|gauge|"
    # "Hong Kong-listed", "New York-listed", "Shenzhen-listed" (v1 §3.1 "T's <venue>-listed shares")
    r"(?:[\w.&]+\s){0,2}[\w.&]+(?:-[\w.&]+)*-listed|(?:newly|recently|dual|primary|secondary)[\s-]listed|listed|hong kong|new york|us|u\.s\.|american|shenzhen|shanghai|tokyo|"
    r"london|seoul|taiwan|taipei|mumbai|frankfurt|paris|amsterdam|zurich|hk|onshore|offshore|mainland|"
    r"local|domestic|nyse|nasdaq|otc|tsx|asx|lse|"
    r"inc\.?|corp\.?|co\.?|ltd\.?|plc|group|holdings?|limited|company|"
    r"is|are|was|were|has|have|had|been|being|also|just|now|still|then|briefly|sharply|initially|later|"
    r"meanwhile|reportedly|which|that|who|itself|both|each|too|all|"
    r"on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|today|yesterday|overnight|"
    r"in (?:early|late|morning|afternoon|midday|evening|early morning|late morning) (?:trade|trading|deals)|"
    r"premarket|pre-market|intraday|"
    r"(?:in|on the|on) (?:hong kong|new york|tokyo|shanghai|shenzhen|london|seoul|taipei|taiwan|mumbai|"
    r"india|the us|the u\.s\.|us|u\.s\.|wall street|frankfurt|paris|europe|asia|nyse|nasdaq)|"
    # "was among the top gainers, up 9%": a role, not a move; the size follows.
    r"(?:among\s+)?(?:the|a|an|one of the)\s+(?:(?:top|biggest|best|worst|leading|heaviest|main|notable|"
    r"standout|big|major|session's|day's)\s+){0,2}(?:gainers?|losers?|performers?|decliners?|advancers?|"
    r"drags?|movers?|laggards?|standouts?)|among\s+(?:(?:top|biggest|the)\s+)*(?:gainers|losers|decliners|"
    r"advancers|movers)|"
    r"\([^()%]{0,40}\)|\.[a-z]{1,3}(?=\W|$)|:(?=\s*(?:\(?[+-]?\d|up\b|down\b|higher\b|lower\b)))(?![\w-])"
)
_COORD_RE = re.compile(
    r"(?:\s*,\s*|\s*(?i:and)\s+|\s*&\s*|\s*/\s*|\s+or\s+)(?:(?i:and)\s+)?[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,3}"
)
_CAP_WORD_RE = re.compile(r"(?<![\w.&'-])[A-Z][\w.&'-]*")
# Security nouns that end a run of capitalised names in Title Case ("And Honda Shares Tumble").
_FILLER_WORDS = {"shares", "share", "stock", "stocks", "adrs", "adr", "adss", "inc", "corp", "group"}
_CONJUNCT_RE = re.compile(
    r"\s*(?:and|&)\s+(?:its|their)\s+(?:[\w&.'-]+\s+){0,3}?(?:units?|subsidiar(?:y|ies)|affiliates?|arms?|"
    r"parent|sister (?:company|companies|firms?)|spin-?offs?|divisions?|businesses|peers?|rivals?|listed "
    r"(?:units?|subsidiaries))\b"
    # "Coinbase, Tesla, other crypto stocks plunge": the named members share the group's move
    r"|\s*,?\s*(?:and\s+)?other\s+(?:[\w&.'-]+\s+){0,3}?(?:stocks|shares|names|companies|firms|peers|rivals|"
    r"chipmakers|carmakers|automakers|developers|lenders|banks|miners|players)\b"
)
_CAP_RUN_RE = re.compile(r"(?:\s+[A-Z][\w.&'-]*){1,3}")
_MV_FILLER_RE = re.compile(r"\s*(?:'s\s+)?(?:" + MV + r")(?![\w-])")
_PRED_START_SKIP_RE = re.compile(
    r"(?:(?:a|an|the|its|their|another|fresh|new|further|sharp|steep|massive|huge|big|strong|solid|"
    r"modest|slight|small|rare|significant|notable|dramatic|sudden|severe|precipitous|sizeable|sizable|"
    r"at|with|in|day|week|morning|trading|trade|session|early|earlier|initial|"
    r"opening|intraday|all|much|most|some|part|of)\s+){0,4}"
)

_LEAD_RE = re.compile(
    r"(?:lead|leads|led|leading)\s+(?!with\b)(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:gains|losses|gainers|losers|"
    r"decliners|advancers|rally|decline|declines|drop|selloff|sell-off|rout|charge|way|advance|slide|retreat|"
    r"rebound|higher|lower|fall|rise|surge|slump)\b\s*,?\s*(?:(?:with|after|before|as|by)\s+)?"
)


@dataclass(slots=True)
class Predicate:
    """The result of reading the text after a subject."""

    statements: list[Statement] = field(default_factory=list)
    rejected: str = ""  # why no statement at all (empty when statements were found)
    start: int = 0  # offset in the tail where the predicate begins (after the filler)
    end: int = 0  # offset in the tail where the predicate region ends
    mv_subject: bool = False  # the subject was "X market value": amounts are market-value changes
    coord_names: int = 0  # unwatched names coordinated after the subject ("Visa and Mastercard drop")


def read_filler(tail: str, low_tail: str) -> tuple[int, bool, int]:
    """Skip the words between a subject and its verb.

    Returns (offset of the predicate, saw 'market value', number of coordinated unwatched names skipped).
    """
    pos = 0
    mv = False
    names = 0
    n = len(tail)
    while pos < n:
        m = _COORD_RE.match(tail, pos)
        if m and m.end() > pos:
            # In a Title Case headline the capitalised run may end with the verb ("And Mastercard Drop 5%"):
            # keep the name words before the first move/light verb.
            end = m.end()
            for w in _CAP_WORD_RE.finditer(tail, m.start(), m.end()):
                low_w = w.group(0).lower()
                if low_w in LEXICON or low_w in LIGHT_VERBS or low_w in _FILLER_WORDS:
                    end = w.start()
                    break
            if any(
                w.group(0).lower() not in ("and", "or") for w in _CAP_WORD_RE.finditer(tail, m.start(), end)
            ):
                pos = end
                names += 1
                continue
        m = _FILLER_RE.match(low_tail, pos)
        if m and m.end() > pos:
            pos = m.end()
            continue
        m = _CONJUNCT_RE.match(low_tail, pos)
        if m:
            # "and its Jaguar Land Rover unit", "and its subsidiary Jio Financial": an unwatched conjunct
            # shares the move (§3.2)
            pos = m.end()
            name = _CAP_RUN_RE.match(tail, pos)
            if name:
                pos = name.end()
            names += 1
            continue
        m = _MV_FILLER_RE.match(low_tail, pos)
        if m and m.end() > pos:
            mv = True
            pos = m.end()
            continue
        break
    return pos, mv, names


def _reject_reason(low_rest: str) -> str:
    rest = low_rest.lstrip(" ,'\"")
    if not rest:
        return "no move words after the mention"
    if _MODIFIER_RE.match(low_rest.lstrip()):
        return f"not the mover: modifier/complement {rest.split(' ', 1)[0]!r}"
    if _HYPOTHETICAL_RE.match(rest):
        return f"hypothetical/not realized: {' '.join(rest.split()[:4])!r}"
    if _NEGATION_RE.match(rest):
        return f"negated or no move: {' '.join(rest.split()[:3])!r}"
    m = re.match(r"(?:[\w-]+\s+){0,3}?(" + DERIVATIVE + r")\b", rest)
    if m:
        return f"derivative, not the security: {m.group(1)!r}"
    m = re.match(r"(?:[\w'-]+\s+){0,3}?(" + NONPRICE + r")\b", rest)
    if m:
        return f"not a price: {m.group(1)!r}"
    return f"no move verb after the mention (next words: {' '.join(rest.split()[:4])!r})"


_VERB_AFTER_RE = re.compile(r"\s+(?:then\s+|later\s+|[a-z]+ly\s+)?([a-z-]+)")


def _region_end(tail: str, low_tail: str, start: int) -> int:
    """Where the predicate ends: a clause boundary or an ellipsis with another subject. ``but``/``yet``
    followed by a verb coordinate two predicates of the same subject ("debuted at HK$17 but fell 6%")."""
    end = len(tail)
    m = _BOUNDARY_RE.search(low_tail, start)
    while m is not None and m.group(0) in ("but", "yet"):
        nxt = _VERB_AFTER_RE.match(low_tail, m.end())
        if not nxt or not (nxt.group(1) in LEXICON or nxt.group(1) in LIGHT_VERBS):
            break
        m = _BOUNDARY_RE.search(low_tail, nxt.end())
    if m:
        end = m.start()
    m = _ELLIPSIS_OTHER_RE.search(tail, start, end)
    if m:
        end = m.start()
    return end


_MOVE_KINDS = frozenset(
    ("pct", "frac", "mult", "limit", "ddigit", "super", "milestone", "particle", "most", "amount")
)
# §3.1 "finished Tuesday's session down 12%", "ended the morning in Tokyo 8% higher", "traded at the day's
# lows, down 11%": a time or place phrase between a light verb and the size.
_TIME_PLACE_RE = re.compile(
    r"(?:(?:the|a|its|their|this|last|early|late|morning|afternoon|evening|midday|session|sessions|day|week|"
    r"trade|trading|deals|open|opening|close|closing|bell|lows?|highs?|level|levels|today|yesterday|tonight|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day)(?:'s?)?[\s,]+"
    r"|\([^()%]{0,30}\)[\s,]+|with\s+|at\s+(?:[a-z]{0,3}\$)?\d[\d,.]*(?:\s+(?:won|yen|yuan|rupees?|dollars|hong kong dollars|cents|pence|"
    r"euros?|points?))?[\s,]+"
    r"|(?:in|on|at|during)\s+(?:the\s+)?(?!record\b|an?\b)[a-z.&-]+(?:\s+(?!record\b)[a-z.&-]+)?(?:'s?)?[\s,]+"
    r"){1,6}"
)


_AFTER_SIZE_RE = re.compile(
    r"(?:after|following)\s+(?=(?:an?\s+)?(?:(?:more than|over|nearly|almost|about)\s+)?\d)"
)
_BUT_VERB_RE = re.compile(r"\b(?:but|yet|then)\s+(?:then\s+|later\s+|[a-z]+ly\s+)?([a-z-]+)")


def predicate_head(region: str, causative: bool) -> tuple[int, str]:
    """Where the predicate's first move token starts (after qualifiers), or a rejection reason.

    The predicate must begin with a move token, directly or after a light verb (``posts``, ``closes``,
    ``hits``) and a few words (articles, a time or place phrase). ``led gains, rising 6%``: leading gives no
    move of its own (§3.2) but a sized move may follow.
    """
    head = QUALIFIER_RE.match(region).end()  # type: ignore[union-attr]
    after = _AFTER_SIZE_RE.match(region, head)
    if after:  # "X shares after a 20% drop" (a headline's noun phrase)
        head = QUALIFIER_RE.match(region, after.end()).end()  # type: ignore[union-attr]
    lead = _LEAD_RE.match(region, head)
    if lead:
        if lead.end() >= len(region.rstrip()):
            return head, f"leading gives no move of its own: {region[head:].strip()!r}"
        head = QUALIFIER_RE.match(region, lead.end()).end()  # type: ignore[union-attr]
    first = TOKEN_RE.match(region, head)
    ok = False
    if causative and first is not None and first.group(0) == "to":
        nxt0 = TOKEN_RE.match(region, _PRED_START_SKIP_RE.match(region, first.end() + 1).end())  # type: ignore[union-attr]
        ok = nxt0 is not None and nxt0.lastgroup == "milestone"
    elif first is not None:
        kind = first.lastgroup
        if kind == "word":
            w = first.group("word")
            if w in LEXICON:
                ok = not COMPOUND_NOUN_RE.match(region, first.end())
            elif w in LIGHT_VERBS or w in LEAD_WORDS:
                # "lead losses": leading gives no move of one's own (§3.2); "led with a 6% gain" does
                ok = not (w.startswith("le") and not region.startswith(" with", first.end()))
                ok = ok and _after_light_verb(region, first.end())
        elif kind in ("pct", "frac", "mult", "particle", "limit", "amount", "super", "ddigit"):
            ok = True
        elif kind == "milestone":
            # "Nikkei's record one-day drop", "Meta's record US$197bn surge"
            nxt = TOKEN_RE.match(region, first.end() + 1) if first.group(0).endswith("record") else None
            ok = is_record_move(first, region) or (nxt is not None and nxt.lastgroup == "amount")
    if not ok:
        # "debuted at HK$17 but fell 6%": a second predicate of the same subject
        but = _BUT_VERB_RE.search(region, head)
        if but and but.group(1) in LEXICON:
            return but.start(1), ""
        return head, _reject_reason(region[head:])
    return head, ""


def _after_light_verb(region: str, pos: int) -> bool:
    """A move token follows the light verb ending at ``pos`` (after articles or a time/place phrase)."""
    start = pos + 1 if pos < len(region) else pos
    for skip in (_PRED_START_SKIP_RE, _TIME_PLACE_RE):
        m = skip.match(region, start)
        pos2 = m.end() if m else start
        after = _AFTER_SIZE_RE.match(region, pos2)  # "closed at 94,000 won after a 9% decline"
        pos2 = QUALIFIER_RE.match(region, after.end() if after else pos2).end()  # type: ignore[union-attr]
        nxt = TOKEN_RE.match(region, pos2)
        if nxt is not None and (
            nxt.lastgroup in _MOVE_KINDS or (nxt.lastgroup == "word" and nxt.group("word") in LEXICON)
        ):
            return True
    return False


_APPOSITIVE_RE = re.compile(
    r"(?:\s*(?:index|shares|stock|inc\.?|corp\.?|ltd\.?|co\.?|group|holdings|international)){0,3}\s*,\s*(?:which|who|that|a|an|the|its|"
    r"one of|(?:[a-z]+\s){0,2}[a-z.&-]+'s)\s[^,;:()%]{0,120}?,"
)
_LAST_WORD_RE = re.compile(r"([a-z-]+)\s*$")


def read_predicate(
    tail: str,
    low_tail: str,
    inherited_dir: str | None,
    sentence_low: str,
    causative: bool = False,
    object_follows: bool = False,
) -> Predicate:
    """Read the move statements in ``tail`` (the text right after a subject, up to the next subject).

    ``inherited_dir`` is the direction a bare size takes ("Samsung rises 6%, SK Hynix 9%": the verb is
    elided) when the tail itself gives none. ``causative``: the subject is the object of a causative verb
    ("sends Nikkei to a record high"), whose "to" is an arrival (§3.1, §6.4). ``object_follows``: the next
    subject follows the tail directly, so a bare verb before it is transitive ("Alibaba sinks Hang Seng").
    """
    pred = Predicate()
    start, mv, pred.coord_names = read_filler(tail, low_tail)
    end = _region_end(tail, low_tail, start)
    region = low_tail[start:end]
    head, rejected = predicate_head(region, causative)
    if rejected:
        # "The Hang Seng Tech index, which tracks ... Hong Kong, has declined": an appositive or relative
        # clause without a move stands between the subject and its verb
        app = _APPOSITIVE_RE.match(low_tail)
        if app and app.end() > start:
            start, mv2, names2 = read_filler(tail[app.end() :], low_tail[app.end() :])
            start += app.end()
            mv, pred.coord_names = mv or mv2, pred.coord_names + names2
            end = _region_end(tail, low_tail, start)
            region = low_tail[start:end]
            head, rejected2 = predicate_head(region, causative)
            rejected = rejected2 and rejected
    if rejected:
        pred.rejected = rejected if region.strip() else _reject_reason(low_tail[start:])
        return pred
    if object_follows and end == len(tail):
        # "Alibaba, Meituan sink Hang Seng": the verb's object is the next subject, the verb is transitive
        last = _LAST_WORD_RE.search(region)
        if last and last.group(1) in LEXICON and not region[: last.start()].strip(" ,"):
            pred.rejected = f"transitive {last.group(1)!r}: its object moves, not the subject"
            return pred
    pred.mv_subject, pred.start, pred.end = mv, start, end

    pred.statements = interpret(region, tail[start:end], head, inherited_dir, mv, sentence_low, causative)
    if not pred.statements and not pred.rejected:
        pred.rejected = _reject_reason(region)
    return pred
