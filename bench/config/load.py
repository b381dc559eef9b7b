"""The `load:` section: TTFT under load, every strategy through the generator server (torch-free).

    load:
      concurrency: [1, 2, 4, 8, 16]   # closed loop: clients, each sending when its last answer came
      rates: [100, 200]               # open loop: requests/s, gamma arrivals (burstiness 1: Poisson)
      batching: [{max_batch: 1}, {max_batch: 16, max_wait_us: 200}]

Validated before anything runs; unknown keys are refused naming the allowed ones.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from bench.config.errors import ConfigError, shown
from bench.config.options import check_int, check_keys, check_seed

MODES = ("concurrency", "rate")  # closed loop, open loop
# the levels: from one client (the idle-server TTFT) to 16, where the one-at-a-time server's
# queue is 7x its service time on an H200
DEFAULT_CONCURRENCY = (1, 2, 4, 8, 16)
DEFAULT_REQUESTS = 200  # timed answers per level: a p99 is then interpolated between the two slowest
DEFAULT_WARMUP = 20  # per level, untimed: the server's queue and the batch sizes reach their steady state
# requests in flight before an open-loop level is called saturated: at a 7B model's ~5 ms service time
# the last of 64 waits ~320 ms, far beyond any TTFT objective, so a level that builds such a queue is
# past capacity
DEFAULT_MAX_IN_FLIGHT = 64
# each request in flight holds a connection, and the generator server a thread for it; a thousand
# stays far below the usual limit of 1,024 open descriptors per process for the client's own sockets
MAX_IN_FLIGHT_LIMIT = 1000
# a level stops sending after this long and is reported saturated: 200 requests at the slowest eager
# 7B server (~40 requests/s) take 5 s
DEFAULT_MAX_LEVEL_S = 30.0
MAX_LEVEL_S_LIMIT = 3600.0  # an hour per level is a typo, not a measurement
DEFAULT_SLO_TTFT_MS = 50.0  # the objective for a 7B model: ~10x its idle TTFT on an H200
MAX_REQUESTS_PER_LEVEL = 100_000  # as measure.repeats: more is hours per level, and a typo
MAX_BATCH_LIMIT = 1024  # a prefill batch beyond this does not fit a GPU's memory at any usable length
MAX_WAIT_US_LIMIT = 1_000_000  # one second of waiting for a batch to fill is beyond any TTFT objective


@dataclass(frozen=True)
class ServerBatching:
    """How the generator server groups waiting requests: up to max_batch in one forward, waiting at most
    max_wait_us for a batch to fill. max_batch 1: one request at a time, the server of the sweep."""
    max_batch: int = 1
    max_wait_us: int = 0

    def __post_init__(self):
        check_int("load.batching.max_batch", self.max_batch, minimum=1, maximum=MAX_BATCH_LIMIT)
        check_int("load.batching.max_wait_us", self.max_wait_us, minimum=0, maximum=MAX_WAIT_US_LIMIT)

    @property
    def label(self) -> str:
        """The setting's name in results: 'batch1', 'batch16-wait200us' (no comma, no space: a CSV cell)."""
        return f"batch{self.max_batch}" + (f"-wait{self.max_wait_us}us" if self.max_wait_us else "")


@dataclass(frozen=True)
class LoadConfig:
    concurrency: tuple[int, ...] = DEFAULT_CONCURRENCY
    rates: tuple[float, ...] = ()  # requests/s; none by default: a useful rate depends on the capacity
    burstiness: float = 1.0  # gamma shape of the inter-arrival times (vLLM's): 1 Poisson, < 1 burstier
    lengths: tuple[int, ...] | None = None  # drawn from prompts.lengths; None: all of them
    requests: int = DEFAULT_REQUESTS
    warmup: int = DEFAULT_WARMUP
    seed: int = 0
    slo_ttft_ms: float = DEFAULT_SLO_TTFT_MS
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    max_level_s: float = DEFAULT_MAX_LEVEL_S
    batching: tuple[ServerBatching, ...] = (ServerBatching(),)
    strategies: tuple[str, ...] | None = None  # None: every strategy of the config

    def __post_init__(self):
        check_int("load.max_in_flight", self.max_in_flight, minimum=1, maximum=MAX_IN_FLIGHT_LIMIT)
        concurrency = int_list("load.concurrency", self.concurrency)
        if concurrency and max(concurrency) > self.max_in_flight:
            raise ConfigError(f"load.concurrency: {max(concurrency)} clients exceed load.max_in_flight "
                              f"({self.max_in_flight}), the requests in flight a level may hold")
        self._set("concurrency", tuple(sorted(concurrency)))
        self._set("rates", tuple(sorted(number_list("load.rates", self.rates))))
        if not self.concurrency and not self.rates:
            raise ConfigError("load: give at least one level: load.concurrency or load.rates")
        check_positive("load.burstiness", self.burstiness)
        if self.lengths is not None:
            self._set("lengths", tuple(int_list("load.lengths", self.lengths, empty=False)))
        check_int("load.requests", self.requests, minimum=1, maximum=MAX_REQUESTS_PER_LEVEL)
        check_int("load.warmup", self.warmup, minimum=0, maximum=MAX_REQUESTS_PER_LEVEL)
        check_seed("load.seed", self.seed)
        check_positive("load.slo_ttft_ms", self.slo_ttft_ms)
        check_positive("load.max_level_s", self.max_level_s, MAX_LEVEL_S_LIMIT)
        self._set("batching", batching_list(self.batching))
        if self.strategies is not None:
            names = self.strategies
            if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
                raise ConfigError(f"load.strategies: expected a non-empty list of strategy names, got {shown(names)}")
            check_distinct("load.strategies", names)
            self._set("strategies", tuple(names))

    def _set(self, key: str, value) -> None:
        object.__setattr__(self, key, value)  # the normalised form (tuples, sorted levels) of a frozen field

    def levels(self) -> list[tuple[str, float]]:
        """Every (mode, level) in the order they run: closed loop, then open loop, each ascending."""
        return [("concurrency", c) for c in self.concurrency] + [("rate", r) for r in self.rates]


