"""Every key of run.json's "environment", named once with its type and meaning (pyperf's _metadata.py).

bench.running.environment fills the keys at the start of a run and the "_end" ones after its last
strategy; the worker adds "device". Torch-free, so `compare` can list the differences between runs in
this order: first what moves timings from one run to the next on the same code (load, threads, clocks,
heat), then what the run was measured on and with.
"""
from __future__ import annotations

from dataclasses import dataclass

LOAD = "load average over 1, 5 and 15 minutes (/proc/loadavg): runnable processes competing for the CPUs"
CPU_MHZ = "mean current frequency of the CPUs this process may use, MHz (/sys cpufreq, else /proc/cpuinfo)"
GPU_CLOCKS = "per GPU: SM clock, memory clock (MHz) and temperature (C), from nvidia-smi"


@dataclass(frozen=True)
class EnvironmentKey:
    name: str  # a dotted name is a key inside a nested object ("device.torch_threads")
    kind: str  # the JSON type: str, int, float, bool, list, object; every key may be null where unknown
    meaning: str


ENVIRONMENT_KEYS = (
    # what drifts between runs of the same code on the same machine
    EnvironmentKey("load_start", "list", f"at the start of the run: {LOAD}"),
    EnvironmentKey("load_end", "list", f"after the last strategy: {LOAD}"),
    EnvironmentKey("cpu_mhz_start", "float", f"at the start of the run: {CPU_MHZ}"),
    EnvironmentKey("cpu_mhz_end", "float", f"after the last strategy: {CPU_MHZ}"),
    EnvironmentKey("gpu_clocks_start", "list", f"at the start of the run: {GPU_CLOCKS}"),
    EnvironmentKey("gpu_clocks_end", "list", f"after the last strategy: {GPU_CLOCKS}"),
    EnvironmentKey("device.torch_threads", "int", "torch.get_num_threads() in the first strategy's worker: the "
                                                  "threads a CPU forward runs on"),
    EnvironmentKey("cpu_count", "int", "CPUs this process may run on (its affinity)"),
    # what the run was measured on and with
    EnvironmentKey("gpu", "str", "the first GPU's name (nvidia-smi)"),
    EnvironmentKey("gpu_count", "int", "GPUs nvidia-smi lists"),
    EnvironmentKey("gpu_memory", "str", "the first GPU's memory, as nvidia-smi writes it"),
    EnvironmentKey("driver", "str", "the NVIDIA driver's version"),
    EnvironmentKey("cuda", "str", "the CUDA version torch was built with"),
    EnvironmentKey("cudnn", "int", "the cuDNN version torch loads"),
    EnvironmentKey("torch", "str", "torch's version"),
    EnvironmentKey("transformers", "str", "transformers' version"),
    EnvironmentKey("python", "str", "Python's version"),
    EnvironmentKey("platform", "str", "the operating system and kernel (platform.platform())"),
    EnvironmentKey("cpu", "str", "the CPU's model name"),
    EnvironmentKey("git_commit", "str", "the commit measured"),
    EnvironmentKey("git_dirty", "bool", "the code differed from that commit (results/ aside)"),
    EnvironmentKey("git_diff_sha256", "str", "sha256 of `git diff HEAD` (results/ aside): which uncommitted edit "
                                             "(null: none)"),
    EnvironmentKey("device.device", "str", "the torch device the workers ran on"),
    EnvironmentKey("device.device_name", "str", "CUDA: the device's name as torch reports it"),
    EnvironmentKey("device.capability", "str", "CUDA: compute capability, major.minor"),
    EnvironmentKey("device.multiprocessors", "int", "CUDA: streaming multiprocessors"),
    EnvironmentKey("device.device_memory_gb", "float", "CUDA: the device's memory, GB"),
)
KEY_NAMES = tuple(k.name for k in ENVIRONMENT_KEYS)


def lookup(environment: dict, name: str):
    """The value of a (dotted) key in a run's environment, or None."""
    value = environment
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value
