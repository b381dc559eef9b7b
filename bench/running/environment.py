"""Environment metadata stored with every run (pyperf's idea: a result carries its machine)."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import torch
import transformers


def _command(args: list[str], cwd: str | None = None) -> str | None:
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=10, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_state() -> dict:
    """The commit measured. A copy of the tree made elsewhere (a remote GPU box, whose .git may
    be missing or stale) is told it through TTFT_BENCH_GIT_COMMIT / TTFT_BENCH_GIT_DIRTY, set
    where the copy was made; they win over what git says in the copy."""
    if os.environ.get("TTFT_BENCH_GIT_COMMIT"):
        return {"git_commit": os.environ["TTFT_BENCH_GIT_COMMIT"],
                "git_dirty": os.environ.get("TTFT_BENCH_GIT_DIRTY") == "1"}
    repo = str(Path(__file__).resolve().parent.parent.parent)
    commit = _command(["git", "rev-parse", "HEAD"], cwd=repo)
    # results/ is what runs write, not what they measure: it does not make the code dirty
    status = _command(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"], cwd=repo)
    return {"git_commit": commit, "git_dirty": bool(status) if status is not None else None}


def gpu_state() -> dict:
    """GPU name and driver from nvidia-smi, so the parent never initialises CUDA."""
    out = _command(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
    if not out:
        return {"gpu": None, "driver": None, "gpu_memory": None}
    name, driver, memory = (part.strip() for part in out.splitlines()[0].split(","))
    return {"gpu": name, "driver": driver, "gpu_memory": memory, "gpu_count": len(out.splitlines())}


def collect() -> dict:
    """Everything a reader needs to reproduce or judge a run."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": _cpu_count(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "transformers": transformers.__version__,
        **gpu_state(),
        **git_state(),
    }


def _cpu_count() -> int | None:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