def int_list(key: str, value: Any, empty: bool = True) -> list[int]:
    """A list of distinct positive integers."""
    if not isinstance(value, (list, tuple)) or (not empty and not value):
        raise ConfigError(f"{key}: expected a {'' if empty else 'non-empty '}list of integers, got {shown(value)}")
    for i, v in enumerate(value):
        check_int(f"{key}[{i}]", v, minimum=1)
    check_distinct(key, value)
    return list(value)


def number_list(key: str, value: Any) -> list[float]:
    """A list of distinct positive, finite numbers."""
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{key}: expected a list of positive numbers, got {shown(value)}")
    for i, v in enumerate(value):
        check_positive(f"{key}[{i}]", v)
    check_distinct(key, value)
    return [float(v) for v in value]


def check_distinct(key: str, value) -> None:
    if len(set(value)) != len(value):
        raise ConfigError(f"{key}: duplicate values in {shown(list(value))}")


def check_positive(key: str, value: Any, maximum: float | None = None) -> None:
    """A positive, finite number (not a bool), at most `maximum`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{key}: expected a positive, finite number, got {shown(value)}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{key}: {value} is above the limit of {maximum:g}")


def batching_list(value: Any) -> tuple[ServerBatching, ...]:
    """load.batching: a non-empty list of {max_batch, max_wait_us} mappings, each setting once."""
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(f"load.batching: expected a non-empty list of {{max_batch: N, max_wait_us: U}}, "
                          f"got {shown(value)}")
    settings = []
    for i, entry in enumerate(value):
        if isinstance(entry, ServerBatching):
            settings.append(entry)
            continue
        if not isinstance(entry, dict):
            raise ConfigError(f"load.batching[{i}]: expected a mapping, got {shown(entry)}")
        check_keys(f"load.batching[{i}]", entry, [f.name for f in dataclasses.fields(ServerBatching)])
        settings.append(ServerBatching(**entry))
    labels = [s.label for s in settings]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"load.batching: each setting may appear once, got {', '.join(labels)}")
    return tuple(settings)


def parse_load(raw: Any, strategy_names: list[str], prompt_lengths: tuple[int, ...], sampling_mode: str,
               tensor_parallel: int) -> LoadConfig | None:
    """The validated `load:` section (None: absent), checked against the rest of the config."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"load: expected a mapping, got {shown(raw)}")
    check_keys("load", raw, [f.name for f in dataclasses.fields(LoadConfig)])
    load = LoadConfig(**raw)
    for n in load.lengths or ():
        if n not in prompt_lengths:
            raise ConfigError(f"load.lengths: {n} is not among prompts.lengths {shown(list(prompt_lengths))}; "
                              "each load request asks a prompt the baseline answered at that length")
    for name in load.strategies or ():
        if name not in strategy_names:
            raise ConfigError(f"load.strategies: {shown(name)} is not a strategy of this config; "
                              f"allowed: {', '.join(strategy_names)}")
    if sampling_mode != "greedy":
        raise ConfigError("load: needs sampling.mode greedy: under load the server samples with its own RNG, "
                          "so no answer could be judged against the baseline's")
    if tensor_parallel > 1:
        raise ConfigError("load: runs every strategy in one generator server process; model.tensor_parallel > 1 "
                          "has none")
    return load
