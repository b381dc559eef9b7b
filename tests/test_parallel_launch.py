"""The rank launcher: rank 0's typed result comes home; a failing or hanging rank ends the launch, no orphans."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch.distributed as dist

from bench.parallel.launch import LaunchError, launch


@dataclass(frozen=True)
class Summed:
    rank: int
    total: float


def all_reduce_rank(rank: int, world_size: int) -> Summed:
    """Every rank adds its rank + 1: rank 0 sees the sum over ranks."""
    import torch
    value = torch.tensor([rank + 1.0])
    dist.all_reduce(value)
    return Summed(rank, value.item())


def leave_pids(folder: str, rank: int) -> None:
    """Write this rank's pid and that of a child it starts, so the test can check both are gone."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(folder, f"{rank}.pids").write_text(f"{os.getpid()} {child.pid}")


def failing_rank(rank: int, world_size: int, folder: str) -> None:
    """Rank 1 raises while rank 0 waits in a collective for it."""
    leave_pids(folder, rank)
    if rank == 1:
        raise ValueError("shard 1 broke")
    dist.barrier()


def hanging_rank(rank: int, world_size: int, folder: str) -> None:
    """Rank 1 never returns; rank 0 waits in a collective for it."""
    leave_pids(folder, rank)
    if rank == 1:
        time.sleep(600)
    dist.barrier()


def dying_rank(rank: int, world_size: int, rank_zero_waits_in_a_collective: bool) -> None:
    """Rank 1 dies at once without a word (as a segfault would); rank 0 waits for it in a collective
    (and reports the lost peer first) or outside one (and reports nothing)."""
    if rank == 1:
        os._exit(3)
    dist.barrier() if rank_zero_waits_in_a_collective else time.sleep(600)


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def left_pids(folder: Path, world_size: int) -> list[int]:
    """The pids the ranks wrote. Rank 1 always writes before it fails or hangs; a slow rank 0 may be
    stopped before it gets that far, and then has no child to leave behind."""
    files = [folder / f"{rank}.pids" for rank in range(world_size)]
    assert files[1].exists()
    pids = [int(p) for f in files if f.exists() for p in f.read_text().split()]
    assert len(pids) % 2 == 0 and pids
    return pids


def test_rank_zero_result_comes_home_typed():
    assert launch(all_reduce_rank, 2, timeout_s=120) == Summed(0, 3.0)


def test_a_failing_rank_reaches_the_parent_and_nothing_is_left(tmp_path):
    with pytest.raises(LaunchError, match="rank 1: ValueError: shard 1 broke") as caught:
        launch(failing_rank, 2, args=(str(tmp_path),), timeout_s=120)
    assert caught.value.rank == 1
    pids = left_pids(tmp_path, 2)
    assert not [pid for pid in pids if alive(pid)]


@pytest.mark.slow
@pytest.mark.parametrize("in_collective", [True, False])
def test_a_rank_that_dies_silently_is_named_with_its_exit_code(in_collective):
    with pytest.raises(LaunchError, match="rank 1: exited with code 3 without a report"):
        launch(dying_rank, 2, args=(in_collective,), timeout_s=60)


@pytest.mark.slow
def test_a_hanging_rank_times_out_and_nothing_is_left(tmp_path):
    started = time.monotonic()
    # long enough for two ranks to import torch on a loaded CPU, short enough to keep the test quick
    with pytest.raises(LaunchError, match=r"timed out after 15 s; ranks still running: \[0, 1\]") as caught:
        launch(hanging_rank, 2, args=(str(tmp_path),), timeout_s=15)
    assert caught.value.rank is None and time.monotonic() - started < 30
    pids = left_pids(tmp_path, 2)
    assert not [pid for pid in pids if alive(pid)]
