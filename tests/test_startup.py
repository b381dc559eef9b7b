"""The startup step of our processes: a worker or server whose parent dies while it imports goes at once; the
worker's imports no longer load scikit-learn; a library import of bench blocks nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.processes.startup import UNUSED_PACKAGES
from bench.running.runner import WORKER_COMMAND
from tests.conftest import REPO, gone, wait_for

SERVER_COMMAND = [sys.executable, "-m", "bench", "serve", "--job", "job.json", "--socket", "s.sock"]  # as IpcTarget
SLOW_IMPORT_S = 120  # a fake torch/numpy that takes this long to import: the child is still importing when killed
# a parent-death signal lands in milliseconds; slack for a loaded test machine, still far below the 120 s import
GONE_AT_ONCE_S = 30.0
STARTED_S = 0.5  # the child's interpreter is up and importing by then (the step itself takes milliseconds)
PARENT = ("import subprocess, sys\n"
          "from bench.processes.lifetime import child_env\n"
          "child = subprocess.Popen(sys.argv[1:], env=child_env(), stdin=subprocess.PIPE)\n"
          "print(child.pid, flush=True)\n"
          "child.wait()")
# a module whose import records itself in the file $IMPORTED_MARK names
RECORDING_MODULE = "import os\nopen(os.environ['IMPORTED_MARK'], 'a').write(__name__ + '\\n')\n"
WORKER_IMPORT_TIMEOUT_S = 600  # torch and transformers take 30-50 s on the loaded 2-core test machine; a bound only


def slow_package(root: Path, name: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text(f"import time\ntime.sleep({SLOW_IMPORT_S})\n")


@pytest.mark.parametrize("command", [WORKER_COMMAND, SERVER_COMMAND], ids=["worker", "server"])
def test_a_child_whose_parent_is_killed_while_it_imports_goes_at_once(tmp_path, command):
    """Issue 23 row 21: the parent-death signal is armed before the imports, not after them."""
    fakes = tmp_path / "fakes"
    for name in ("torch", "numpy"):  # the first heavy import of the worker (torch) and of `python -m bench` (numpy)
        slow_package(fakes, name)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fakes), str(REPO)])}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, *command], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        time.sleep(STARTED_S)
        assert not gone(child), "the child ended before its parent was killed"
        parent.kill()
        parent.wait()
        wait_for(lambda: gone(child), GONE_AT_ONCE_S,
                 "the child to go after its parent's SIGKILL (it lives on, importing on its own)")
    finally:  # a failing test leaves no process behind
        if parent.poll() is None:
            parent.kill()
        if not gone(child):
            os.kill(child, signal.SIGKILL)


def recording_sklearn(root: Path) -> None:
    """A package named sklearn on the path that records its import (transformers runs
    `from sklearn.metrics import roc_curve` when it finds one)."""
    (root / "sklearn").mkdir(parents=True)
    (root / "sklearn" / "__init__.py").write_text(RECORDING_MODULE)
    (root / "sklearn" / "metrics.py").write_text(RECORDING_MODULE + "\n\ndef roc_curve(*args, **kwargs):\n"
                                                 "    raise NotImplementedError\n")


@pytest.mark.slow
def test_the_worker_no_longer_imports_scikit_learn_and_a_library_import_still_does(tmp_path):
    """The worker entry (as the runner starts it) blocks sklearn before transformers looks for it; a user's
    `import bench.running.worker` is left alone: the same fake package is imported there, which proves it is found."""
    fakes = tmp_path / "fakes"
    recording_sklearn(fakes)
    marks = {kind: tmp_path / f"{kind}.imported" for kind in ("entry", "library")}
    base = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fakes), str(REPO)])}
    commands = {"entry": WORKER_COMMAND, "library": [sys.executable, "-c", "import bench.running.worker"]}
    # both at once: each spends its time importing torch and transformers
    procs = {kind: subprocess.Popen(commands[kind], cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, env={**base, "IMPORTED_MARK": str(marks[kind])})
             for kind in commands}
    outputs = {kind: proc.communicate(timeout=WORKER_IMPORT_TIMEOUT_S)[0] for kind, proc in procs.items()}
    assert procs["library"].returncode == 0, outputs["library"][-2000:]
    assert "JSONDecodeError" in outputs["entry"], outputs["entry"][-2000:]  # imported all, then read an empty stdin
    assert marks["library"].read_text().split() == ["sklearn", "sklearn.metrics"]
    assert not marks["entry"].exists(), marks["entry"].read_text()
    assert "sklearn" in UNUSED_PACKAGES
