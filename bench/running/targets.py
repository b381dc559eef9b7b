"""Targets: the ways of running a strategy, as the sweep sees them.

The sweep (bench/running/sweep.py) knows a strategy only through this interface, so a new way of
running one (another process, several GPUs) is one more Target subclass and nothing else.
InProcessTarget runs the strategy in the worker itself; bench/running/ipc_target.py runs it in a
generator server and asks it over a Unix socket.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass

import torch

from bench.measuring.clocks import GB, sync, time_request
from bench.measuring.logits import last_logits
from bench.running.job import Job
from bench.running.loading import Phase, error_text, ignore_phase, load_strategy, recover


@dataclass(frozen=True)
class Timed:
    """One request: the first token, the client's TTFT, and the server's where there is one."""
    token: int
    ns: int
    server_ns: int | None = None


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
        """One request, timed from host ids to the host token (the only thing the timer covers)."""

    def logits(self, input_ids: list[int]) -> torch.Tensor | None:
        """The next-token logits ([V] fp32 on the host) for the check; None where they stay elsewhere."""
        return None

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


class InProcessTarget(Target):
    """The strategy runs in this process (call under torch.inference_mode)."""
    transport = "inprocess"

    def __init__(self, job: Job, on_phase: Phase = ignore_phase):
        self.job = job
        self.device = torch.device(job.device)
        self.loaded = None
        self.on_phase = on_phase

    def start(self) -> Started:
        self.loaded = load_strategy(self.job, on_phase=self.on_phase)
        prepared = {n: p if isinstance(p, tuple) else error_text(p) for n, p in self.loaded.prepared.items()}
        return Started(self.loaded.facts(), self.loaded.mem_weights_gb, prepared)

    def first_token(self, input_ids: list[int]) -> Timed:
        return Timed(*time_request(self.loaded.strategy, input_ids))

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        return last_logits(self.loaded.strategy, input_ids)

    def reseed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def begin_point(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)

    def end_point(self) -> dict:
        if self.device.type != "cuda":
            return {}
        return {"mem_peak_gb": torch.cuda.max_memory_allocated(self.device) / GB,
                "mem_reserved_gb": torch.cuda.memory_reserved(self.device) / GB,
                "mem_graphs_gb": self.loaded.strategy.graph_memory_bytes() / GB}

    def notes(self) -> list[str]:
        return list(self.loaded.strategy.notes)

    def recover(self) -> None:
        recover(self.device)

    def stats(self) -> dict:
        sync(self.device)
        return self.loaded.strategy.stats()

    def close(self) -> None:
        if self.loaded is not None:
            self.loaded.strategy.close()
