"""Several reports of one event: one alert per event per cycle, the best-supported number, a capped
number of escalations across cycles (real SQLite and Redis stores)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from moverwatch.config import parse_settings
from moverwatch.detect import Detector
from moverwatch.models import Alert, Move, NewsItem
from moverwatch.notify import Notifier
from moverwatch.pipeline import claim_events
from moverwatch.runtime import Runtime
from moverwatch.state import StateStore

from ..conftest import CORPUS

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _runtime(store: StateStore, tmp_path: Path, **dedup: Any) -> Runtime:
    settings = parse_settings(
        {"feeds": [{"name": "af", "url": "http://127.0.0.1:1/f"}], "watchlist": str(CORPUS / "watchlist.yaml"),
         "dedup": dedup},
        "(test)",
        tmp_path,
    )  # fmt: skip
    wl = settings.load_watchlist()
    return Runtime(settings, wl, store, Detector(wl), Notifier([], console=lambda _l: None), lambda: NOW, "w")


def _report(source: str, pct: float | None, minutes: int) -> tuple[NewsItem, list[Move]]:
    url = f"https://{source}.example/baba-{minutes}"
    item = NewsItem(source, url, url, url, f"Alibaba {pct}", "", NOW + timedelta(minutes=minutes), NOW)
    return item, [Move("BABA", "up", pct)]


def _claim(rt: Runtime, reports: list[tuple[NewsItem, list[Move]]], at: datetime) -> list[Alert]:
    return [a for a, _ch in claim_events(rt, [i for i, _m in reports], reports, at)]


def test_reports_in_one_cycle_make_one_alert_with_the_earliest_stated_number(
    store: StateStore, tmp_path: Path
) -> None:
    """An unsized report, then 15%, then 20% in one cycle: one alert, up 15% from the sized outlet."""
    rt = _runtime(store, tmp_path)
    [alert] = _claim(rt, [_report("wire", None, 0), _report("scmp", 15.0, 5), _report("blog", 20.0, 10)], NOW)
    assert (alert.kind, alert.pct, alert.source) == ("new", 15.0, "scmp")
    event = store.get_event("BABA|up")
    assert event is not None and set(event.sources) == {"wire", "scmp", "blog"}


def test_one_escalation_per_cycle_to_the_largest_number(store: StateStore, tmp_path: Path) -> None:
    """Alerted at 10% last cycle, then 16%, 22% and 30% in one cycle: one escalation, to 30%."""
    rt = _runtime(store, tmp_path)
    _claim(rt, [_report("wire", 10.0, 0)], NOW)
    later = NOW + timedelta(minutes=30)
    alerts = _claim(rt, [_report("a", 16.0, 31), _report("b", 22.0, 32), _report("c", 30.0, 33)], later)
    assert [(a.kind, a.pct) for a in alerts] == [("escalation", 30.0)]


def test_escalations_of_an_event_are_capped(store: StateStore, tmp_path: Path) -> None:
    """With max_escalations 1, a second larger number in a later cycle sends nothing."""
    rt = _runtime(store, tmp_path, max_escalations=1)
    _claim(rt, [_report("wire", 10.0, 0)], NOW)
    assert [a.pct for a in _claim(rt, [_report("a", 16.0, 31)], NOW + timedelta(minutes=30))] == [16.0]
    assert _claim(rt, [_report("b", 30.0, 61)], NOW + timedelta(minutes=60)) == []
