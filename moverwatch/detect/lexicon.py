"""Vocabulary and lexer of the move grammar (LABELING §4, §6): move words, sizes, milestones, non-price nouns."""

from __future__ import annotations

import re

# Vocabulary (LABELING §6.3). Inflections are generated, irregular forms listed.

_IRREGULAR: dict[str, tuple[str, ...]] = {
    "fall": ("fell", "fallen"),
    "sink": ("sank", "sunk"),
    "rise": ("rose", "risen"),
    "shoot": ("shot",),
    "lose": ("lost",),
    "shed": ("shed",),
    "slide": ("slid",),
    "dive": ("dove", "dived"),
    "give": ("gave", "given"),
    "leap": ("leapt", "leaped"),
    "see": ("saw", "seen"),
    "set": ("set",),
    "hit": ("hit",),
    "lead": ("led",),
}
_DOUBLE_FINAL = {"slip", "dip", "drop", "sag", "skid", "pop", "log", "hit", "set", "top", "shed", "plan"}


def inflect(base: str) -> set[str]:
    """The inflections of a verb or noun (jump: jumps, jumped, jumping), irregular forms included."""
    forms = {base}
    forms.update(_IRREGULAR.get(base, ()))
    if base in _DOUBLE_FINAL:
        forms.update({base + "s", base + base[-1] + "ed", base + base[-1] + "ing"})
    elif base.endswith("e"):
        forms.update({base + "s", base + "d", base[:-1] + "ing"})
    elif base.endswith("y") and base[-2] not in "aeiou":
        forms.update({base[:-1] + "ies", base[:-1] + "ied", base + "ing"})
    elif base.endswith(("s", "sh", "ch", "x", "z")):
        forms.update({base + "es", base + "ed", base + "ing"})
    else:
        forms.update({base + "s", base + "ed", base + "ing"})
    return forms


_STRONG_UP = (
    "vault",
    "soar",
    "surge",
    "jump",
    "leap",
    "skyrocket",
    "rocket",
    "spike",
    "zoom",
    "shoot",
    "explode",
    "balloon",
)
_STRONG_DOWN = (
    "plunge", "plummet", "tumble", "crash", "sink", "nosedive", "dive", "slump", "crater", "tank", "collapse",
    "crumble", "implode",
)  # fmt: skip
_MILD_UP = ("rise", "gain", "climb", "advance", "add", "rally", "rebound", "recover", "firm", "pop")
_MILD_DOWN = ("fall", "drop", "decline", "slip", "slide", "dip", "ease", "retreat", "weaken", "lose", "shed",
              "skid", "sag", "wipe", "erase")  # fmt: skip
# Words that say "moved" but need a particle (up/down/higher/lower) for a direction.
_NEEDS_PARTICLE = ("edge", "tick", "inch", "creep", "give", "move", "swing", "shoot")

# word -> (direction or None, strong)
LEXICON: dict[str, tuple[str | None, bool]] = {}
for _words, _dir, _strong in (
    (_MILD_UP, "up", False),
    (_MILD_DOWN, "down", False),
    (_NEEDS_PARTICLE, None, False),
    (_STRONG_UP, "up", True),
    (_STRONG_DOWN, "down", True),
):
    for _w in _words:
        for _f in inflect(_w):
            LEXICON[_f] = (_dir, _strong)
# Nouns only (verbs above double as nouns: "a 6% drop", "15% weekly gain").
for _f in (
    "loss",
    "losses",
    "wipeout",
    "wipeouts",
    "selloff",
    "sell-off",
    "selloffs",
    "sell-offs",
    "rout",
    "decrease",
    "decreases",
):
    LEXICON[_f] = ("down", False)
for _f in ("upswing", "increase", "increases"):
    LEXICON[_f] = ("up", False)
LEXICON["shot"] = (None, True)  # "shot up"
for _f in inflect("shoot"):
    LEXICON[_f] = (None, True)

