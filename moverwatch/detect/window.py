"""Time window of a move statement (LABELING §5): W2 cumulative/historical markers, W3 comparisons, spans."""

from __future__ import annotations

import re

from moverwatch.detect.lexicon import NUMWORDS, UNIT_SESSIONS

MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
MONTH_ABBR = r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MON = r"(?:" + MONTHS + r"|(?:" + MONTH_ABBR + r")\.?)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Explicitly dated past moves (W2): "on Oct. 10", "on Friday, Oct. 10", "on 10 October", "in March 2020",
# "in the 2008 crash", "the Aug. 2024 rout", "last October", "two weeks ago".
_DATED_PAST = (
    # v2: a date without a year ("on March 3") is a recent session (W1); with a year it is history.
    r"\b(?:on\s+)?(?:the\s+)?<DAY>\s+(?:of\s+)?<MON>,?\s+(?:19|20)\d\d\b"
    r"|\b<MON>\s+(?:<DAY>,?\s+)?(?:19|20)\d\d\b"
    r"|\b(?:in|during) the (?:[\w.-]+\s+){0,2}?(?:19|20)\d\d\b"
    r"|\blast <MONTHS>\b|\b(?:weeks|months|years|a week|a month|a year) ago\b"
)
for _ph, _rx in (("<WD>", _WEEKDAYS), ("<MON>", _MON), ("<DAY>", _DAY), ("<MONTHS>", "(?:" + MONTHS + ")")):
    _DATED_PAST = _DATED_PAST.replace(_ph, _rx)
# (pattern, reason, comparable): a comparable marker after a superlative describes today's move (W3:
# "its biggest gain this year", "worst week since March 2020"); the others always measure a span.
_W2_RES = (
    (
        re.compile(r"\b(?:so far )?this (?:year|month|quarter|decade|century)\b"),
        "cumulative (year-to-date / this year, month or quarter)",
        True,
    ),
    (re.compile(r"\b(?:year|month|quarter)[- ]to[- ]date\b|\b[ymq]td\b"), "cumulative: year-to-date", True),
    (re.compile(r"\bin (?:19|20)\d\d\b"), "cumulative: a calendar year", True),
    (
        re.compile(r"\b(?:in|during|for|through) (?:" + MONTHS + r"|(?:" + MONTH_ABBR + r")\.)(?!-)"),
        "cumulative: a past month",
        True,
    ),
    (
        re.compile(_DATED_PAST),
        "historical: an explicitly dated past move",
        True,
    ),
    (
        re.compile(r"\b(?:last|past|previous) (?:year|month|quarter|decade)\b"),
        "cumulative: a past period",
        True,
    ),
    (
        re.compile(
            r"\b(?:from|off|below|above) (?:(?:its|their|the|a|an)\s+)?(?:[\w'-]+\s+){0,3}?(?:peak|record|high|highs|"
            r"top|ipo|listing|debut|low|lows|bottom|offer price|ipo price|issue price|trough)\b"
        ),
        "cumulative: measured from a past level",
        False,
    ),
    (
        re.compile(r"\bbear market\b|\bcorrection\b"),
        "cumulative: bear market/correction (from a peak)",
        False,
    ),
    (
        re.compile(r"\b(?:monthly|quarterly|annual|yearly|year-long|month-long|multi-week|multi-month)\b"),
        "cumulative: a monthly/annual span",
        False,
    ),
    (
        re.compile(r"\bin the (?:first|second|third|fourth|last) (?:half|quarter)\b"),
        "cumulative: a past period",
        True,
    ),
)
# One alternation for all W2 markers (one scan per statement); the group name gives the reason.
W2_RE = re.compile("|".join(f"(?P<w{i}>{rx.pattern})" for i, (rx, _r, _c) in enumerate(_W2_RES)))
_W2_REASONS = [reason for _rx, reason, _c in _W2_RES]
_W2_COMPARABLE = [comparable for _rx, _r, comparable in _W2_RES]
# "since Monday", "since last Friday", "since the open": a span of at most a week (W1).
_SINCE_RE = re.compile(
    r"\bsince\b(?!\s+(?:last\s+)?(?:monday|tuesday|wednesday|thursday|friday|yesterday|the (?:open|opening bell|"
    r"start of (?:the )?(?:week|session|trading))\b))"
)
_W3_BEFORE_RE = re.compile(
    r"\b(?:biggest|largest|best|worst|most|sharpest|steepest|strongest|weakest|highest|lowest|heaviest|"
    r"deepest|first time|first|not seen|unseen|peak|high|low)\b[^.;]{0,40}$"
)
_DURATION_RE = re.compile(
    r"\b(?:over|in|during|across|for|within)\s+(?:the\s+)?(?:past\s+|last\s+|previous\s+|prior\s+|next\s+)?"
    r"(?P<n>\d+|"
    + "|".join(NUMWORDS)
    + r")?\s*(?P<u>sessions?|trading days?|days?|weeks?|months?|quarters?|years?)\b"
    r"|\b(?P<n2>\d+|"
    + "|".join(NUMWORDS)
    + r")[- ](?P<u2>session|trading-day|day|week|month|year|quarter)s?\b"
    r"(?![- ](?:high|low|peak|record|bond|yield|note|deal|contract|plan|old))"
)
_PERIOD_BACKREF_RE = re.compile(
    r"\b(?:over|during|in|across) (?:the|that|this) (?:period|stretch|span|streak|run|time)\b"
)
_ORDINALS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}  # fmt: skip
_STREAK_RE = re.compile(
    r"\b(?P<n>" + "|".join(_ORDINALS) + r"|\d+(?:st|nd|rd|th))\s+(?:(?:straight|consecutive|successive)\s+)?"
    r"(?P<u>session|day|trading day|week|month)s?\b"
)

