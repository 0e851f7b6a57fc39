"""The worker pool: feed parsing and big detection batches in processes, apart from the cycle's sequence.

feedparser and the detector are pure Python and hold the GIL, so on a big cycle bodies are parsed in a
process pool while the rest are still downloading, and a cold cycle's detection is split over the same
processes. One pool per process, kept across cycles: starting workers (spawn) costs ~1 s, more than a steady
cycle's parsing. Spawn, not fork: Prefect and httpx run threads that a forked child would inherit half-locked.
"""

from __future__ import annotations

import atexit
import functools
import multiprocessing
import os
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import datetime

from moverwatch.detect import Detector
from moverwatch.errors import TransientFeedError
from moverwatch.heap import bound_heap
from moverwatch.models import FetchResult, Move, NewsItem, ParseResult
from moverwatch.watchlist import Watchlist

_POOL: ProcessPoolExecutor | None = None


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(
            max_workers=os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")
        )
        atexit.register(_POOL.shutdown, cancel_futures=True)
    return _POOL


def _multicore() -> bool:
    return (os.cpu_count() or 1) > 1


def _parse_one(name: str, url: str, body: bytes, now: datetime, oldest: datetime | None) -> ParseResult:
    from scrapers.parse import parse_feed  # feedparser loads on first use: a run with nothing due skips it

    bound_heap()  # a worker decompresses and frees a body per feed: same fragmentation as the parent
    return parse_feed(name, url, body, now, now=now, text_since=oldest)


def _parse_packed(name: str, url: str, packed: bytes, now: datetime, oldest: datetime | None) -> ParseResult:
    return _parse_one(name, url, zlib.decompress(packed), now, oldest)


class Parser:
    """Parses bodies as they arrive: in the process pool on big cycles (feedparser holds the GIL), else in one
    background thread. Never in the caller's thread: that is the fetch loop's, and a 4 MB feed parsed there
    stalled every other download past its timeout."""

    def __init__(self, now: datetime, pooled: bool, oldest: datetime | None = None) -> None:
        self._now = now
        self._oldest = oldest  # items published before it keep no summary (only recorded as seen)
        self._pooled = pooled and _multicore()
        # Both start with the first body to parse: a quiet cycle (every feed 304) starts neither.
        self._pool: ProcessPoolExecutor | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._fetched: dict[str, FetchResult] = {}
        self._parsed: dict[str, ParseResult | Future[ParseResult] | None] = {}

    def submit(self, r: FetchResult, full_text: bool = False) -> None:
        """Parse ``r``'s body; ``full_text`` keeps every item's summary (bundled samples are re-dated after
        parsing, so their age is not known yet)."""
        oldest = None if full_text else self._oldest
        self._fetched[r.name] = replace(r, body=None)  # the body is only needed by the parser
        if r.body is None or r.error is not None:
            self._parsed[r.name] = None
            return
        if self._pooled and self._pool is None:
            self._pool = _pool()
        if self._pool is not None:
            # Fetching outruns parsing, so bodies wait in the pool's queue: packed (zlib level 1, ~1 ms for
            # 200 KB, ~8x smaller) a cold 1,000-feed cycle queues ~25 MB instead of ~200 MB.
            self._parsed[r.name] = self._pool.submit(
                _parse_packed, r.name, r.final_url or r.url, zlib.compress(r.body, 1), self._now, oldest
            )
        else:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse")
            self._parsed[r.name] = self._thread.submit(
                _parse_one, r.name, r.final_url or r.url, r.body, self._now, oldest
            )

    def results(self, names: Sequence[str]) -> tuple[list[FetchResult], list[ParseResult | None]]:
        """The fetch results (without bodies) and parse results of ``names``, in that order."""
        parsed: list[ParseResult | None] = []
        for name in names:
            p = self._parsed[name]
            parsed.append(self._collect(name, p) if isinstance(p, Future) else p)
        return [self._fetched[n] for n in names], parsed

    def _collect(self, name: str, future: Future[ParseResult]) -> ParseResult:
        try:
            return future.result()
        except Exception as exc:  # a worker killed (OOM, signal) costs its feeds one poll, not the cycle
            global _POOL
            if isinstance(exc, BrokenProcessPool):
                _POOL = None  # the next cycle starts a fresh pool
            r = self._fetched[name]
            # An error keeps the feed's old validators, so the next poll fetches and parses the body again.
            err = TransientFeedError(
                name, r.url, f"parser process failed ({exc.__class__.__name__}); will retry"
            )
            return ParseResult(name, (), "", (), err, 0)

    def close(self) -> None:
        for p in self._parsed.values():
            if isinstance(p, Future):
                p.cancel()  # a cycle that failed half-way leaves no work queued for the next one
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)


def detect_all(detector: Detector, items: Sequence[NewsItem], pool_min: int = 5000) -> list[list[Move]]:
    """The moves in each item, in order; a batch of at least ``pool_min`` items is split over the pool."""
    texts = [(i.title, i.summary) for i in items]
    if len(items) < pool_min or not _multicore():
        return [detector.detect(t, s) for t, s in texts]
    pool = _pool()
    spec = detector.watchlist.model_dump_json()
    # Small chunks, few in flight: pool.map would pickle every text at once (+40 MB at 50k items).
    in_flight = 2 * (os.cpu_count() or 1)
    futures: deque[Future[list[list[Move]]]] = deque()
    found: list[list[Move]] = []
    for k in range(0, len(texts), 500):
        if len(futures) >= in_flight:
            found.extend(futures.popleft().result())
        futures.append(pool.submit(_detect_chunk, spec, texts[k : k + 500]))
    while futures:
        found.extend(futures.popleft().result())
    return found


@functools.lru_cache(maxsize=2)
def _worker_detector(spec: str) -> Detector:
    return Detector(Watchlist.model_validate_json(spec))


def _detect_chunk(spec: str, texts: list[tuple[str, str]]) -> list[list[Move]]:
    detector = _worker_detector(spec)
    return [detector.detect(t, s) for t, s in texts]
