"""Detection stage: which watched tickers a news item says made a big price move (LABELING.md v2).

Steps in reading order, one module each; each LABELING section has one home:

==============  ==============================================================  ====================
module          step                                                            LABELING
==============  ==============================================================  ====================
``aliases``     mentions: one automaton pass, excludes, longest match           §2 (M1-M5)
``sentences``   split a text into sentences                                     §3.3 reading order
``anaphora``    find ``its shares`` / ``the index``; resolve, with blocking      §3.3
``subjects``    brackets, coordination, the words before a subject, mapping     §3.1, §3.2, §3.4
``grammar``     the predicate after a subject: filler, head, region, rejects    §3.1, §4
``statements``  the move statements of a predicate (one handler per token)      §6.1, §6.3-§6.5, §7
``lexicon``     vocabulary and lexer shared by the above                        §4, §6
``window``      time window of a statement                                      §5
``decide``      the decision per ticker                                         §6.2, §7, §8
``detector``    orchestration, ``explain`` trace, ``moverwatch detect`` stream   §8
==============  ==============================================================  ====================
"""

from moverwatch.detect.detector import Detector, stream_jsonl

__all__ = ["Detector", "stream_jsonl"]
