"""A scenario: one way of measuring a strategy, beside the targets (the ways of running one).

A worker (bench/running/worker.py) is given a job that names its scenario; it asks the scenario for
a target, then lets the scenario drive that target and report what it measured as typed events
(bench/scenarios/events.py). The runner knows which scenarios a strategy runs, nothing of how.

    sweep    every length: judged prompts, timed requests, the unseen-length probe (sweep.py)
    restart  a strategy that compiled, started again on its compile cache: ready time, judged again (restart.py)
    load     requests from many clients at once through a generator server (load.py)
"""
from __future__ import annotations

import abc
from typing import ClassVar

from bench.jobs.job import Job
from bench.scenarios.events import Emit, Event, PhaseEvent
from bench.targets.base import Target


class Scenario(abc.ABC):
    name: ClassVar[str]

    def make_target(self, job: Job, emit: Emit) -> Target:
        """The target of the job's transport; an in-process one tells the progress bar its phases (a server's
        or a rank's preparation happens in its own process)."""
        if job.config.transport == "ipc":
            from bench.serving.ipc_target import IpcTarget
            return IpcTarget(job)
        if job.config.model.tensor_parallel > 1:
            from bench.parallel.target import TpTarget
            return TpTarget(job)
        from bench.targets.inprocess import InProcessTarget
        return InProcessTarget(job, on_phase=lambda text: emit(PhaseEvent(text)))

    @abc.abstractmethod
    def imported(self, seconds: float) -> Event:
        """The worker's imports took `seconds` since its process started: this scenario's record of it."""

    @abc.abstractmethod
    def skip(self, job: Job, reason: str, emit: Emit) -> None:
        """The strategy cannot run here (no CUDA, a model it refuses): say so in this scenario's records."""

    @abc.abstractmethod
    def run(self, job: Job, target: Target, emit: Emit, started: float) -> None:
        """Measure the job's strategy through `target` (not started yet; closed by the caller), emitting
        events as results come; `started`: the worker's process start (time.time()), for ready times."""
