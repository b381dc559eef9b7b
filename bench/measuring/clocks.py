"""Timing one strategy at one prompt length: cold request, correctness, warm-up, timed requests."""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

import torch

from bench.measuring.correctness import compare
from strategies.base import Strategy

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


def time_request(strategy: Strategy, input_ids: list[int]) -> tuple[int, int]:
    """TTFT of one request: host ids -> host int token. Returns (token, nanoseconds).
    first_token ends in .item(), which waits for the device, so no extra sync is needed."""
    start = time.perf_counter_ns()
    token = strategy.first_token(input_ids)
    return token, time.perf_counter_ns() - start


def timed_loop(request: Callable[[], T], warmup: int, repeats: int) -> list[T]:
    """`warmup` untimed calls, then `repeats` calls with Python's GC paused; their results."""
    for _ in range(warmup):
        request()
    gc.collect()
    gc.disable()  # a collection inside a timed request is noise, not the strategy's cost
    try:
        return [request() for _ in range(repeats)]
    finally:
        gc.enable()


@dataclass
class PointResult:
    cold_ttft_ms: float
    token: int
    logits: torch.Tensor  # [V] fp32 on the host, for the baseline's reference
    samples_ns: list[int] = field(default_factory=list)
    mem_peak_gb: float | None = None
    mem_reserved_gb: float | None = None
    matches_baseline: bool | None = None
    max_abs_logit_diff: float | None = None
    note: str = ""


def last_logits(strategy: Strategy, input_ids: list[int]) -> torch.Tensor:
    """The strategy's next-token logits as [V] fp32 on the host (a copy: graphs reuse buffers)."""
    logits = strategy.logits(input_ids)
    return logits.reshape(-1, logits.shape[-1])[-1].float().cpu().clone()


def measure_point(strategy: Strategy, input_ids: list[int], warmup: int, repeats: int,
                  device: torch.device, dtype: torch.dtype, sampling_seed: int,
                  reference: dict | None, is_reference: bool = False) -> PointResult:
    """Cold request, correctness check, warm-up, then `repeats` timed requests.
    reference: the baseline's {"logits", "token"} at this prompt; is_reference: this is the baseline."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    torch.manual_seed(sampling_seed)  # every strategy samples its cold token from the same seed
    token, cold_ns = time_request(strategy, input_ids)
    logits = last_logits(strategy, input_ids)
    result = PointResult(cold_ttft_ms=cold_ns / 1e6, token=token, logits=logits)
    if is_reference:
        # the baseline is its own reference: a second forward must reproduce the first
        reference = {"logits": logits, "token": token}
        logits = last_logits(strategy, input_ids)
    if reference is None:
        result.note = "no baseline reference at this length: correctness not checked"
    else:
        verdict = compare(logits, token, reference["logits"], reference["token"], dtype)
        result.matches_baseline, result.max_abs_logit_diff, result.note = (
            verdict.matches, verdict.max_abs_logit_diff, verdict.note)
    result.samples_ns = [ns for _, ns in timed_loop(lambda: time_request(strategy, input_ids), warmup, repeats)]
    if device.type == "cuda":
        result.mem_peak_gb = torch.cuda.max_memory_allocated(device) / GB
        result.mem_reserved_gb = torch.cuda.memory_reserved(device) / GB
    return result
