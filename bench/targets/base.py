"""Targets: the ways of running a strategy, as the scenarios see them.

The scenarios (bench/scenarios/) know a strategy only through this interface, so a new way of
running one (another process, several GPUs) is one more Target subclass and nothing else.
bench/targets/inprocess.py runs the strategy in the worker itself; bench/serving/ipc_target.py runs
it in a generator server and asks it over a Unix socket; bench/parallel/target.py over N ranks.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Timed:
    """One request: the first token, the client's TTFT, the server's where there is one, and the
    logits the timed call computed ([V] fp32 on the host, copied after the timer stopped; None where
    they stay in another process)."""
    token: int
    ns: int
    server_ns: int | None = None
    logits: torch.Tensor | None = None


@dataclass(frozen=True)
class Started:
    """A target ready to measure: its strategy record's fields and each length's preparation."""
    facts: dict  # StrategyRecord fields: model_build_ms, setup_ms, mem_weights_gb, note, transport
    mem_weights_gb: float
    prepared: dict[int, tuple[float | None, float | None] | str]  # (jit ms, capture ms), or why it failed


class Target(abc.ABC):
    transport: str
    # tokens of the same prompt and seed are reproducible (a target whose RNG the sweep cannot seed
    # samples differently each time, so its tokens are not compared in temperature mode)
    seeded: bool = True

    @abc.abstractmethod
    def start(self) -> Started:
        """Load and prepare the strategy for every length of the job."""

    @abc.abstractmethod
    def first_token(self, input_ids: list[int]) -> Timed:
        """One request, timed from host ids to the host token (the only thing the timer covers), with the
        logits that call computed where they can come back: the only logits the judge ever sees."""

    def reseed(self, seed: int) -> None:
        """Seed the sampling RNG before a request (outside the timer)."""

    def begin_point(self) -> None:
        """A length's measurement starts (peak memory counts from here)."""

    def end_point(self) -> dict:
        """A length's measurement ended: its PointRecord memory fields."""
        return {}

    def notes(self) -> list[str]:
        """Facts each point's note must carry (fallbacks, refusals)."""
        return []

    def recover(self) -> None:
        """After a failed point: give back what the failure held."""

    @abc.abstractmethod
    def stats(self) -> dict:
        """The strategy's counters at the end of the sweep."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the strategy (and any process the target started)."""
