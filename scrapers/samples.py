"""The sample feeds bundled with moverwatch (``sample://<file>``), for the offline demo.

The files are frozen fixtures written around 2025-02-21T11:30Z; their items are shifted so that this
instant becomes the time of the run, so the demo always shows fresh news.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources

from moverwatch.errors import PermanentFeedError
from moverwatch.models import SAMPLE_SCHEME, FetchResult, NewsItem

SAMPLE_NOW = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)


def is_sample(url: str) -> bool:
    return url.startswith(SAMPLE_SCHEME)


def read_sample(name: str, url: str) -> bytes:
    """The bytes of a bundled sample feed."""
    filename = url.removeprefix(SAMPLE_SCHEME)
    res = resources.files("moverwatch") / "data" / "feeds" / filename
    if "/" in filename or not res.is_file():
        raise PermanentFeedError(name, url, f"no bundled sample feed named {filename!r}")
    return res.read_bytes()


def shift_to_now(items: Sequence[NewsItem], now: datetime) -> list[NewsItem]:
    """Move publication times so the sample's 'now' is the run's now."""
    delta = now - SAMPLE_NOW
    return [
        dataclasses.replace(i, published_at=i.published_at + delta) if i.published_at else i for i in items
    ]


def fetch_sample(name: str, url: str) -> FetchResult:
    """Read a bundled sample as if it had been fetched (always a fresh 200: the demo has no validators)."""
    t0 = time.perf_counter()
    try:
        body, err = read_sample(name, url), None
    except PermanentFeedError as exc:
        body, err = None, exc
    return FetchResult(
        name=name,
        url=url,
        final_url=url,
        status=200 if body else None,
        body=body,
        etag=None,
        last_modified=None,
        body_hash=None,
        not_modified=False,
        error=err,
        elapsed_ms=(time.perf_counter() - t0) * 1000,
        content_type="application/xml",
    )
