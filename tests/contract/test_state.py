"""State-store contract: the same behaviour on SQLite and on real Redis."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from moverwatch.dedup import EventRecord, decide
from moverwatch.models import Alert, FeedHealth, Move, NewsItem
from moverwatch.state import RedisStore, SQLiteStore, StateStore

NOW = datetime(2025, 2, 21, 11, 30, tzinfo=UTC)
WINDOW = timedelta(hours=12)


def _item(source: str = "af", url: str = "https://www.asiafinancial.com/?p=1") -> NewsItem:
    return NewsItem(source, url, url, url, "Alibaba Shares Jump 14%", "", NOW, NOW)


def _claim(
    store: StateStore, pct: float | None = 14.0, source: str = "af", channels: tuple[str, ...] = ("a",)
) -> list[tuple[Alert, str]]:
    move = Move("BABA", "up", pct)
    item = _item(source, f"https://{source}.example/x")

    def update(existing: EventRecord | None) -> tuple[EventRecord, list[tuple[Alert, str]]]:
        _d, rec, alert = decide(existing, item, move, NOW, NOW, WINDOW, 5.0)
        return rec, [(alert, c) for c in channels] if alert else []

    return store.claim_event("BABA|up", update, NOW)


def test_seen_items_are_remembered(store: StateStore) -> None:
    """An item marked seen is reported seen; others are not."""
    assert store.seen(["a", "b"], timedelta(days=1), NOW) == set()
    store.mark_seen(["a"], timedelta(days=1), NOW)
    assert store.seen(["a", "b"], timedelta(days=1), NOW) == {"a"}


def test_first_report_enqueues_one_delivery_per_channel(store: StateStore) -> None:
    """A new event enqueues its alert for each routed channel in the same step."""
    enq = _claim(store, channels=("slack", "mail"))
    assert [c for _a, c in enq] == ["slack", "mail"]
    assert store.pending_count() == 2


def test_duplicate_report_enqueues_nothing_but_adds_source(store: StateStore) -> None:
    """A second outlet reporting the same move adds to 'also reported by' and sends nothing."""
    _claim(store, source="af")
    assert _claim(store, source="digest") == []
    rec = store.get_event("BABA|up")
    assert rec is not None and rec.sources == ("af", "digest")


def test_larger_move_escalates_once(store: StateStore) -> None:
    """A report at least escalate_points higher sends one escalation; the same size again does not."""
    _claim(store, pct=14.0)
    enq = _claim(store, pct=19.0, source="reuters")
    assert [a.kind for a, _ in enq] == ["escalation"]
    assert _claim(store, pct=19.5, source="cnbc") == []


def test_concurrent_claims_create_one_event(store: StateStore) -> None:
    """Parallel workers claiming the same move enqueue exactly one alert (atomic claim)."""
    results: list[int] = []

    def worker(i: int) -> None:
        # Each worker has its own connection, as separate processes would.
        own = (
            SQLiteStore(store.path) if isinstance(store, SQLiteStore) else RedisStore(store.url, store.prefix)
        )  # type: ignore[attr-defined]
        results.append(len(_claim(own, source=f"s{i}")))
        own.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0] * 7 + [1]


def test_acked_delivery_is_never_handed_out_again(store: StateStore) -> None:
    """After ack, the delivery is done for good."""
    _claim(store)
    [d] = store.take_deliveries(NOW, 10, "w1", timedelta(minutes=5))
    store.ack(d, NOW)
    assert store.take_deliveries(NOW + timedelta(hours=1), 10, "w2", timedelta(0)) == []
    assert store.pending_count() == 0


def test_failed_delivery_comes_back_after_backoff(store: StateStore) -> None:
    """A failed send is not due before its retry time, then is due with its attempt counted."""
    _claim(store)
    [d] = store.take_deliveries(NOW, 10, "w1", timedelta(minutes=5))
    store.retry_later(d, NOW + timedelta(minutes=2), "HTTP 500")
    assert store.take_deliveries(NOW + timedelta(minutes=1), 10, "w1", timedelta(minutes=5)) == []
    [again] = store.take_deliveries(NOW + timedelta(minutes=2), 10, "w1", timedelta(minutes=5))
    assert again.attempts == 1 and again.alert.symbol == "BABA"
    assert store.pending_count() == 1


def test_delivery_held_by_dead_worker_is_taken_over(store: StateStore) -> None:
    """A delivery read by a worker that died (no ack) goes to the next worker after claim_timeout."""
    _claim(store)
    assert len(store.take_deliveries(NOW, 10, "dead-worker", timedelta(0))) == 1
    taken = store.take_deliveries(NOW, 10, "next-worker", timedelta(0))
    assert len(taken) == 1


def test_delivery_held_by_live_worker_is_not_taken(store: StateStore) -> None:
    """Within claim_timeout a second worker does not get the same delivery (no double send)."""
    _claim(store)
    assert len(store.take_deliveries(NOW, 10, "w1", timedelta(minutes=5))) == 1
    assert store.take_deliveries(NOW, 10, "w2", timedelta(minutes=5)) == []


def test_buried_delivery_is_listed_as_dead(store: StateStore) -> None:
    """After max attempts an alert is parked as dead with its reason, not dropped."""
    _claim(store)
    [d] = store.take_deliveries(NOW, 10, "w1", timedelta(minutes=5))
    store.bury(d, "HTTP 500 from channel", NOW)
    [dead] = store.dead_letters()
    assert dead.alert.symbol == "BABA" and dead.error == "HTTP 500 from channel"
    assert store.pending_count() == 0


def test_feed_health_round_trips(store: StateStore) -> None:
    """Feed state saved by one run is read by the next."""
    health = FeedHealth("af", "https://af.example/feed", etag='"abc"', consecutive_failures=2, next_poll=NOW)
    store.save_feeds([health])
    assert store.load_feeds(["af", "other"]) == {"af": health}


def test_window_counter_counts_per_minute(store: StateStore) -> None:
    """The flood-control counter counts sends within a minute and starts over in the next."""
    assert [store.incr_window("rate:x", 60, NOW) for _ in range(3)] == [1, 2, 3]
    assert store.incr_window("rate:x", 60, NOW + timedelta(minutes=1)) == 1


def test_number_after_unsized_alert_escalates(store: StateStore) -> None:
    """A move first alerted without a number ("hits record high") escalates once when a report gives one."""
    _claim(store, pct=None)
    enq = _claim(store, pct=14.0, source="af2")
    assert [(a.kind, a.pct) for a, _ in enq] == [("escalation", 14.0)]


def test_url_guid_dedups_across_feeds_but_opaque_guid_does_not() -> None:
    """The same WordPress ?p=ID guid in the RSS and Atom feeds is one story; a bare '1' is per feed."""
    from moverwatch.dedup import item_keys

    a = NewsItem(
        "af-rss", "https://www.asiafinancial.com/?p=141502", "https://a/x", "https://a/x", "t", "", NOW, NOW
    )
    b = NewsItem(
        "af-atom", "https://www.asiafinancial.com/?p=141502", "https://a/y", "https://a/y", "t", "", NOW, NOW
    )
    assert set(item_keys(a)) & set(item_keys(b))
    c = NewsItem("blog1", "1", "https://b/1", "https://b/1", "t", "", NOW, NOW)
    d = NewsItem("blog2", "1", "https://c/1", "https://c/1", "t", "", NOW, NOW)
    assert not set(item_keys(c)) & set(item_keys(d))


def test_seen_items_are_forgotten_after_their_ttl(store: StateStore) -> None:
    """A seen item is remembered for its TTL, then forgotten (state does not grow forever)."""
    ttl = timedelta(hours=2)
    store.mark_seen(["a"], ttl, NOW)
    assert store.seen(["a"], ttl, NOW + timedelta(hours=1, minutes=59)) == {"a"}
    assert store.seen(["a"], ttl, NOW + timedelta(hours=3, minutes=1)) == set()
