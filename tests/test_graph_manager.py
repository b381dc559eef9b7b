"""The rolling graph manager's logic, with a fake capture (no GPU needed)."""
from __future__ import annotations

import threading
import time

import pytest

from strategies.graph_manager import GraphManager
from strategies.rolling_graphs import BatchKey, shortest_fitting


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


def fitting(prompt_len: int):
    """The stand-in RollingGraphs gives a prompt of prompt_len: the shortest longer length graph held."""
    return lambda held: shortest_fitting(held, prompt_len)


def test_the_shortest_longer_length_graph_serves_and_batch_graphs_never_do():
    held = [100, BatchKey(2, 40), 50, 10]
    assert shortest_fitting(held, 30) == 50 and shortest_fitting(held, 100) == 100
    assert shortest_fitting(held, 101) is None  # nothing the prompt fits in: captured in its request


def test_a_missing_length_is_served_by_a_longer_graph_and_captured_by_its_next_request():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=4, release=fake.release)
    for key in (10, 100, 50):
        m.capture(key)
    assert m.get(30, fitting(30)) == "graph-50"  # no capture inside this request
    assert fake.captured == [10, 100, 50] and 30 not in m
    c = m.counters()
    assert (c["stand_in_replays"], c["misses"], c["on_demand_captures"], c["usage"]) == (1, 1, 0, {"50": 1})
    assert list(m.graphs)[-1] == 50  # the graph that served is the most recent
    assert m.get(30, fitting(30)) == "graph-30"  # its next request: its own graph, captured now
    assert m.get(30, fitting(30)) == "graph-30" and fake.captured == [10, 100, 50, 30]
    c = m.counters()
    assert (c["stand_in_replays"], c["misses"], c["on_demand_captures"], c["hits"]) == (1, 2, 1, 1)


def test_without_a_longer_graph_the_length_is_captured_inside_its_request():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=4, release=fake.release)
    m.capture(50)
    assert m.get(200, fitting(200)) == "graph-200"
    assert m.counters()["on_demand_captures"] == 1 and m.counters()["stand_in_replays"] == 0


def test_with_a_background_worker_the_served_length_is_captured_after_the_request():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=4, release=fake.release, defer_to_background=True)
    for key in (10, 50):
        m.capture(key)
    with m.lock:  # a request in flight: the worker must wait for its end
        assert m.get(30, fitting(30)) == "graph-50"
        assert m.get(30, fitting(30)) == "graph-50"  # again before the capture: served, not queued twice
        time.sleep(0.2)  # time enough for a worker that ignored the lock to capture
        assert fake.captured == [10, 50]
    m.wait_background(timeout=5)
    assert fake.captured == [10, 50, 30]
    c = m.counters()
    assert (c["background_captures"], c["on_demand_captures"], c["stand_in_replays"]) == (1, 0, 2)
    assert m.get(30, fitting(30)) == "graph-30" and m.counters()["hits"] == 1


def test_a_length_asked_for_evicts_in_the_background_where_a_guess_would_not():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=2, release=fake.release, defer_to_background=True)
    for key in (10, 50):
        m.capture(key)
    assert m.get(30, fitting(30)) == "graph-50"
    m.wait_background(timeout=5)
    assert list(m.graphs) == [50, 30] and fake.released == ["graph-10"]  # the LRU went, as on demand


def test_a_length_asked_for_is_captured_before_the_background_guesses():
    fake = FakeCapture()
    m = GraphManager(fake, max_graphs=8, release=fake.release, defer_to_background=True)
    m.capture(100)
    with m.lock:  # the worker starts once this request ends, with both kinds of work queued
        m.start_background([20, 40, 60])
        assert m.get(30, fitting(30)) == "graph-100"
    m.wait_background(timeout=5)
    assert fake.captured == [100, 30, 20, 40, 60]


def test_a_failed_background_capture_leaves_the_length_to_its_next_request():
    fake, failures = FakeCapture(), []

    def capture(key):
        if key == 30 and not failures:
            failures.append(key)
            raise RuntimeError("out of memory")
        return fake(key)

    m = GraphManager(capture, max_graphs=4, defer_to_background=True)
    m.capture(50)
    assert m.get(30, fitting(30)) == "graph-50"
    m.wait_background(timeout=5)
    assert failures == [30] and 30 not in m
    assert m.get(30, fitting(30)) == "graph-30"  # captured inside this request, not served padded again
    assert m.counters()["on_demand_captures"] == 1 and m.counters()["stand_in_replays"] == 1
