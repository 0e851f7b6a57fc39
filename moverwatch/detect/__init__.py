"""Detection stage: which watched tickers a news item says made a big price move (LABELING.md).

``aliases`` finds mentions in one automaton pass, ``grammar`` reads the move statements after a subject,
``detector`` applies the decision procedure and implements the ``moverwatch detect`` contract.
"""

from moverwatch.detect.detector import Detector, stream_jsonl

__all__ = ["Detector", "stream_jsonl"]