# ", trimming ...", ", which ...": a participle or relative clause after a statement (prepositions and
# nouns ending in -ing are not participles).
_CLAUSE_BREAK_RE = re.compile(
    r",\s*(?:(?!(?:during|according|including|excluding|regarding|morning|evening|nothing|something|anything|"
    r"everything|spring|sterling|beijing|nanjing|trading)\b)[a-z]{2,}ing|which)\b"
)
_SPAN_NOUN_RE = re.compile(r"\b(?:streak|run|string|stretch|spell|winning|losing)\b")
# Between a W2 marker and the move noun it premodifies: only possessives, adjectives, numbers.
_PREMODIFIER_GAP_RE = re.compile(
    r"(?:'s)?(?:\s+(?!(?:and|or|but|to|in|on|at|with|by|for|from|of|as|than|then|after|before|while)\b)"
    r"[\w.%-]+){0,2}\s*"
)

_PREPOSITION_RE = re.compile(r"(?:in|on|during|for|through|from|off|below|above|since|over)\b")
_FUTURE_RE = re.compile(r"\bnext (?:year|month|week|quarter)\b|\bby (?:year-end|the end of)\b")


def _duration_sessions(n: str | None, unit: str) -> int:
    count = 1
    if n:
        count = int(n) if n.isdigit() else NUMWORDS.get(n, 1)
    unit = unit.rstrip("s").replace("-", " ")
    return count * UNIT_SESSIONS.get(unit, 1)


_UNIT_STEMS = ("session", "day", "week", "month", "year", "quarter")


def _longest_duration(text: str) -> int:
    if not any(u in text for u in _UNIT_STEMS):
        return 0  # cheap gate: no unit word, no duration or streak
    best = 0
    for m in _STREAK_RE.finditer(text):
        raw = m.group("n")
        n = _ORDINALS.get(raw) or int(re.sub(r"\D", "", raw) or 1)
        best = max(best, n * UNIT_SESSIONS.get(m.group("u"), 1))
    for m in _DURATION_RE.finditer(text):
        if _W3_BEFORE_RE.search(text, 0, m.start()):
            continue
        if m.group("u"):
            best = max(best, _duration_sessions(m.group("n"), m.group("u")))
        else:
            best = max(best, _duration_sessions(m.group("n2"), m.group("u2")))
    return best


def window_reason(scope: str, sentence: str) -> str:
    """Why a statement whose scope (lower-case) is ``scope`` is outside the eligible window, or ''."""
    m2 = W2_RE.search(scope)
    while m2 is not None:
        i = int(m2.lastgroup[1:]) if m2.lastgroup else 0
        if not (_W2_COMPARABLE[i] and _W3_BEFORE_RE.search(scope, 0, m2.start())):
            return _W2_REASONS[i]
        m2 = W2_RE.search(scope, m2.end())  # W3: "its biggest gain this year" compares today's move
    for m in _SINCE_RE.finditer(scope) if "since" in scope else ():
        # W3: "worst day since 2008" compares today's move; it does not measure from 2008.
        if not _W3_BEFORE_RE.search(scope, 0, m.start()):
            return "cumulative: measured 'since' a past date/event"
    if ("next " in scope or "by " in scope) and _FUTURE_RE.search(scope):
        return "hypothetical: a future period"
    sessions = _longest_duration(scope)
    if _PERIOD_BACKREF_RE.search(scope):
        sessions = max(sessions, _longest_duration(sentence))
    if sessions > 5:
        return f"cumulative: a span of about {sessions} sessions (> 5)"
    return ""


def scope_end(region: str, off: int, nxt: int, next_anchor: int, has_next: bool) -> tuple[int, int]:
    """Where the time-window scope of the statement at ``off`` ends (``nxt``: the next statement), and from
    where the text before ``nxt`` is also carried into the next statement's scope."""
    brk = _CLAUSE_BREAK_RE.search(region, off, nxt) if "," in region else None
    if brk is not None and (has_next or _SPAN_NOUN_RE.search(region, brk.end(), nxt)):
        # "jumps 7%, trimming its year-to-date loss to 30%"; "rises 2.5%, extending its winning streak to
        # seven sessions": the participle clause measures its own quantity, not this statement's.
        return brk.start(), brk.start()
    if has_next and W2_RE.search(region, off, nxt):
        for m in W2_RE.finditer(region, off, nxt):
            if _PREMODIFIER_GAP_RE.fullmatch(region, m.end(), next_anchor):
                # "its year-to-date loss of 30%": the marker modifies the next noun. A prepositional one ("fell
                # 9% in the 2008 crash") also scopes the verb before it.
                return (nxt if _PREPOSITION_RE.match(m.group(0)) else m.start()), m.start()
    return nxt, nxt
