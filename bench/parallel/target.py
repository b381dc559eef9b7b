"""model.tensor_parallel > 1: the strategy runs on N ranks (one GPU each with NCCL, gloo on the CPU).

start() launches the ranks (bench.parallel.launch, in a thread of the worker) and waits until every
rank has built its shard, set the strategy up and prepared every length; then each Target method is
one command that rank 0 broadcasts and every rank runs in lock-step (bench.parallel.rank). The
TTFT is rank 0's clock around its own request, as in one process; memory is the largest any rank
reports. A rank that raises, dies or gives no answer in time ends the launch (every rank killed with
its process group); that request and every later one fail with the reason, so they become error rows.
"""
from __future__ import annotations

import multiprocessing
import queue
import threading
import time

import torch

from bench.jobs.job import Job
from bench.parallel.launch import LaunchError, launch
from bench.parallel.rank import CLOSE, serve_rank
from bench.targets.base import Started, Target, Timed

READY_TIMEOUT_S = 3600  # building and compiling a 70B shard, then capturing every length, takes many minutes
# one request, the probe's unprepared length included: an inductor compile of a new length takes ~1 min
COMMAND_TIMEOUT_S = 600
LAUNCH_TIMEOUT_S = 7 * 24 * 3600  # the commands' timeouts end a hang; the launch itself may last the whole sweep
POLL_S = 0.05  # how often a waiting command looks at the launch: small next to any request that waits
STOP_TIMEOUT_S = 60  # the ranks leave their loop and tear the process group down


class RanksGone(RuntimeError):
    """The ranks are no longer there to answer (one failed, hung, or the launch ended)."""


class TpTarget(Target):
    transport = "inprocess"

    def __init__(self, job: Job, rank_fn=serve_rank, command_timeout_s: float = COMMAND_TIMEOUT_S,
                 ready_timeout_s: float = READY_TIMEOUT_S):
        self.job = job
        self.world_size = job.config.model.tensor_parallel
        self.backend = "nccl" if torch.device(job.device).type == "cuda" else "gloo"
        self.rank_fn = rank_fn  # tests pass a rank that fails on purpose
        self.command_timeout_s, self.ready_timeout_s = command_timeout_s, ready_timeout_s
        context = multiprocessing.get_context("spawn")  # the queues travel to launch's spawned ranks
        self.commands, self.replies = context.Queue(), context.Queue()
        self.cancel = threading.Event()
        self.failure: str | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> Started:
        self.thread = threading.Thread(target=self._launch, name="tp-launch", daemon=True)
        self.thread.start()
        return self._answer("start", self.ready_timeout_s)

    def _launch(self) -> None:
        try:
            launch(self.rank_fn, self.world_size, args=(self.job.to_dict(), self.commands, self.replies),
                   backend=self.backend, timeout_s=LAUNCH_TIMEOUT_S, cancel=self.cancel)
        except LaunchError as exc:
            self.failure = str(exc)
        except Exception as exc:  # noqa: BLE001 - a launch that cannot start must still reach the sweep as a line
            self.failure = f"{type(exc).__name__}: {exc}"
        else:
            self.failure = self.failure or "the ranks left their command loop"

    def _ask(self, *command, timeout_s: float | None = None):
        """Send a command to rank 0 and wait for its answer."""
        if self.failure is not None or self.thread is None:
            raise RanksGone(f"tensor-parallel ranks gone: {self.failure or 'never started'}")
        self.commands.put(command)
        return self._answer(command[0], timeout_s or self.command_timeout_s)

    def _answer(self, what: str, timeout_s: float):
        """Rank 0's reply, or RanksGone when the launch ends or nobody answers within timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self.replies.get(timeout=POLL_S)
            except queue.Empty:
                pass
            if not self.thread.is_alive():
                raise RanksGone(f"tensor-parallel ranks gone during {what}: {self.failure}")
            if time.monotonic() > deadline:
                self._stop(f"no answer to {what} within {timeout_s:g} s (a rank hung); every rank killed")
                raise RanksGone(f"tensor-parallel ranks gone during {what}: {self.failure}")

    def _stop(self, reason: str) -> None:
        """Kill every rank (launch does, once cancelled) and wait until it has."""
        self.cancel.set()
        self.thread.join(STOP_TIMEOUT_S)
        self.failure = reason

    def first_token(self, input_ids: list[int]) -> Timed:
        return self._ask("first_token", input_ids)

    def reseed(self, seed: int) -> None:
        self._ask("reseed", seed)

    def begin_point(self) -> None:
        self._ask("begin_point")

    def end_point(self) -> dict:
        return self._ask("end_point")

    def notes(self) -> list[str]:
        notes = self._ask("notes")
        if self.job.config.model.tp_reference == "tensor-parallel":
            notes.append(f"judged against the TP={self.world_size} baseline (model.tp_reference: tensor-parallel)")
        return notes

    def recover(self) -> None:
        if self.failure is None:
            self._ask("recover")

    def stats(self) -> dict:
        return self._ask("stats")

    def close(self) -> None:
        if self.thread is None:
            return
        if self.failure is None:
            self.commands.put((CLOSE,))
            self.thread.join(STOP_TIMEOUT_S)
        if self.thread.is_alive():
            self._stop("closed")
        for channel in (self.commands, self.replies):
            channel.close()
            channel.join_thread()
