"""The design document's rolling graph manager: an LRU of captured graphs, keyed by length (and,
for a batch's graphs, by rows and length: any hashable key; each key's capture count and time
are kept, so the cold cost of a new key is reported).

The capture itself is injected (`capture: key -> entry`), so the LRU, the counters and the
background worker are tested on the CPU with a fake capture. One lock serialises every
capture and every request: a background capture happens between requests, never beside
one, so it shares no stream with the request thread and cannot perturb a timed request;
a request that arrives during a background capture waits for it instead of capturing twice.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Callable, Generic, Hashable, Iterable, TypeVar

log = logging.getLogger(__name__)

Entry = TypeVar("Entry")
Key = Hashable  # a length (int), or a batch's (rows, length)


def key_order(key: Key) -> tuple:
    """Lengths first, in order, then the other keys, each kind in its own order (keys of one kind compare)."""
    return (0, key) if isinstance(key, int) else (1, key)


class GraphManager(Generic[Entry]):
    def __init__(self, capture: Callable[[Key], Entry], max_graphs: int,
                 release: Callable[[Entry], None] = lambda entry: None):
        if max_graphs < 1:
            raise ValueError(f"max_graphs must be >= 1, got {max_graphs}")
        self._capture = capture
        self._release = release
        self.max_graphs = max_graphs
        self.graphs: OrderedDict[Key, Entry] = OrderedDict()  # least recently used first
        self.lock = threading.RLock()  # held by every capture and every request
        self.usage: dict[Key, int] = {}
        self.capture_count: dict[Key, int] = {}  # captures per key (again after an eviction)
        self.capture_ms: dict[Key, float] = {}  # their wall time in all, warm-up (and any compile) included
        self.generated = 0
        self.deleted = 0
        self.hits = 0
        self.misses = 0
        self.on_demand = 0
        self.background_captured = 0
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()

    def __contains__(self, key: Key) -> bool:
        return key in self.graphs

    def capture(self, key: Key) -> bool:
        """Capture `key` ahead of need (pre-capture); False if it was already there."""
        with self.lock:
            if key in self.graphs:
                return False
            self._insert(key)
            return True

    def get(self, key: Key) -> Entry:
        """The entry for `key`, capturing it on demand (logged) if missing; marks it most recent."""
        with self.lock:
            if key in self.graphs:
                self.hits += 1
                self.graphs.move_to_end(key)
            else:
                self.misses += 1
                self.on_demand += 1
                log.warning("no graph for %s: capturing on demand (counted in this request)", key)
                self._insert(key)
            self.usage[key] = self.usage.get(key, 0) + 1
            return self.graphs[key]

    def _insert(self, key: Key) -> None:
        while len(self.graphs) >= self.max_graphs:
            self.evict_oldest()
        started = time.perf_counter()
        self.graphs[key] = self._capture(key)
        self.capture_ms[key] = self.capture_ms.get(key, 0.0) + (time.perf_counter() - started) * 1e3
        self.capture_count[key] = self.capture_count.get(key, 0) + 1
        self.generated += 1

    def evict_oldest(self) -> Key:
        """Drop the least recently used graph and release what it holds; returns its key."""
        with self.lock:
            key, entry = self.graphs.popitem(last=False)
            self._release(entry)
            self.deleted += 1
            log.info("evicted graph for %s (%d held)", key, len(self.graphs))
            return key

    def clear(self) -> None:
        """Stop the background worker and release every graph."""
        self.stop_background()
        with self.lock:
            while self.graphs:
                self.evict_oldest()

    def start_background(self, keys: Iterable[Key]) -> None:
        """Capture `keys` on a worker thread, between requests, until done or stopped."""
        pending = list(keys)

        def work() -> None:
            for key in pending:
                if self._stop.is_set():
                    return
                with self.lock:
                    if key not in self.graphs and len(self.graphs) < self.max_graphs:
                        # never evict for a guess: background capture only fills free slots
                        self._insert(key)
                        self.background_captured += 1

        self._stop.clear()
        self._worker = threading.Thread(target=work, name="graph-capture", daemon=True)
        self._worker.start()

    def wait_background(self, timeout: float | None = None) -> None:
        if self._worker is not None:
            self._worker.join(timeout)

    def stop_background(self) -> None:
        self._stop.set()
        self.wait_background()
        self._worker = None

    def counters(self) -> dict:
        return {
            "graphs_held": len(self.graphs),
            "graphs_generated": self.generated,
            "graphs_deleted": self.deleted,
            "hits": self.hits,
            "misses": self.misses,
            "on_demand_captures": self.on_demand,
            "background_captures": self.background_captured,
            "max_graphs": self.max_graphs,
            "usage": {str(k): v for k, v in sorted(self.usage.items(), key=lambda item: key_order(item[0]))},
            "captures": {str(k): {"n": self.capture_count[k], "ms": round(self.capture_ms[k], 3)}
                         for k in sorted(self.capture_count, key=key_order)},
        }
