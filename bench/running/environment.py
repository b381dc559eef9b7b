"""Environment metadata stored with every run (pyperf's idea: a result carries its machine)."""
from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import torch
import transformers

from bench.version import git_state, run_command

# what must not change between an interrupted run and its resumption: what the numbers depend on (the GPU,
# its driver, the frameworks, the code measured, uncommitted edits included), not where they are written from
RESUME_KEYS = ("gpu", "driver", "torch", "transformers", "git_commit", "git_dirty", "git_diff_sha256")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_state() -> dict:
    """GPU name and driver from nvidia-smi, so the parent never initialises CUDA."""
    out = run_command(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
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


def changed_keys(started: dict, now: dict) -> dict[str, tuple]:
    """{key: (the value the run started with, the value now)} for each of RESUME_KEYS that differs."""
    return {key: (started.get(key), now.get(key)) for key in RESUME_KEYS if started.get(key) != now.get(key)}
