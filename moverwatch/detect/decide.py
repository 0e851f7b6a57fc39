"""Decision procedure (LABELING §6.2, §7, §8): from a ticker's statements to at most one reported move."""

from __future__ import annotations

from dataclasses import dataclass

from moverwatch.detect.statements import Statement
from moverwatch.models import Direction, Move, Where


@dataclass(slots=True)
class Found:
    """A statement attributed to one ticker, with where it was read (``order``: reading order key)."""

    order: tuple[int, int, int]
    statement: Statement
    where: Where
    sentence: str
    subject: str


def decide(symbol: str, threshold: float, items: list[Found]) -> tuple[Move | None, str]:
    """The move to report for ``symbol`` and why: the first eligible size at or above ``threshold`` in reading
    order; if no eligible statement has a size, the first strong one with pct null; else nothing."""
    items = sorted(items, key=lambda f: f.order)
    eligible = [f for f in items if f.statement.eligible and f.statement.direction in ("up", "down")]
    sized = [f for f in eligible if f.statement.pct is not None]
    if sized:
        for f in sized:
            assert f.statement.pct is not None
            if f.statement.pct >= threshold - 1e-9:
                why = f"first size >= threshold {threshold:g}%: {f.statement.evidence!r}"
                return _move(symbol, f, f.statement.pct), why
        sizes = ", ".join(f"{f.statement.pct:g}%" for f in sized)
        return None, f"below threshold {threshold:g}% (sizes {sizes}); a stated size overrides strong words"
    strong = [f for f in eligible if f.statement.strong]
    if strong:
        return _move(symbol, strong[0], None), (
            f"no eligible size; strong {strong[0].statement.kind} {strong[0].statement.evidence!r}"
        )
    return None, "no eligible size and no strong move word"


def _move(symbol: str, f: Found, pct: float | None) -> Move:
    direction: Direction = "up" if f.statement.direction == "up" else "down"
    return Move(symbol=symbol, direction=direction, pct=pct, evidence=f.sentence, where=f.where)
