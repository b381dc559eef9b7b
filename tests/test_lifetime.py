"""No orphans: children die with their parent, even by SIGKILL; stale temp folders are cleaned."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bench.processes.lifetime import clean_stale, pid_alive
from tests.conftest import REPO, gone, tiny_raw, wait_for

CHILD = ("from bench.processes.lifetime import die_with_parent; die_with_parent(); import time; "
         "print('armed', flush=True); time.sleep(120)")  # the parent's stdout: the test reads it
PARENT = ("import subprocess, sys, time; from bench.processes.lifetime import child_env\n"
          f"child = subprocess.Popen([sys.executable, '-c', {CHILD!r}], env=child_env())\n"
          "print(child.pid, flush=True); time.sleep(120)")
GONE_WITHIN_S = 30.0  # a parent-death signal lands in milliseconds; this only bounds a failing test on a loaded machine
SERVER_UP_S = 240  # the worker and server import torch: 30-50 s on a loaded 2-core machine; this only bounds a hang


def children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def ours(tmp: Path) -> list[str]:
    """The tool's temp folders in tmp (torch keeps a cache of its own there)."""
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("ttft-bench-"))


def test_a_child_dies_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    child = int(parent.stdout.readline())
    assert parent.stdout.readline().strip() == "armed"  # killed earlier, the child would exit on its own check
    assert not gone(child)
    parent.kill()
    parent.wait()
    wait_for(lambda: gone(child), GONE_WITHIN_S, f"the child {child} to die with its killed parent")


def test_stale_folders_of_dead_owners_are_removed_and_nothing_else(tmp_path):
    dead = tmp_path / "ttft-bench-cache-999999999-abc"
    alive = tmp_path / f"ttft-bench-cache-{os.getpid()}-abc"
    foreign = tmp_path / "ttft-bench-notes"
    other = tmp_path / "unrelated-999999999-abc"
    for folder in (dead, alive, foreign, other):
        folder.mkdir()
    (dead / "inductor").mkdir()
    assert clean_stale(str(tmp_path)) == [dead]
    assert not dead.exists() and alive.exists() and foreign.exists() and other.exists()
    assert not pid_alive(999999999) and pid_alive(os.getpid())


@pytest.fixture
def ipc_run(tmp_path):
    """A long ipc run in its own TMPDIR; yields (runner process, tmpdir) once its generator server is up."""
    tmp = Path(tempfile.mkdtemp(prefix="tb"))  # short: the server's socket path must fit in 107 bytes
    raw = tiny_raw(transport="ipc", prompts={"lengths": [8, 16]}, measure={"warmup": 0, "repeats": 100000})
    config = tmp_path / "ipc.yaml"
    config.write_text(json.dumps(raw))
    runner = subprocess.Popen([sys.executable, "-m", "bench", "run", str(config), "--out", str(tmp_path / "out")],
                              cwd=REPO, env={**os.environ, "TMPDIR": str(tmp)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    # the server is up once a worker has a child and the run recorded the strategy as started
    wait_for(lambda: any(children(w) for w in children(runner.pid)) and
             (tmp_path / "out" / "run.json").exists() and
             "baseline" in json.loads((tmp_path / "out" / "run.json").read_text())["strategies"], SERVER_UP_S,
             "the run's generator server to start (a worker with a child, baseline started in run.json)")
    started = [pid for worker in children(runner.pid) for pid in (worker, *children(worker))]
    yield runner, tmp
    if runner.poll() is None:
        runner.kill()
        runner.wait()
    for pid in started:  # a failing test must not leave its processes behind either
        if not gone(pid):
            os.kill(pid, signal.SIGKILL)
    subprocess.run(["rm", "-rf", str(tmp)], check=True)


@pytest.mark.slow
def test_killing_the_runner_kills_its_worker_and_generator_server(ipc_run):
    runner, tmp = ipc_run
    (worker,) = children(runner.pid)
    (server,) = children(worker)
    runner.kill()
    runner.wait()
    wait_for(lambda: gone(worker) and gone(server), GONE_WITHIN_S,
             f"the killed runner's worker {worker} and generator server {server} to die")
    left = ours(tmp)
    assert [name.split("-")[2] for name in left] == ["cache", "ipc"]  # SIGKILL gave no chance to clean
    clean_stale(str(tmp))  # what the next run does at its start
    assert not ours(tmp)


@pytest.mark.slow
def test_killing_a_worker_kills_its_server_and_the_run_says_so(ipc_run):
    runner, tmp = ipc_run
    (worker,) = children(runner.pid)
    (server,) = children(worker)
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: gone(server), GONE_WITHIN_S, f"the killed worker's generator server {server} to die")
    _, err = runner.communicate(timeout=120)
    assert runner.returncode == 1
    assert err.strip().splitlines()[-1].startswith("error: run failed: baseline stopped: worker exited with code -9")
    assert not ours(tmp)  # the worker's ipc folder went with it, and the runner's cache folder
