"""The design document's rolling graph manager: an LRU of captured graphs, keyed by length (and,
for a batch's graphs, by rows and length: any hashable key; each key's capture count and time
are kept, so the cold cost of a new key is reported).

The capture itself is injected (`capture: key -> entry`), so the LRU, the counters and the
background worker are tested on the CPU with a fake capture. One lock serialises every
capture and every request: a background capture happens between requests, never beside
one, so it shares no stream with the request thread and cannot perturb a timed request;
a request that arrives during a background capture waits for it instead of capturing twice.

A request for a missing key may name a held graph that can serve it (`get(key, stand_in)`: for a
length, a longer graph, right padding keeping the logits exact). That graph serves the request, and
`key` is captured afterwards: by the background worker when the manager has one
(`defer_to_background`), else by the next request that asks for `key` (so a length asked once never
pays a capture, and the capture lands on a request of the length that gains from it, not on another
length's request that a capture thread would make wait). Without such a graph, `key` is captured
inside the request, as before.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Generic, Hashable, Iterable, TypeVar

log = logging.getLogger(__name__)

Entry = TypeVar("Entry")
Key = Hashable  # a length (int), or a batch's (rows, length)
StandIn = Callable[[Iterable[Key]], "Key | None"]  # the held keys -> the one that can serve a missing key, or None


def key_order(key: Key) -> tuple:
    """Lengths first, in order, then the other keys, each kind in its own order (keys of one kind compare)."""
    return (0, key) if isinstance(key, int) else (1, key)


class GraphManager(Generic[Entry]):
    def __init__(self, capture: Callable[[Key], Entry], max_graphs: int,
                 release: Callable[[Entry], None] = lambda entry: None, defer_to_background: bool = False):
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
        self.stand_in_replays = 0  # requests a longer graph served while their own was missing
        self.defer_to_background = defer_to_background
        self._capture_next: set[Key] = set()  # keys a stand-in served: the next request for one captures it
        self._pending: deque[tuple[Key, bool]] = deque()  # the background worker's (key, may evict), in order
        self._worker: threading.Thread | None = None  # set while it runs (under self.lock)
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

    def get(self, key: Key, stand_in: StandIn | None = None) -> Entry:
        """The entry for `key`, marked most recent. When it is missing: the entry of the held key that
        stand_in names, `key` captured afterwards (see the module's docstring); else `key` captured on
        demand (logged, counted in this request)."""
        with self.lock:
            if key in self.graphs:
                self.hits += 1
            else:
                self.misses += 1
                served_by = None if key in self._capture_next or stand_in is None else stand_in(list(self.graphs))
                if served_by is not None:
                    return self._serve_for(key, served_by)
                self._capture_next.discard(key)
                self.on_demand += 1
                log.warning("no graph for %s: capturing on demand (counted in this request)", key)
                self._insert(key)
            self.graphs.move_to_end(key)
            self.usage[key] = self.usage.get(key, 0) + 1
            return self.graphs[key]

    def _serve_for(self, key: Key, served_by: Key) -> Entry:
        """Replay served_by's graph for a missing key; capture key later."""
        self.stand_in_replays += 1
        self.graphs.move_to_end(served_by)
        self.usage[served_by] = self.usage.get(served_by, 0) + 1
        if self.defer_to_background:
            if all(key != pending for pending, _ in self._pending):
                # asked for, not a guess: ahead of the guesses, and it may evict, as an on-demand capture would
                self._pending.appendleft((key, True))
                self._run_worker()
        else:
            self._capture_next.add(key)
        log.info("no graph for %s: served by the graph for %s; %s captures it", key, served_by,
                 "the background worker" if self.defer_to_background else "its next request")
        return self.graphs[served_by]

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
        with self.lock:
            # never evict for a guess: these keys only fill free slots
            self._pending.extend((key, False) for key in keys)
            self._run_worker()

    def _run_worker(self) -> None:
        """Start the worker thread unless it runs (under self.lock: the worker only ends under it)."""
        if self._worker is None:
            self._stop.clear()
            self._worker = threading.Thread(target=self._work, name="graph-capture", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            with self.lock:
                if self._stop.is_set() or not self._pending:
                    self._worker = None
                    return
                key, may_evict = self._pending.popleft()
                if key in self.graphs or not (may_evict or len(self.graphs) < self.max_graphs):
                    continue
                try:
                    self._insert(key)
                except Exception:  # out of memory, say: the key's next request captures it itself, failing visibly
                    log.exception("background capture of %s failed", key)
                    self._capture_next.add(key)
                    continue
                self.background_captured += 1

    def wait_background(self, timeout: float | None = None) -> None:
        """Wait until the worker has captured what it was given (or timeout seconds)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def stop_background(self) -> None:
        """Stop the worker after its capture in progress; what it had left is dropped."""
        self._stop.set()
        self.wait_background()
        with self.lock:
            self._pending.clear()

    def counters(self) -> dict:
        return {
            "graphs_held": len(self.graphs),
            "graphs_generated": self.generated,
            "graphs_deleted": self.deleted,
            "hits": self.hits,
            "misses": self.misses,
            "on_demand_captures": self.on_demand,
            "background_captures": self.background_captured,
            "stand_in_replays": self.stand_in_replays,
            "max_graphs": self.max_graphs,
            "usage": {str(k): v for k, v in sorted(self.usage.items(), key=lambda item: key_order(item[0]))},
            "captures": {str(k): {"n": self.capture_count[k], "ms": round(self.capture_ms[k], 3)}
                         for k in sorted(self.capture_count, key=key_order)},
        }
