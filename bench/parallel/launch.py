"""Run one function on N ranks (one process per GPU, or gloo on CPU) and bring rank 0's result home.

Usage (the function and its arguments must be picklable: a module-level function):

    result = launch(measure_on_rank, world_size=2, args=(spec,), backend="nccl", timeout_s=600)

Every rank runs `fn(rank, world_size, *args)` in lock-step after one rendezvous (MASTER_ADDR /
MASTER_PORT on a free local port; torch.distributed's process group is initialised before `fn` and
destroyed after; with nccl each rank owns cuda:rank). Rank 0's return value (a dataclass, pickled)
is the result. A rank that raises, dies, or outlives `timeout_s` ends the whole launch: every rank
is killed with its process group (so compile workers it started die too) and `LaunchError` says
which rank and why. No process outlives `launch`.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

POLL_S = 0.05  # how often the parent looks at its ranks: small next to any launch, cheap for the host
PR_SET_PDEATHSIG = 1  # linux/prctl.h: the kernel signals a child when its parent dies


class LaunchError(RuntimeError):
    """A launch that did not finish: `rank` (None when no single rank is to blame) and a one-line reason."""

    def __init__(self, rank: int | None, reason: str):
        super().__init__(f"rank {rank}: {reason}" if rank is not None else reason)
        self.rank = rank
        self.reason = reason


@dataclass(frozen=True)
class RankOutcome:
    """What one rank sends home: its result (rank 0 only) or the error that ended it."""

    rank: int
    result: Any = None
    error: str | None = None


def free_port() -> int:
    """A TCP port nobody listens on now, for the rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(fn: Callable[..., Any], world_size: int, args: tuple = (), backend: str = "gloo",
           timeout_s: float = 600.0, cancel: threading.Event | None = None) -> Any:
    """Rank 0's return value of fn(rank, world_size, *args) run on world_size processes, or LaunchError.
    Setting `cancel` (from another thread) ends the launch like a timeout: every rank killed."""
    context = multiprocessing.get_context("spawn")  # CUDA cannot be used in a forked child
    outcomes = context.Queue()
    port = free_port()
    ranks = [context.Process(target=_rank_main, args=(fn, rank, world_size, port, backend, args, outcomes),
                             name=f"tp-rank-{rank}") for rank in range(world_size)]
    try:
        for process in ranks:
            process.start()
        return _wait(ranks, outcomes, time.monotonic() + timeout_s, timeout_s, cancel)
    finally:
        _kill_all(ranks)
        outcomes.close()
        outcomes.join_thread()


def _wait(ranks: list, outcomes, deadline: float, timeout_s: float, cancel: threading.Event | None) -> Any:
    """Collect one outcome per rank; the first error, death or the deadline ends the wait."""
    pending = set(range(len(ranks)))
    result = None
    while pending:
        try:
            outcome: RankOutcome = outcomes.get(timeout=POLL_S)
        except queue.Empty:
            _raise_if_silently_dead(ranks, pending, outcomes)
            if time.monotonic() > deadline:
                raise LaunchError(None, f"timed out after {timeout_s:g} s; ranks still running: {sorted(pending)}")
            if cancel is not None and cancel.is_set():
                raise LaunchError(None, f"cancelled; ranks still running: {sorted(pending)}")
            continue
        if outcome.error is not None:
            # a rank that died without a word is the cause; the others only report its absence
            _raise_if_silently_dead(ranks, pending - {outcome.rank}, outcomes)
            raise LaunchError(outcome.rank, outcome.error)
        pending.discard(outcome.rank)
        if outcome.rank == 0:
            result = outcome.result
    return result


def _raise_if_silently_dead(ranks: list, pending: set[int], outcomes) -> None:
    """LaunchError for a pending rank that has exited with no report waiting in the queue."""
    for rank in sorted(pending):
        code = ranks[rank].exitcode
        if code is not None and outcomes.empty():
            raise LaunchError(rank, f"exited with code {code} without a report")


def _kill_all(ranks: list) -> None:
    """SIGKILL every rank's process group (its own session) and reap the rank."""
    for process in ranks:
        if process.pid is None:
            continue
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # gone already, or not yet in its own session
            pass
        process.kill()
    for process in ranks:
        if process.pid is not None:
            process.join()


def _rank_main(fn, rank: int, world_size: int, port: int, backend: str, args: tuple, outcomes) -> None:
    """One rank: own session, rendezvous, fn, report; any exception is reported, never raised."""
    os.setsid()  # the parent kills this rank and everything it starts with one killpg
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the parent, not orphaned
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank))
    try:
        import torch
        import torch.distributed as dist

        if backend == "nccl":
            torch.cuda.set_device(rank)
        dist.init_process_group(backend, rank=rank, world_size=world_size)
        result = fn(rank, world_size, *args)
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the parent as a line
        # reported before anything else: the other ranks fail soon after (peer gone), and the parent
        # takes the first report, which must be the cause; the parent kills them, no teardown here
        last = traceback.extract_tb(exc.__traceback__)[-1:] or None
        where = f" ({os.path.basename(last[0].filename)}:{last[0].lineno})" if last else ""
        first_line = (str(exc).strip().splitlines() or [""])[0]
        _report(outcomes, RankOutcome(rank, error=f"{type(exc).__name__}: {first_line}{where}"))
        return
    dist.destroy_process_group()
    _report(outcomes, RankOutcome(rank, result if rank == 0 else None))


def _report(outcomes, outcome: RankOutcome) -> None:
    """Send and flush: the report is in the pipe before this process can exit or be killed."""
    outcomes.put(outcome)
    outcomes.close()
    outcomes.join_thread()
