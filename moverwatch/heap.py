"""Keep freed feed bodies from staying resident: fix glibc malloc's mmap and trim thresholds.

glibc raises its mmap threshold (up to 32 MB) each time a large mmapped block is freed, so after the first
few feed bodies every later ~200 KB body, gzip buffer and pickled parse result comes from the heap instead,
and the freed space stays resident, fragmented between live items. On a cold 1,000-feed cycle that was
~200 MB of RSS holding nothing (bench/poll.py: 390 MB peak, 360 MB after the cycle; with the thresholds
fixed, ~175 MB after it). Fixed thresholds keep big blocks in mmap, returned to the OS when freed.
Elsewhere (musl, macOS, no ctypes) this is a no-op.
"""

from __future__ import annotations

import sys

__all__ = ["bound_heap"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 128 * 1024  # glibc's own starting value, kept instead of adapted upwards
_applied: bool | None = None


def bound_heap() -> bool:
    """Apply the fixed thresholds once per process; True when glibc accepted them."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (ImportError, OSError, AttributeError):  # not glibc, or no ctypes: nothing to tune
        return False
    _applied = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _THRESHOLD))
    return _applied
