"""The strategy runs in the worker itself: the target of a one-device, one-process run."""
from __future__ import annotations

import torch

from bench.jobs.job import Job
from bench.measuring.clocks import GB, sync, time_request
from bench.measuring.logits import host_copy
from bench.targets.base import Started, Target, Timed
from bench.targets.loading import Phase, error_text, ignore_phase, load_strategy, recover


def timed_answer(strategy, input_ids: list[int]) -> Timed:
    """One timed request to a strategy in this process; its logits copied to the host after the timer."""
    answer, ns = time_request(strategy, input_ids)
    return Timed(answer.token, ns, logits=host_copy(answer.logits))


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
        return timed_answer(self.loaded.strategy, input_ids)

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
