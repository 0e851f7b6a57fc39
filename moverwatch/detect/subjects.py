"""Attach subjects to statements (LABELING §3.1, §3.2, §3.4): who a predicate is about.

Steps, each a function with its own tests:

* :func:`attach_brackets` - a bracketed insertion right after a mention belongs to it (§3.1);
* :func:`group_subjects` - coordinated names share one predicate (§3.2);
* :func:`read_context` - what the words before a group say about it: object of a preposition or of
  ``leads``/``beats`` (§3.4), causative verb (§3.1), market value wiped off it (§6.5), hypothetical or
  forecaster's frame (§4), sentence-initial time adverbial (§5);
* :func:`attribute` - map the predicate's statements onto the members (respectively-lists) and apply the
  context's eligibility.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from moverwatch.detect.anaphora import Subject
from moverwatch.detect.grammar import Predicate
from moverwatch.detect.lexicon import AMOUNT, MV, num
from moverwatch.detect.statements import Statement
from moverwatch.detect.window import window_reason

_GROUP_PLAIN_RE = re.compile(r"\s*(?:,\s*(?:(?i:and)\s+)?|(?i:and)\s+|&\s*|/\s*|or\s+)")
_GROUP_NAMES_RE = re.compile(
    r"(?:\s*(?:,|(?i:and)|&|/)\s*(?:(?i:and)\s+)?[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,2})+\s*(?:,\s*(?:(?i:and)\s+)?|(?i:and)\s+|&\s*|/\s*)"
)
_GROUP_PAREN_RE = re.compile(
    r"\s*[,.]?\s*(?:(?:Inc|Corp|Corporation|Co|Ltd|Limited|plc|Plc|PLC|Group|Holdings|Company|SA|NV|AG)\.?\s*)?"
    r"\(\s*(?:[A-Za-z]+\s*:\s*)?"
)
_COUNT_SEP_RE = re.compile(r",|\band\b|&|/")
# §3.1: "Sony Group Corp (NYSE: SONY, TYO: 6758)", "Samsung Electronics <005930.KS>", "Honda Motor Co (HMC)".
# Company-form words may stand between the name and the bracket; a bracket holding a size is a list entry
# ("Meituan (-8.2%)"), not an insertion.
_BRACKET_RE = re.compile(
    r"\.?(?:,?\s+(?:Inc|Corp|Corporation|Co|Ltd|Limited|plc|Plc|PLC|Group|Holdings|Company|Motor|Motors|SA|NV|AG|"
    r"SE|KK|Bhd|Tbk|AB|ASA|Oyj|SpA)\.?){0,3}\s*"
    r"(?:\((?![^()]*(?:%|\bper\s?cent|\bpercent|\bpct\b))[^()]{1,60}\)|<[^<>%]{1,40}>|\[[^\[\]%]{1,40}\])"
)

_OBJECT_WORDS = {
    "on", "in", "of", "for", "from", "to", "by", "at", "into", "over", "against", "about", "than", "behind", "vs",
    "versus", "vs.", "toward", "towards", "via", "per", "under", "above", "below", "lead", "leads", "led", "join",
    "joins", "joined", "joining", "beat", "beats", "top", "tops", "overtake", "overtakes", "overtook", "trail",
    "trails", "outperform", "outperforms", "underperform", "underperforms", "buy", "buys", "sell", "sells",
    "acquire", "acquires", "back", "backs", "invest", "invests", "said", "says", "say", "told", "tracking",
    "track", "tracks", "tracked", "unlike",
}  # fmt: skip
_CAUSAL_TO_RE = re.compile(r"\b(?:thanks|due|owing)\s+to\s+(?:the\s+)?$", re.I)
_REPORTING = {"said", "says", "say", "told"}
# "Trading halted for X shares after a 20% drop": the noun phrase states X's own move whatever governs it.
_SECURITY_AFTER_MOVE_RE = re.compile(
    r"\s*(?:'s\s+)?(?i:shares|stock|adrs)\s+(?i:after|following)\s+(?:an?\s+)?(?:(?i:more than|over|nearly|almost|"
    r"about)\s+)?\d"
)
_SECURITY_OF_RE = re.compile(r"\b(?:shares|stocks?|adrs|adss)\s+(?:of|in)\s*$", re.I)
# A subject introduced by a forecaster's verb is an opinion about a move, not a move ("Citi sees X rising").
_OPINION_BEFORE = {
    "sees", "see", "saw", "expects", "expect", "expected", "forecasts", "forecast", "predicts", "predict", "tips",
    "tipped", "bets", "wagers", "reckons", "thinks", "believes", "projects", "warns", "could", "would", "may",
    "might", "will", "can", "should", "must", "potential", "possible", "looming", "feared", "impending",
}  # fmt: skip
# ... but "the chipmaker saw its stock sink 9%": a possessive anaphor after "saw" is what happened to it.
_EXPERIENCER = {"sees", "see", "saw"}
_MODAL_BEFORE_SEE_RE = re.compile(
    r"\b(?:could|can|may|might|would|will|should|to|expects? to|likely to)\s+(?:\w+\s+)?(?:see|sees)\s+$",
    re.I,
)
_CAUSE_UP_RE = re.compile(r"\b(?:lift|lifts|lifted|lifting|boost|boosts|boosted|boosting|propel\w*|push(?:es|ed|ing)?|"
                          r"send(?:s|ing)?|sent|drive[sn]?|driving|drove|help(?:s|ed|ing)?|take[sn]?|taking|took)\s*(?:the\s+)?$", re.I)  # fmt: skip
_CAUSE_DOWN_RE = re.compile(r"\b(?:drag\w*|pull\w*|knock\w*|weigh\w*|dent\w*|hit|hits|hitting|sink\w*|sank)\s*(?:the\s+)?$",
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
_PCT_OFF_PREFIX_RE = re.compile(
    r"\b(?:wipe[sd]?|wiping|knock(?:s|ed|ing)?|shave[sd]?|shaving|strip(?:s|ped|ping)?|lop(?:s|ped|ping)?)\s+"
    r"(?:(?:about|nearly|more than|over|some|almost|roughly|as much as)\s+)?(?P<num>\d+(?:\.\d+)?)\s?"
    r"(?:%|per\s?cent|percent|pct|pc)\s+off\s+(?:the\s+)?$"
)
_SECURITY_TAIL_RE = re.compile(r"\s*(?:'s?\s+)?(?:shares|stock|share price|stock price)\b", re.I)
_MV_TAIL_RE = re.compile(r"\s*(?:'s?\s+)?(?:combined\s+)?(?:" + MV + r")\b", re.I)
_CONDITIONAL_PREFIX_RE = re.compile(r"\b(?:if|unless|whether)\b[^;:]*$", re.I)
_OPENER_RE = re.compile(r"(?:^|[;:]\s*)([^;:,]{3,60}),\s*(?:the\s+)?$")
# The word governing the subject: quotes, brackets and a determiner may stand between ("on the CSI 300
# Index", "lifting the Straits Times Index"); "Stock Track | Baidu": a separator ends the previous phrase.
_WITH_ABSOLUTE_RE = re.compile(r"^(?P<main>[^;:]{8,}?),\s*with\s+(?:the\s+)?(?:[\w'-]+\s+){0,3}$")
_OWN_TIME_RE = re.compile(
    r"[^;:,]*?\b(?:today|yesterday|overnight|intraday|(?:mon|tues|wednes|thurs|fri)day|this week|last week|"
    r"session|in (?:early|late|morning|afternoon) trad)"
)
_WORD_END_RE = re.compile(r"[\w.$-]+$")
_DETERMINERS = ("the", "a", "an")


def governing_word(prefix: str) -> str:
    """The lower-case word just before a subject, past quotes, brackets and one determiner (``on the``),
    or '' when punctuation stands between (``Stock Track | Baidu``)."""
    rest = prefix.rstrip(" \"'([")
    m = _WORD_END_RE.search(rest, max(0, len(rest) - 30))
    if m is None:
        return ""
    word = m.group(0).lower()
    if word in _DETERMINERS:
        rest = rest[: m.start()].rstrip(" \"'([")
        m = _WORD_END_RE.search(rest, max(0, len(rest) - 30))
        word = m.group(0).lower() if m else ""
    return word


PREFIX_WINDOW = (
    160  # only the words just before a subject matter; keeps texts with thousands of mentions linear
)
_LEADING_NAMES_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s:;(]))(?:[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,2}\s*(?:,\s*(?:(?i:and)\s+)?|\s+(?i:and)\s+|\s*&\s*))+$"
)
_NAME_SEP_RE = re.compile(r",\s*(?:(?i:and)\s+)?|\s+(?i:and)\s+|\s*&\s*")


def attach_brackets(text: str, subjects: list[Subject], trace: list[str] | None = None) -> list[Subject]:
    """Extend each mention over a bracketed insertion right after it; mentions inside it belong to it."""
    if not any(c in text for c in "(<["):
        return subjects
    out: list[Subject] = []
    for subj in subjects:
        if out and subj.start < out[-1].end:
            continue  # inside the previous mention's bracket ("Baidu Inc (NASDAQ: BIDU)")
        if not subj.anaphor:
            m = _BRACKET_RE.match(text, subj.end)
            if m:
                if trace is not None:
                    trace.append(
                        f"  [subjects] {subj.text!r}: bracket {text[subj.end : m.end()].strip()!r} belongs to it"
                    )
                subj = Subject(subj.start, m.end(), subj.ticker, subj.text)
        out.append(subj)
    return out


# ", the biggest supplier to Apple, jumps 8%": an appositive that runs into another name before its closing comma.
_APPOSITIVE_OPEN_RE = re.compile(r"\s*,\s*(?:a|an|the|its|their|one of|itself)\s[^,;:()]{0,80}$", re.I)


def appositive_resume(text: str, tail_start: int, tail_end: int, s_end: int) -> int:
    """Where the predicate resumes after an appositive that contains the next subject (``Hon Hai, the
    biggest supplier to Apple, jumps 8%``), or -1 when the tail is not such an appositive (§3.1, §3.4)."""
    if tail_end >= s_end or not _APPOSITIVE_OPEN_RE.fullmatch(text, tail_start, tail_end):
        return -1
    close = text.find(",", tail_end, min(s_end, tail_end + 80))
    if close < 0 or ";" in text[tail_end:close]:
        return -1
    return close + 1


class Span(NamedTuple):
    """Where a group's predicate is read: ``text[start:end]``; ``object_follows``: the next subject comes
    right after a bare verb (``Alibaba sinks Hang Seng``), so that verb is transitive."""

    start: int
    end: int
    object_follows: bool


def predicate_span(text: str, groups: list[list[Subject]], gi: int, s_end: int) -> Span:
    """The text after group ``gi`` up to the next group (or the sentence end), past an appositive that holds
    the next subject (``Hon Hai, the biggest supplier to Apple, jumps 8%``)."""
    start = groups[gi][-1].end
    end = groups[gi + 1][0].start if gi + 1 < len(groups) else s_end
    resume = appositive_resume(text, start, end, s_end)
    if resume >= 0:
        start = resume
        end = next((g[0].start for g in groups[gi + 1 :] if g[0].start >= resume), s_end)
    tail = text[start:end]
    follows = (
        gi + 1 < len(groups)
        and groups[gi + 1][0].start == end
        and tail.endswith(" ")
        and not tail.rstrip().endswith((",", ";", ":", "-", "|"))
    )
    return Span(start, end, follows)


def group_subjects(text: str, subjects: list[Subject]) -> list[list[Subject]]:
    """Coordinated subjects (``Alibaba and JD.com``, ``Toyota, Honda, Nissan``) as one group each (§3.2).

    Unwatched names inside the coordination are kept as placeholders (ticker -1) so that respectively-lists
    map in order; the same ticker twice (``Tencent (0700.HK)``) is one member.
    """
    groups: list[list[Subject]] = []
    for subj in subjects:
        if groups and subj.anaphor and groups[-1][-1].anaphor and subj.start == groups[-1][-1].start:
            groups[-1].append(subj)  # one relative anaphor for a coordination ("..., whose shares")
            continue
        if groups and not subj.anaphor and not groups[-1][-1].anaphor:
            members = groups[-1]
            prev = members[-1]
            between = text[prev.end : subj.start]
            if _GROUP_PLAIN_RE.fullmatch(between):
                members.append(subj)
                continue
            if _GROUP_NAMES_RE.fullmatch(between):
                extra = len(_COUNT_SEP_RE.findall(between)) - 1
                members.extend(Subject(prev.end, prev.end, -1, "(unwatched)") for _ in range(max(0, extra)))
                members.append(subj)
                continue
            if _GROUP_PAREN_RE.fullmatch(between) and prev.ticker == subj.ticker:
                members[-1] = Subject(prev.start, subj.end, subj.ticker, prev.text)
                continue
        groups.append([subj])
    return groups


@dataclass(slots=True)
class Context:
    """What the words before a subject group say about it."""

    object_of: str = ""  # §3.4: the preposition or verb the group is the object of
    causative: bool = False  # §3.1: the group is the object of a causative verb ("sends Hang Seng down")
    cause_dir: str | None = None
    mcap_dir: str | None = None  # §6.5: market value wiped off / added to the group
    mcap_evidence: str = ""
    mcap_pct: float | None = None  # "wiped 9% off its market value": the change has a size
    hypothetical: str = ""  # §4: why a realized reading is excluded ("if ...", "Citi sees ...")
    window: str = ""  # §5: a sentence-initial time adverbial outside the window
    lead_names: int = 0  # unwatched names coordinated before the group (respectively-lists count them)


def read_context(text: str, low: str, s_start: int, first: Subject, tail: str, sentence_low: str) -> Context:
    """Read the (bounded) prefix of the sentence before ``first``, the group's first member."""
    ctx = Context()
    p_start = max(s_start, first.start - PREFIX_WINDOW)
    prefix = low[p_start : first.start]
    prefix_orig = text[p_start : first.start]
    mcap = _MCAP_PREFIX_RE.search(prefix_orig)
    if mcap and _MV_TAIL_RE.match(tail):
        ctx.mcap_dir = "up" if mcap.group("verb").lower().startswith("add") else "down"
        ctx.mcap_evidence = mcap.group(0).strip()
        return ctx
    # the governing words are the last few: search only the end of the prefix (this runs per subject)
    near = max(0, len(prefix) - 40)
    off = _PCT_OFF_PREFIX_RE.search(prefix, max(0, len(prefix) - 60)) if " off" in prefix else None
    if off and (first.anaphor or _MV_TAIL_RE.match(tail) or _SECURITY_TAIL_RE.match(tail)):
        # "wiped 9% off its market value", "knocked 8% off Alibaba's shares": a sized fall of the object
        ctx.mcap_dir, ctx.mcap_pct = "down", num(off.group("num"))
        ctx.mcap_evidence = off.group(0).strip()
        return ctx
    prev_word = governing_word(prefix)
    reported = first.anaphor and prev_word in _REPORTING  # "Alibaba said its shares jumped": a clause
    # "thanks to Apple's shares soaring 9%": a gerund clause after a causal preposition has its own subject
    reported = reported or (prev_word == "to" and _CAUSAL_TO_RE.search(prefix, near) is not None)
    if (
        prev_word in _OBJECT_WORDS
        and not reported
        and not _SECURITY_OF_RE.search(prefix)
        and not _SECURITY_AFTER_MOVE_RE.match(tail)
    ):
        ctx.object_of = prev_word
        return ctx
    cause = _CAUSE_DOWN_RE.search(prefix, near)
    if cause:
        ctx.cause_dir = "down"
    else:
        cause = _CAUSE_UP_RE.search(prefix, near)
        if cause:
            ctx.cause_dir = "up"
    ctx.causative = cause is not None
    cond = _CONDITIONAL_PREFIX_RE.search(prefix)
    experiencer = (
        first.anaphor
        and prev_word in _EXPERIENCER
        and first.text.lower().startswith(("its ", "their "))
        and not _MODAL_BEFORE_SEE_RE.search(prefix, near)  # "could see its shares surge": hypothetical
    )
    if cond:
        ctx.hypothetical = f"hypothetical: {cond.group(0)[:30]!r}"
    elif prev_word in _OPINION_BEFORE and not experiencer:
        ctx.hypothetical = f"hypothetical: opinion/forecast {prev_word!r}"
    elif cause and (hypo := _HYPO_BEFORE_CAUSE_RE.search(prefix, max(0, cause.start() - 40), cause.start())):
        ctx.hypothetical = f"hypothetical: {hypo.group(0).strip()!r} {cause.group(0).strip()!r}"
    # A sentence-initial time adverbial ("So far this year, X has gained 70%") scopes the clause.
    opener = _OPENER_RE.search(prefix) if p_start == s_start else None
    if opener and "%" not in opener.group(1):
        ctx.window = window_reason(opener.group(1), sentence_low)
    absolute = _WITH_ABSOLUTE_RE.search(prefix) if "with" in prefix else None
    if absolute and not ctx.window and not _OWN_TIME_RE.match(tail.lower()):
        # "Stocks posted gains in 2025, with the Nikkei rising 26%": the absolute clause shares the main
        # clause's time frame unless it states its own
        ctx.window = window_reason(absolute.group("main"), sentence_low)
    leading = _LEADING_NAMES_RE.search(prefix_orig)
    ctx.lead_names = len(_NAME_SEP_RE.findall(leading.group(0))) if leading else 0
    return ctx


def attribute(
    members: list[Subject], pred: Predicate, ctx: Context, question: str
) -> Iterator[tuple[Subject, int, Statement]]:
    """(member, statement index, statement) for each watched member: respectively-lists map sizes in order
    (§3.2), and the context's hypothetical frame (§4) or opener (§5) makes a statement ineligible."""
    k = ctx.lead_names + len(members) + pred.coord_names
    for j0, m in enumerate(members):
        if m.ticker < 0:
            continue
        j = ctx.lead_names + j0
        for idx, st0 in enumerate(pred.statements):
            if k >= 2 and st0.kind == "size" and st0.list_len == k and st0.list_index != j:
                continue  # respectively / paired lists map in order
            st = Statement(st0.direction, st0.pct, st0.strong, st0.kind, st0.evidence, st0.eligible, st0.reason,
                           st0.list_index, st0.list_len)  # fmt: skip
            if st.eligible:
                why = question or ctx.hypothetical or ctx.window
                if why:
                    st.eligible, st.reason = False, why
            yield m, idx, st