LIGHT_VERBS: set[str] = set()
for _w in ("post", "suffer", "get", "debut", "witness", "experience", "record", "log", "see", "book", "notch", "register", "stage", "extend", "close",
           "end", "finish", "settle", "open", "trade", "chalk", "deliver", "mark", "hit", "touch", "reach",
           "set", "scale", "cap", "enjoy", "move", "lock", "remain", "stay", "sit", "hover",
           # "pares an early 8% jump": what is pared or reversed is itself a move (§7 "a noun gives direction
           # and size"); "pare gains" alone stays mild.
           "pare", "trim", "reverse"):  # fmt: skip
    LIGHT_VERBS.update(inflect(_w))

ARRIVAL = r"(?:post(?:s|ed|ing)?|log(?:s|ged|ging)?|register(?:s|ed|ing)?|hit|hits|hitting|touch(?:es|ed|ing)?|reach(?:es|ed|ing)?|sets?|setting|notch(?:es|ed|ing)?|scal(?:e|es|ed|ing)|marks?|marked|marking)"  # noqa: E501
CLOSING_AT = r"(?:clos(?:e|es|ed|ing)|end(?:s|ed|ing)?|finish(?:es|ed|ing)?|settl(?:e|es|ed|ing))\s+at"

NUMWORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
}  # fmt: skip
UNIT_SESSIONS = {
    "session": 1,
    "day": 1,
    "trading day": 1,
    "week": 5,
    "month": 21,
    "quarter": 63,
    "year": 252,
}

# Nouns whose numbers are not a share price (§4): a size next to them, or the subject followed by them, is
# about that quantity.
NONPRICE = (
    r"revenues?|sales|profits?|earnings|income|margins?|deliveries|shipments?|orders?|users?|subscribers?|gmv|"
    r"market share|bookings?|volumes?|capacity|output|jobs|layoffs|workforce|staff|headcount|prices|price cuts?|"
    r"tariffs?|duties|dividends?|buybacks?|stakes?|holdings?|weightings?|weight|valuation|discount|premium|"
    r"bonds?|convertibles?|coupons?|yields?|rates?|upside|downside|target|forecast|guidance|outlook|demand|"
    r"exports?|imports?|inflation|gdp|growth|backlog|cash|debt|deficit|traffic|downloads|spending|costs?|"
    r"capex|ebitda|eps|payouts?|fees?|commissions?|premiums|units?|production|funding|investment|wages?|"
    r"futures|options|warrants|cfds?|swaps?|etfs?|funds?|volatility|vix|bitcoin|oil|gold|crude|stake sale"
)
DERIVATIVE = r"futures|options|warrants|cfds?|swaps?|etfs?|calls|puts"

# ---------------------------------------------------------------------------------------------------------
# Lexer of a predicate region (lower-cased text). One alternation, tried left to right at each position.

NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
# §6.1 whole numbers in words, one to ninety-nine ("eight percent", "twenty-five per cent").
_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen")  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
WORD_VALUES: dict[str, int] = {w: i + 1 for i, w in enumerate(_UNITS)}
WORD_VALUES.update({w: i + 10 for i, w in enumerate(_TEENS)})
WORD_VALUES.update({w: (i + 2) * 10 for i, w in enumerate(_TENS)})
WORD_NUM = (
    r"\b(?:(?:"
    + "|".join(_TENS)
    + r")(?:[- ](?:"
    + "|".join(_UNITS)
    + r"))?|"
    + "|".join(_TEENS)
    + "|"
    + "|".join(_UNITS)
    + r")"
)
# Word tokens that may start a number in words ("twenty-five" is one token, "twenty five" two).
NUMBER_WORDS = frozenset(WORD_VALUES) | frozenset(f"{t}-{u}" for t in _TENS for u in _UNITS)
_UNIT = r"\s?(?:%|per\s?cent\b|percent\b|pct\b|pc\b)"
WORD_PCT_RE = re.compile(r"(?P<num>" + WORD_NUM + r")(?:\s?(?:-|to)\s?" + WORD_NUM + r")?" + _UNIT)
AMOUNT = (
    r"(?:[$€£¥₹]|(?:us|hk|a|s|nt|c)\$|rs\.?\s?|rmb\s?|yen\s?)\s?(?:" + NUM + r")\s?"
    r"(?:billion|trillion|million|bn|tn|mn|crore|lakh crore|[bmt])?\b"
)
MV = r"market (?:value|cap(?:itali[sz]ation)?|valuation|worth)|m-cap|mcap|value"
MILESTONE = (
    r"(?:(?:a|an|the|its|their|fresh|new|another|yet another)\s+)*"
    r"(?:record(?:[- ](?:high|low|close|closing (?:high|low)|peak|level|territory))?"
    r"(?:\s+(?:high|low))?(?![- ]?(?:"
    + NONPRICE
    + r"|breaking|-breaking|numbers?|results?|quarter|year|loss|"
    r"losses|gains?|deal|amount|volumes?|turnover|listing|debut|ipo|fine|number)\b)"
    r"|all[- ]time[- ](?:high|low)s?|histori(?:c|cal)[- ](?:high|peak|low)s?|(?:\d+|"
    + "|".join(NUMWORDS)
    + r"|multi|several|many|fifty-two)"
    r"[- ](?:year|month|week|decade)[- ](?:high|low|peak|top|bottom)s?"
    r"|multi-year (?:high|low)s?|decade[- ](?:high|low)s?"
    # "highest since", "lowest close in", v2 "highest ever close", "record-high"
    r"|(?:highest|lowest)(?:(?: level| close)? (?:since|in)\b|(?:[- ]ever)? (?:close|closing level|finish)\b|"
    r"[- ]ever\b)"
    # "high of the year"; v2 "a fresh low in more than two years", "a peak not seen in 18 months"
    r"|(?:high|low|peak|top|bottom|level)s?\s+(?:of the (?:year|decade)|(?:not seen|unseen)\s+(?:in|since)\b|"
    r"(?:in|since)\s+(?:(?:more than|over|nearly|almost|about|some)\s+)?(?:\d+|"
    + "|".join(NUMWORDS)
    + r"|several|"
    r"many)\s+(?:years?|months?|weeks?|decades?)\b))"
)
SUPER = (
    r"(?:biggest|largest|best|worst|sharpest|steepest|strongest|weakest|heaviest|deepest)\s+"
    r"(?:(?:[\w-]+)\s+){0,2}"
    r"(?P<supnoun>day|week|session|one-day|single-day|daily|weekly|intraday|monthly|"
    r"gain|drop|fall|loss|decline|jump|rally|slide|selloff|sell-off|advance|rise|surge|plunge|slump|"
    r"performance|rout|tumble|start|wipeout)s?\b"
    r"(?=(?:\s+[\w-]+){0,3}?\s+(?:since|in|ever|on record|of the year|this year)\b)"
    # "its biggest one-day rise", "largest two-day value loss": a session-scale move noun needs no "since".
    r"|(?:biggest|largest|best|worst|sharpest|steepest|strongest|weakest|heaviest|deepest)\s+"
    r"(?:(?:one|single|two|three|1|2|3)[- ](?:day|session)|daily|intraday|weekly|session|day's|week's)\s+"
    r"(?:(?:market|value|cap|capitali[sz]ation|percentage|points?|stock|share|price)\s+){0,2}"
    r"(?P<supnoun2>gain|drop|fall|loss|decline|jump|rally|slide|selloff|sell-off|advance|rise|surge|plunge|"
    r"slump|rout|tumble)s?\b"
)

