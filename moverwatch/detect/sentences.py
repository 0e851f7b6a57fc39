"""Split a title or summary into sentences; anaphora and predicates are read sentence by sentence (§3.3)."""

from __future__ import annotations

import re

_ABBREVIATIONS = {"inc", "corp", "co", "ltd", "plc", "u.s", "u.k", "mr", "ms", "dr", "st", "jr", "sr", "no",
                  "vs", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
                  "e.g", "i.e", "approx", "est", "bn", "mln", "s.a", "n.v", "ag"}  # fmt: skip
_SENTENCE_END_RE = re.compile(r"[.!?](?=\s+[\"'(]?[A-Z0-9$])")
_LAST_WORD_RE = re.compile(r"([\w.]+)$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``; a full stop after an abbreviation (``Corp.``) ends none."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        word = _LAST_WORD_RE.search(text, start, m.start())
        if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            continue
        spans.append((start, m.end()))
        start = m.end()
        while start < len(text) and text[start] == " ":
            start += 1
    if start < len(text):
        spans.append((start, len(text)))
    return spans
