"""The rolling graph manager's logic, with a fake capture (no GPU needed)."""
from __future__ import annotations

import threading
import time

import pytest

from strategies.graph_manager import GraphManager
from strategies.rolling_graphs import BatchKey


class FakeCapture:
    def __init__(self):
        self.captured: list[int] = []
        self.released: list[str] = []

    def __call__(self, key: int) -> str:
        self.captured.append(key)
        return f"graph-{key}"

    def release(self, entry: str) -> None:
        self.released.append(entry)


def test_lru_order_max_graphs_and_eviction_counters():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=2, release=fake.release)
    assert m.capture(10) and m.capture(20)
    assert not m.capture(10)  # already there: no second capture
    assert m.get(10) == "graph-10"  # hit; 10 becomes most recent
    assert m.get(30) == "graph-30"  # miss: on demand, evicts the LRU (20)
    assert list(m.graphs) == [10, 30]
    assert fake.released == ["graph-20"]
    c = m.counters()
    assert (c["graphs_generated"], c["graphs_deleted"], c["hits"], c["misses"], c["on_demand_captures"]) == (3, 1, 1, 1, 1)
    assert c["usage"] == {"10": 1, "30": 1}


def test_on_demand_capture_works_after_the_lru_is_full():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=3, release=fake.release)
    for key in (1, 2, 3):
        m.capture(key)
    for key in (4, 5, 6, 7):
        assert m.get(key) == f"graph-{key}"
    assert len(m.graphs) == 3 and list(m.graphs) == [5, 6, 7]
    assert m.counters()["graphs_deleted"] == 4


def test_clear_releases_everything():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=4, release=fake.release)
    for key in (1, 2):
        m.capture(key)
    m.clear()
    assert not m.graphs and sorted(fake.released) == ["graph-1", "graph-2"]


def test_background_worker_fills_free_slots_without_evicting():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=3, release=fake.release)
    m.capture(100)
    m.start_background([10, 20, 30, 40])
    m.wait_background(timeout=5)
    assert list(m.graphs) == [100, 10, 20]  # the full LRU stopped it; nothing was evicted for a guess
    assert m.counters()["background_captures"] == 2 and fake.released == []
    assert m.get(10) == "graph-10" and m.counters()["hits"] == 1


def test_request_waits_for_a_background_capture_instead_of_capturing_twice():
    started, finish = threading.Event(), threading.Event()

    def slow_capture(key):
        started.set()
        finish.wait(5)
        return f"graph-{key}"

    m = GraphManager(slow_capture, max_graphs=4)
    m.start_background([7])
    assert started.wait(5)
    result = []
    t = threading.Thread(target=lambda: result.append(m.get(7)))
    t.start()
    finish.set()
    t.join(5)
    m.wait_background(5)
    assert result == ["graph-7"]
    c = m.counters()
    assert c["graphs_generated"] == 1 and c["hits"] == 1 and c["misses"] == 0


def test_max_graphs_must_be_positive():
    with pytest.raises(ValueError):
        GraphManager(FakeCapture(), max_graphs=0)


def test_batch_keys_share_the_lru_and_every_capture_is_counted_and_timed():
    fake = FakeCapture()

    def slow_capture(key):
        time.sleep(0.02)  # a capture long enough to show in its time
        return fake(key)

    m = GraphManager(slow_capture, max_graphs=3, release=fake.release)
    m.capture(100)
    assert m.get(BatchKey(4, 100)) == "graph-4x100" and m.get(BatchKey(2, 100)) == "graph-2x100"
    assert m.get(BatchKey(4, 100)) == "graph-4x100"  # a hit: no second capture
    m.get(50)  # the LRU is full: 100 goes
    m.get(100)  # captured again: its second capture
    assert list(m.graphs) == [BatchKey(4, 100), 50, 100]
    captures = m.counters()["captures"]
    assert list(captures) == ["50", "100", "2x100", "4x100"]  # lengths first, then (rows x length)
    assert [captures[k]["n"] for k in captures] == [1, 2, 1, 1]
    assert all(captures[k]["ms"] >= 20 * captures[k]["n"] for k in captures)
    assert m.counters()["usage"] == {"50": 1, "100": 1, "2x100": 1, "4x100": 2}