# "record one-day drop", "record single-day gain": the biggest one-session move ever (§6.3); the session
# word keeps "record loss" (a net loss) and "record gains in sales" out.
RECORD_MOVE_RE = re.compile(
    r"\s+(?:(?:one|single|1)[- ](?:day|session|week)|daily|intraday|weekly|session|day's|week's)\s+"
    r"(?:(?:points?|percentage|[\d,]+-point)\s+)?(?P<rdnoun>gain|drop|fall|loss|decline|jump|rally|slide|"
    r"selloff|sell-off|advance|rise|surge|plunge|slump|rout|tumble|increase|decrease)s?\b"
)

TOKEN_RE = re.compile(
    r"(?P<amount>" + AMOUNT + r")"
    r"|(?P<points>(?:" + NUM + r")\s?(?:(?:percentage|basis)\s+)?(?:points?|pts?|bps)\b)"
    # §6.1 a size: sign, number (digits or words), an optional range end ("6-7%", "6 to 7 percent": the first
    # number counts), the unit.
    r"|(?P<pct>\(?\s?(?P<sign>[+-])?\s?(?P<num>" + NUM + r")(?:\s?(?:-|to)\s?(?:" + NUM + r"))?"
    r"\s?(?:%|per\s?cent\b|percent\b|pct\b|pc\b)\)?)"
    # "loses a fifth of its value": a fraction of the value is a size (§6.1 "a form that plainly means the same")
    r"|(?P<frac>\b(?:(?:a|one)[- ](?:fifth|quarter|third|tenth)|half)(?=\s+(?:of\s+)?(?:its|their)\s+(?:market\s+)?"
    r"(?:value|capitali[sz]ation|valuation)\b))"
    r"|(?P<mult>\b(?:doubl(?:e|es|ed|ing)|tripl(?:e|es|ed|ing)|quadrupl(?:e|es|ed|ing)|halv(?:e|es|ed|ing))\b(?!-))"
    r"|(?P<limit>\blimit[- ](?:up|down)\b|\b(?:upper|lower) circuit\b)"
    r"|(?P<ddigit>\b(?:double|triple)[- ]digit\s+(?P<ddnoun>[\w-]+))"
    r"|(?P<super>\b" + SUPER + r")"
    r"|(?P<most>\b(?:the )?most (?:since|in)\b)"
    r"|(?P<milestone>\b" + MILESTONE + r")"
    r"|(?P<mv>\b(?:" + MV + r")\b)"
    r"|(?P<nonprice>\b(?:" + NONPRICE + r")\b)"
    r"|(?P<particle>\b(?:up|down|higher|lower|weaker|stronger|firmer)\b(?!\s+to\b)|\boff(?=\s+(?:(?:more than|over|nearly|almost|about|some)\s+)?\d))"
    r"|(?P<word>\b[a-z][a-z-]*\b)"
)

QUALIFIER_RE = re.compile(
    r"(?:(?:more than|over|nearly|almost|about|around|some|roughly|at least|up to|as much as|as little as|"
    r"just over|just under|close to|approximately|an additional|an extra|a further|another|by|a|an|"
    r"a little (?:over|under|more than)|slightly|well over|fully|much as)\s+)*"
)

COMPOUND_NOUN_RE = re.compile(
    r"\s+(?:fears?|worries|worry|concerns?|risks?|talk|warnings?|probe|investigation|lawsuit|victims?|"
    r"survivors?|site|report|data|plans?|hopes?|bets?|trade|stocks?)\b"
)

LEAD_WORDS = ("lead", "leads", "leading", "led")


# "up"/"higher"/"stronger" give a direction to a size or a verb next to them (§7).
UP_PARTICLES = frozenset(("up", "higher", "stronger", "firmer"))


def num(text: str) -> float:
    """The value of a number written in digits (``1,234.5``) or in words (``twenty-five``)."""
    if text[:1].isdigit():
        return float(text.replace(",", ""))
    words = text.replace("-", " ").split()
    return float(sum(WORD_VALUES.get(w, 0) for w in words))
