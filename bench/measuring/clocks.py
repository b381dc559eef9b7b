"""Clocks: a device-synchronised wall clock, one request's TTFT, and the garbage collector paused while timing."""
from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import torch

GB = 1e9
T = TypeVar("T")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_ms(fn: Callable[[], object], device: torch.device) -> tuple[object, float]:
    """Run fn, wait for the device, return (result, wall ms)."""
    sync(device)
    start = time.perf_counter_ns()
    result = fn()
    sync(device)
    return result, (time.perf_counter_ns() - start) / 1e6


def time_request(strategy, input_ids: list[int]) -> tuple[T, int]:
    """TTFT of one request: host ids -> host int token. Returns (what first_token returned, nanoseconds).
    strategy: anything with first_token(ids) whose token is a host int (its .item() waited for the
    stream that made it). The logits it returns beside the token are what the judge reads, so the timer
    also waits for every stream of their device: logits finished on another stream after the token are
    not free (a few microseconds on an idle GPU)."""
    start = time.perf_counter_ns()
    answer = strategy.first_token(input_ids)
    logits = getattr(answer, "logits", None)
    if isinstance(logits, torch.Tensor):
        sync(logits.device)
    return answer, time.perf_counter_ns() - start


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's garbage collector paused, after one collection: a collection inside a timed request is noise,
    not the strategy's cost. One pause covers many requests, since a collection costs 0.1-1 s with torch loaded."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
