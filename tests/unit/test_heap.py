"""The malloc tuning of moverwatch.heap: applied once, harmless where there is no glibc."""

from __future__ import annotations

import sys

from moverwatch.heap import bound_heap


def test_bound_heap_is_idempotent() -> None:
    """Calling it again returns the first answer; on Linux (glibc) the thresholds are accepted."""
    first = bound_heap()
    assert bound_heap() is first
    if sys.platform.startswith("linux"):
        assert first is True
