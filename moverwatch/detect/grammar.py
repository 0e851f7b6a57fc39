"""Move grammar: read the predicate that follows a subject and turn it into move statements (LABELING §4-§7).

This module knows words, not tickers. Given the text after a subject (a watched name, a coordinated group
or an anaphor), it decides whether that text is a realized share-price move of the subject and returns the
statements it makes: a size (``14%``, ``more than double``), a strong word (``plunges``), a milestone
reached by an arrival verb, limit up/down, a superlative (``worst day since 2008``) or a market-value
change. Each statement carries its direction, its eligibility (time window §5) and, when rejected, the
reason in words, so the detector can explain itself.

Every regular expression is compiled once at import: the grammar runs only on the few texts where an alias
matched, but it must stay cheap there too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------------------
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


def _inflect(base: str) -> set[str]:
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


_STRONG_UP = ("soar", "surge", "jump", "leap", "skyrocket", "rocket", "spike", "zoom", "shoot")
_STRONG_DOWN = (
    "plunge", "plummet", "tumble", "crash", "sink", "nosedive", "dive", "slump", "crater", "tank", "collapse",
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
        for _f in _inflect(_w):
            LEXICON[_f] = (_dir, _strong)
# Nouns only (verbs above double as nouns: "a 6% drop", "15% weekly gain").
for _f in ("loss", "losses", "selloff", "sell-off", "selloffs", "sell-offs", "rout", "decrease", "decreases"):
    LEXICON[_f] = ("down", False)
for _f in ("upswing", "increase", "increases"):
    LEXICON[_f] = ("up", False)
LEXICON["shot"] = (None, True)  # "shot up"
for _f in _inflect("shoot"):
    LEXICON[_f] = (None, True)

_LIGHT_VERBS: set[str] = set()
for _w in ("post", "suffer", "record", "log", "see", "book", "notch", "register", "stage", "extend", "close",
           "end", "finish", "settle", "open", "trade", "chalk", "deliver", "mark", "hit", "touch", "reach",
           "set", "scale", "cap", "enjoy", "move", "lock", "remain", "stay", "sit", "hover",
           # "pares an early 8% jump": what is pared or reversed is itself a move (§7 "a noun gives direction
           # and size"); "pare gains" alone stays mild.
           "pare", "trim", "reverse"):  # fmt: skip
    _LIGHT_VERBS.update(_inflect(_w))

_ARRIVAL = r"(?:hit|hits|hitting|touch(?:es|ed|ing)?|reach(?:es|ed|ing)?|sets?|setting|notch(?:es|ed|ing)?|scal(?:e|es|ed|ing)|marks?|marked|marking)"  # noqa: E501
_CLOSING_AT = r"(?:clos(?:e|es|ed|ing)|end(?:s|ed|ing)?|finish(?:es|ed|ing)?|settl(?:e|es|ed|ing))\s+at"

_NUMWORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
}  # fmt: skip
_UNIT_SESSIONS = {
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
_NONPRICE = (
    r"revenues?|sales|profits?|earnings|income|margins?|deliveries|shipments?|orders?|users?|subscribers?|gmv|"
    r"market share|bookings?|volumes?|capacity|output|jobs|layoffs|workforce|staff|headcount|prices|price cuts?|"
    r"tariffs?|duties|dividends?|buybacks?|stakes?|holdings?|weightings?|weight|valuation|discount|premium|"
    r"bonds?|convertibles?|coupons?|yields?|rates?|upside|downside|target|forecast|guidance|outlook|demand|"
    r"exports?|imports?|inflation|gdp|growth|backlog|cash|debt|deficit|traffic|downloads|spending|costs?|"
    r"capex|ebitda|eps|payouts?|fees?|commissions?|premiums|units?|production|funding|investment|wages?|"
    r"futures|options|warrants|cfds?|swaps?|etfs?|funds?|volatility|vix|bitcoin|oil|gold|crude|stake sale"
)
_DERIVATIVE = r"futures|options|warrants|cfds?|swaps?|etfs?|calls|puts"

# ---------------------------------------------------------------------------------------------------------
# Lexer of a predicate region (lower-cased text). One alternation, tried left to right at each position.

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_AMOUNT = (
    r"(?:[$€£¥₹]|(?:us|hk|a|s|nt|c)\$|rs\.?\s?|rmb\s?|yen\s?)\s?(?:" + _NUM + r")\s?"
    r"(?:billion|trillion|million|bn|tn|mn|crore|lakh crore|[bmt])?\b"
)
_MV = r"market (?:value|cap(?:itali[sz]ation)?|valuation|worth)|m-cap|mcap|value"
_MILESTONE = (
    r"(?:(?:a|an|the|its|their|fresh|new|another|yet another)\s+)*"
    r"(?:record(?:[- ](?:high|low|close|closing (?:high|low)|peak|level|territory))?"
    r"(?:\s+(?:high|low))?(?![- ]?(?:"
    + _NONPRICE
    + r"|breaking|-breaking|numbers?|results?|quarter|year|loss|"
    r"losses|gains?|deal|amount|volumes?|turnover|listing|debut|ipo|fine|number)\b)"
    r"|all[- ]time[- ](?:high|low)s?|(?:\d+|" + "|".join(_NUMWORDS) + r"|multi|several|many|fifty-two)"
    r"[- ](?:year|month|week|decade)[- ](?:high|low|peak|top|bottom)s?"
    r"|multi-year (?:high|low)s?|decade[- ](?:high|low)s?|(?:highest|lowest)(?: level| close)? (?:since|in)\b"
    r"|(?:high|low) of the (?:year|decade))"
)
_SUPER = (
    r"(?:biggest|largest|best|worst|sharpest|steepest|strongest|weakest|heaviest|deepest)\s+"
    r"(?:(?:[\w-]+)\s+){0,2}"
    r"(?P<supnoun>day|week|session|one-day|single-day|daily|weekly|intraday|monthly|"
    r"gain|drop|fall|loss|decline|jump|rally|slide|selloff|sell-off|advance|rise|surge|plunge|slump|"
    r"performance|rout|tumble|start)s?\b"
    r"(?=(?:\s+[\w-]+){0,3}?\s+(?:since|in|ever|on record|of the year|this year)\b)"
)

# "record one-day drop", "record single-day gain": the biggest one-session move ever (§6.3); the session
# word keeps "record loss" (a net loss) and "record gains in sales" out.
_RECORD_MOVE_RE = re.compile(
    r"\s+(?:(?:one|single|1)[- ](?:day|session|week)|daily|intraday|weekly|session|day's|week's)\s+"
    r"(?:(?:points?|percentage|[\d,]+-point)\s+)?(?P<rdnoun>gain|drop|fall|loss|decline|jump|rally|slide|"
    r"selloff|sell-off|advance|rise|surge|plunge|slump|rout|tumble|increase|decrease)s?\b"
)

_TOKEN_RE = re.compile(
    r"(?P<amount>" + _AMOUNT + r")"
    r"|(?P<points>(?:" + _NUM + r")\s?(?:(?:percentage|basis)\s+)?(?:points?|pts?|bps)\b)"
    r"|(?P<pct>\(?\s?(?P<sign>[+-])?\s?(?P<num>" + _NUM + r")\s?(?:%|per\s?cent\b|percent\b|pct\b)\)?)"
    r"|(?P<mult>\b(?:doubl(?:e|es|ed|ing)|tripl(?:e|es|ed|ing)|quadrupl(?:e|es|ed|ing)|halv(?:e|es|ed|ing))\b(?!-))"
    r"|(?P<limit>\blimit[- ](?:up|down)\b|\b(?:upper|lower) circuit\b)"
    r"|(?P<ddigit>\b(?:double|triple)[- ]digit\s+(?P<ddnoun>[\w-]+))"
    r"|(?P<super>\b" + _SUPER + r")"
    r"|(?P<most>\bthe most (?:since|in)\b)"
    r"|(?P<milestone>\b" + _MILESTONE + r")"
    r"|(?P<mv>\b(?:" + _MV + r")\b)"
    r"|(?P<nonprice>\b(?:" + _NONPRICE + r")\b)"
    r"|(?P<particle>\b(?:up|down|higher|lower)\b(?!\s+to\b))"
    r"|(?P<word>\b[a-z][a-z-]*\b)"
)

_QUALIFIER_RE = re.compile(
    r"(?:(?:more than|over|nearly|almost|about|around|some|roughly|at least|up to|as much as|as little as|"
    r"just over|just under|close to|approximately|an additional|an extra|a further|another|by|a|an|"
    r"a little (?:over|under|more than)|slightly|well over|fully|much as)\s+)*"
)
_ADJ_BEFORE_NOUN = re.compile(
    r"^\s*(?:(?:one-day|single-day|two-day|three-day|daily|weekly|intraday|session|overnight|premarket|"
    r"pre-market|after-hours|\w+-session|\w+-day|early|earlier|initial|opening|morning|afternoon|late|"
    r"sharp|steep|big|huge|massive|surprise)\s+){0,2}$"
)
# Subordinators open a clause with its own subject; a gerund after them keeps the subject ("before paring").
_BOUNDARY_RE = re.compile(
    # ". " inside a sentence is an abbreviation; a month ("on Oct. 10") does not end the predicate.
    r";|:|\s-\s|\.\s(?<!\bjan\.\s)(?<!\bfeb\.\s)(?<!\bmar\.\s)(?<!\bapr\.\s)(?<!\bjun\.\s)"
    r"(?<!\bjul\.\s)(?<!\baug\.\s)(?<!\bsep\.\s)(?<!\bsept\.\s)(?<!\boct\.\s)(?<!\bnov\.\s)(?<!\bdec\.\s)|"
    r"(?<!much )(?<!many )(?<!well )(?<!high )(?<!little )(?<!low )(?<!such )"
    r"\b(?:as|after|while|when|whereas|but|amid|because|though|although|despite|following|ahead of|"
    r"even as|until|unless|if|yet|whilst|once)\b(?!-)(?!\s+(?:much|little|high|low|well|many|hours|"
    r"the (?:bell|close|open)|[a-z]+ing\b))"
)
# ", BP 4%" / "and Honda 3%": an ellipsis with an unwatched subject ends the current subject's predicate.
_ELLIPSIS_OTHER_RE = re.compile(
    r"(?:,\s*|\s+(?i:and)\s+|\s+&\s+)(?!(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d)"
    r"(?:[A-Z][\w.&'-]*\s+){1,3}\(?[+-]?\d"
)
_COMPOUND_NOUN_RE = re.compile(
    r"\s+(?:fears?|worries|worry|concerns?|risks?|talk|warnings?|probe|investigation|lawsuit|victims?|"
    r"survivors?|site|report|data|plans?|hopes?|bets?|trade|stocks?)\b"
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
    r"\s+|,|\(|\)|\"|'s\b|'(?=\s)|"
    r"(?:share price|stock price|shares?|stocks?|adrs?|adss?|gdrs?|[abh]-shares?|class [abc]|ordinary|common|"
    r"equity|equities|"
    r"index|composite|average|benchmark|gauge|"
    r"[\w.&]+(?:-[\w.&]+)*-listed|listed|hong kong|new york|us|u\.s\.|american|shenzhen|shanghai|tokyo|"
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
_MV_FILLER_RE = re.compile(r"\s*(?:'s\s+)?(?:" + _MV + r")(?![\w-])")
_PRED_START_SKIP_RE = re.compile(
    r"(?:(?:a|an|the|its|their|another|fresh|new|further|sharp|steep|massive|huge|big|strong|solid|"
    r"modest|slight|small|rare|at|with|in|day|week|morning|trading|trade|session|early|earlier|initial|"
    r"opening|intraday|all|much|most|some|part|of)\s+){0,4}"
)

_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_MONTH_ABBR = r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MON = r"(?:" + _MONTHS + r"|(?:" + _MONTH_ABBR + r")\.?)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Explicitly dated past moves (W2): "on Oct. 10", "on Friday, Oct. 10", "on 10 October", "in March 2020",
# "in the 2008 crash", "the Aug. 2024 rout", "last October", "two weeks ago".
_DATED_PAST = (
    r"\bon (?:<WD>,?\s+)?(?:the\s+)?(?:<MON>\s+<DAY>\b|<DAY>\s+(?:of\s+)?<MON>(?![a-z]))"
    r"|\b<MON>\s+(?:<DAY>,?\s+)?(?:19|20)\d\d\b"
    r"|\b(?:in|during) the (?:[\w.-]+\s+){0,2}?(?:19|20)\d\d\b"
    r"|\blast <MONTHS>\b|\b(?:weeks|months|years|a week|a month|a year) ago\b"
)
for _ph, _rx in (("<WD>", _WEEKDAYS), ("<MON>", _MON), ("<DAY>", _DAY), ("<MONTHS>", "(?:" + _MONTHS + ")")):
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
        re.compile(r"\b(?:in|during|for|through) (?:" + _MONTHS + r"|(?:" + _MONTH_ABBR + r")\.)(?!-)"),
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
_W2_RE = re.compile("|".join(f"(?P<w{i}>{rx.pattern})" for i, (rx, _r, _c) in enumerate(_W2_RES)))
_W2_REASONS = [reason for _rx, reason, _c in _W2_RES]
_W2_COMPARABLE = [comparable for _rx, _r, comparable in _W2_RES]
_SINCE_RE = re.compile(r"\bsince\b")
_W3_BEFORE_RE = re.compile(
    r"\b(?:biggest|largest|best|worst|most|sharpest|steepest|strongest|weakest|highest|lowest|heaviest|"
    r"deepest|first time|first)\b[^.;]{0,40}$"
)
_DURATION_RE = re.compile(
    r"\b(?:over|in|during|across|for|within)\s+(?:the\s+)?(?:past\s+|last\s+|previous\s+|prior\s+|next\s+)?"
    r"(?P<n>\d+|"
    + "|".join(_NUMWORDS)
    + r")?\s*(?P<u>sessions?|trading days?|days?|weeks?|months?|quarters?|years?)\b"
    r"|\b(?P<n2>\d+|"
    + "|".join(_NUMWORDS)
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
# "25% auto tariffs", "5% of workforce", "6.6% discount": the number measures that noun, not the price.
_SIZE_OF_OTHER_RE = re.compile(
    r"\s*\)?\s*(?:of\s+(?:its\s+|the\s+)?)?(?:(?!(?:on|after|as|in|amid|with|for|from|to|at|by|and|but|while)\b)"
    r"[\w-]+\s+){0,2}?(?:" + _NONPRICE + r")\b"
)
_LEAD_RE = re.compile(
    r"(?:lead|leads|led|leading)\s+(?!with\b)(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:gains|losses|gainers|losers|"
    r"decliners|advancers|rally|decline|declines|drop|selloff|sell-off|rout|charge|way|advance|slide|retreat|"
    r"rebound|higher|lower|fall|rise|surge|slump)\b\s*,?\s*(?:(?:with|after|before|as|by)\s+)?"
)
_LEAD_WORDS = ("lead", "leads", "leading", "led")
_PARTICLE_AFTER_RE = re.compile(r"\s+(up|down|higher|lower)\b(?!\s+to\b)")
_TO_LEVEL_RE = re.compile(r"(?<!up )\bto\s*(?:(?:below|above|about|around|just|nearly|over|under)\s*)?$")
_POINTS_AFTER_RE = re.compile(r"\s*(?:percentage|basis)?\s*points?\b")
_LIST_SEP_RE = re.compile(r"\s*(?:,|and|&|, and)\s*")
_ARRIVAL_END_RE = re.compile(r"\b(?:" + _ARRIVAL + r"|" + _CLOSING_AT + r")\s*$")
_TO_END_RE = re.compile(r"\bto\s*$")
_LOW_RE = re.compile(r"\blow|\blowest|\bbottom")
_MV_AFTER_RE = re.compile(r"\s*(?:(?:in|of|off|from|to)\s+(?:its\s+|their\s+)?)?(?:" + _MV + r")\b")
_AMOUNT_LEVEL_RE = re.compile(r"\b(?:to|above|past|over|beyond|at|near|below|under|beneath|through)\s*$")
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
_IN_NONPRICE_RE = re.compile(r"\s+(?:in|of)\s+(?:[\w-]+\s+)?(?:" + _NONPRICE + r")\b")
_PREPOSITION_RE = re.compile(r"(?:in|on|during|for|through|from|off|below|above|since|over)\b")
_FUTURE_RE = re.compile(r"\bnext (?:year|month|week|quarter)\b|\bby (?:year-end|the end of)\b")


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


@dataclass(slots=True)
class Predicate:
    """The result of reading the text after a subject."""

    statements: list[Statement] = field(default_factory=list)
    rejected: str = ""  # why no statement at all (empty when statements were found)
    start: int = 0  # offset in the tail where the predicate begins (after the filler)
    end: int = 0  # offset in the tail where the predicate region ends
    mv_subject: bool = False  # the subject was "X market value": amounts are market-value changes
    coord_names: int = 0  # unwatched names coordinated after the subject ("Visa and Mastercard drop")


def _duration_sessions(n: str | None, unit: str) -> int:
    count = 1
    if n:
        count = int(n) if n.isdigit() else _NUMWORDS.get(n, 1)
    unit = unit.rstrip("s").replace("-", " ")
    return count * _UNIT_SESSIONS.get(unit, 1)


def _longest_duration(text: str) -> int:
    best = 0
    for m in _STREAK_RE.finditer(text):
        raw = m.group("n")
        n = _ORDINALS.get(raw) or int(re.sub(r"\D", "", raw) or 1)
        best = max(best, n * _UNIT_SESSIONS.get(m.group("u"), 1))
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
    m2 = _W2_RE.search(scope)
    while m2 is not None:
        i = int(m2.lastgroup[1:]) if m2.lastgroup else 0
        if not (_W2_COMPARABLE[i] and _W3_BEFORE_RE.search(scope, 0, m2.start())):
            return _W2_REASONS[i]
        m2 = _W2_RE.search(scope, m2.end())  # W3: "its biggest gain this year" compares today's move
    for m in _SINCE_RE.finditer(scope):
        # W3: "worst day since 2008" compares today's move; it does not measure from 2008.
        if not _W3_BEFORE_RE.search(scope, 0, m.start()):
            return "cumulative: measured 'since' a past date/event"
    if _FUTURE_RE.search(scope):
        return "hypothetical: a future period"
    sessions = _longest_duration(scope)
    if _PERIOD_BACKREF_RE.search(scope):
        sessions = max(sessions, _longest_duration(sentence))
    if sessions > 5:
        return f"cumulative: a span of about {sessions} sessions (> 5)"
    return ""


def _num(text: str) -> float:
    return float(text.replace(",", ""))


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
                if low_w in LEXICON or low_w in _LIGHT_VERBS or low_w in _FILLER_WORDS:
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
    m = re.match(r"(?:[\w-]+\s+){0,3}?(" + _DERIVATIVE + r")\b", rest)
    if m:
        return f"derivative, not the security: {m.group(1)!r}"
    m = re.match(r"(?:[\w'-]+\s+){0,3}?(" + _NONPRICE + r")\b", rest)
    if m:
        return f"not a price: {m.group(1)!r}"
    return f"no move verb after the mention (next words: {' '.join(rest.split()[:4])!r})"


def _region_end(tail: str, low_tail: str, start: int) -> int:
    end = len(tail)
    m = _BOUNDARY_RE.search(low_tail, start)
    if m:
        end = m.start()
    m = _ELLIPSIS_OTHER_RE.search(tail, start, end)
    if m:
        end = m.start()
    return end


def read_predicate(
    tail: str, low_tail: str, inherited_dir: str | None, sentence_low: str, causative: bool = False
) -> Predicate:
    """Read the move statements in ``tail`` (the text right after a subject, up to the next subject).

    ``inherited_dir`` is the direction a bare size takes ("Samsung rises 6%, SK Hynix 9%": the verb is
    elided) when the tail itself gives none. ``causative``: the subject is the object of a causative verb
    ("sends Nikkei to a record high"), whose "to" is an arrival (§3.1, §6.4).
    """
    pred = Predicate()
    start, mv, pred.coord_names = read_filler(tail, low_tail)
    pred.mv_subject = mv
    pred.start = start
    end = _region_end(tail, low_tail, start)
    pred.end = end
    region = low_tail[start:end]

    # The predicate must begin with a move token (after a light verb such as "posts" / "closes" / "hits").
    head = _QUALIFIER_RE.match(region).end()  # type: ignore[union-attr]
    lead = _LEAD_RE.match(region, head)
    if lead:
        # "led gains, rising 6%": leading gives no move of its own (§3.2), but a sized move may follow.
        if lead.end() >= len(region.rstrip()):
            pred.rejected = f"leading gives no move of its own: {region[head:].strip()!r}"
            return pred
        head = _QUALIFIER_RE.match(region, lead.end()).end()  # type: ignore[union-attr]
    first = _TOKEN_RE.match(region, head)
    ok = False
    if causative and first is not None and first.group(0) == "to":
        nxt0 = _TOKEN_RE.match(region, _PRED_START_SKIP_RE.match(region, first.end() + 1).end())  # type: ignore[union-attr]
        ok = nxt0 is not None and nxt0.lastgroup == "milestone"
    elif first is not None:
        kind = first.lastgroup
        if kind == "word":
            w = first.group("word")
            if w in LEXICON:
                ok = not _COMPOUND_NOUN_RE.match(region, first.end())
            elif w in _LIGHT_VERBS or w in _LEAD_WORDS:
                if w.startswith("le") and not region.startswith(" with", first.end()):
                    ok = False  # "lead losses": leading gives no move of one's own (§3.2)
                else:
                    after = _PRED_START_SKIP_RE.match(
                        region, first.end() + 1 if first.end() < len(region) else first.end()
                    )
                    pos2 = after.end() if after else first.end()
                    pos2 = _QUALIFIER_RE.match(region, pos2).end()  # type: ignore[union-attr]
                    nxt = _TOKEN_RE.match(region, pos2)
                    if nxt is not None and nxt.lastgroup in (
                        "pct", "mult", "limit", "ddigit", "super", "milestone", "particle", "most", "amount",
                    ):  # fmt: skip
                        ok = True
                    elif nxt is not None and nxt.lastgroup == "word" and nxt.group("word") in LEXICON:
                        ok = True
        elif kind in ("pct", "mult", "particle", "limit", "amount", "super", "ddigit"):
            ok = True
        elif kind == "milestone":
            ok = _is_record_move(first, region)  # "Nikkei's record one-day drop"
    if not ok:
        pred.rejected = _reject_reason(region[head:] if region.strip() else low_tail[start:])
        return pred

    _interpret(region, tail[start:end], head, inherited_dir, mv, sentence_low, pred, causative)
    if not pred.statements and not pred.rejected:
        pred.rejected = _reject_reason(region)
    return pred


def _interpret(
    region: str,
    orig: str,
    pos: int,
    inherited: str | None,
    mv: bool,
    sentence_low: str,
    pred: Predicate,
    causative: bool = False,
) -> None:
    tokens = [m for m in _TOKEN_RE.finditer(region, pos)]
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
            if w in LEXICON and not _COMPOUND_NOUN_RE.match(region, t.end()):
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
            elif w in _LEAD_WORDS or w in _LIGHT_VERBS:
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
            value = _num(t.group("num"))
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
        if kind == "milestone" and _is_record_move(t, region):
            rec = _RECORD_MOVE_RE.match(region, t.end())
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
    for k, (off, st) in enumerate(statements):
        nxt = len(region)
        k_next = -1
        for k2 in range(k + 1, len(offsets)):
            if offsets[k2] > off and kinds[k2] not in ("milestone", "superlative"):
                nxt = offsets[k2]
                k_next = k2
                break
        cut, carry = _scope_end(region, off, nxt, anchors.get(nxt, nxt), k_next >= 0)
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
        pred.statements.append(st)
    _mark_lists(region, statements)


def _scope_end(region: str, off: int, nxt: int, next_anchor: int, has_next: bool) -> tuple[int, int]:
    """Where the time-window scope of the statement at ``off`` ends (``nxt``: the next statement), and from
    where the text before ``nxt`` is also carried into the next statement's scope."""
    brk = _CLAUSE_BREAK_RE.search(region, off, nxt) if "," in region else None
    if brk is not None and (has_next or _SPAN_NOUN_RE.search(region, brk.end(), nxt)):
        # "jumps 7%, trimming its year-to-date loss to 30%"; "rises 2.5%, extending its winning streak to
        # seven sessions": the participle clause measures its own quantity, not this statement's.
        return brk.start(), brk.start()
    if has_next and _W2_RE.search(region, off, nxt):
        for m in _W2_RE.finditer(region, off, nxt):
            if _PREMODIFIER_GAP_RE.fullmatch(region, m.end(), next_anchor):
                # "its year-to-date loss of 30%": the marker modifies the next noun. A prepositional one ("fell
                # 9% in the 2008 crash") also scopes the verb before it.
                return (nxt if _PREPOSITION_RE.match(m.group(0)) else m.start()), m.start()
    return nxt, nxt


def _is_record_move(tok: re.Match[str], region: str) -> bool:
    """A bare "record" followed by a one-session move noun: "record one-day drop" (§6.3 superlative)."""
    return tok.group(0).endswith("record") and _RECORD_MOVE_RE.match(region, tok.end()) is not None


def _mark_lists(region: str, statements: list[tuple[int, Statement]]) -> None:
    sizes = [(off, st) for off, st in statements if st.kind == "size"]
    groups: list[list[Statement]] = []
    prev_end = -1
    for off, st in sizes:
        if groups and prev_end >= 0 and _LIST_SEP_RE.fullmatch(region, prev_end, off):
            groups[-1].append(st)
        else:
            groups.append([st])
        m = _TOKEN_RE.match(region, off)
        prev_end = m.end() if m else off
    for g in groups:
        for idx, st in enumerate(g):
            st.list_index = idx
            st.list_len = len(g)
