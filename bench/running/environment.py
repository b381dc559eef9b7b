"""Environment metadata stored with every run (pyperf's idea: a result carries its machine).

Every key is named, typed and explained once in bench.reporting.environment_keys. collect() runs
before the first strategy; at_end() after the last (bench.running.runner.measure), for the values that
drift during a run: the load, the CPU frequency, the GPUs' clocks and temperature."""
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


def load_average() -> list[float] | None:
    """The load average over 1, 5 and 15 minutes, or None where the system has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_mhz() -> float | None:
    """The mean current frequency (MHz) of the CPUs this process may use: cpufreq in /sys where the kernel
    exposes it, else /proc/cpuinfo's "cpu MHz"; None where neither is readable."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 0)
    mhz = []
    for cpu in cpus:
        try:
            khz = int(Path(f"/sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_cur_freq").read_text())
            mhz.append(khz / 1e3)
        except (OSError, ValueError):
            break
    else:
        return round(sum(mhz) / len(mhz), 1) if mhz else None
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return None
    per_cpu = [float(line.split(":", 1)[1]) for line in lines if line.startswith("cpu MHz")]
    chosen = [per_cpu[c] for c in cpus if c < len(per_cpu)]
    return round(sum(chosen) / len(chosen), 1) if chosen else None


def gpu_clocks() -> list[dict] | None:
    """Per GPU: SM and memory clocks (MHz) and temperature (C) from nvidia-smi, as gpu_state reads the GPU;
    None without one."""
    out = run_command(["nvidia-smi", "--query-gpu=clocks.sm,clocks.mem,temperature.gpu",
                       "--format=csv,noheader,nounits"])
    if not out:
        return None
    clocks = []
    for line in out.splitlines():
        values = [part.strip() for part in line.split(",")]
        clocks.append({key: float(v) if v.replace(".", "", 1).isdigit() else None
                       for key, v in zip(("sm_mhz", "mem_mhz", "temperature_c"), values)})
    return clocks


def drifting(when: str) -> dict:
    """What moves timings during a run, keyed with `when` ("start" or "end")."""
    return {f"load_{when}": load_average(), f"cpu_mhz_{when}": cpu_mhz(), f"gpu_clocks_{when}": gpu_clocks()}


def at_end() -> dict:
    """The drifting values after the last strategy, beside the ones collect() took at the start."""
    return drifting("end")


def collect() -> dict:
    """Everything a reader needs to reproduce or judge a run."""
    return {
        **drifting("start"),
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


def resume_changes(started: dict, now: dict) -> dict[str, tuple]:
    """{key: (the value the run started with, the value now)} for each of RESUME_KEYS that differs."""
    return {key: (started.get(key), now.get(key)) for key in RESUME_KEYS if started.get(key) != now.get(key)}
