"""One strategy's sweep, in a process of its own (started by bench.running.runner, not by hand).

Each strategy gets a fresh process, so its compile caches, graphs and memory are gone
before the next strategy starts. Results go back to the runner as JSON lines on a pipe,
one event per measured point, so the runner keeps everything measured before a crash.
"""
from __future__ import annotations

if __name__ == "__main__":  # the worker process: die with the runner, block unused packages, before torch loads
    from bench.processes.startup import start_process
    start_process()

import json
import os
import sys
import time
import traceback
from contextlib import closing

import torch

from bench.jobs.job import Job
from bench.measuring.clocks import GB
from bench.measuring.roofline import measure_ceilings, model_shape
from bench.models.build import hf_config
from bench.models.dtypes import TORCH_DTYPES
from bench.parallel.ceilings import measure_tp_ceilings
from bench.parallel.one_gpu_references import write_one_gpu_references
from bench.reporting.records import PointRecord
from bench.scenarios.restart import run_restart
from bench.scenarios.sweep import Emit, run_sweep
from bench.targets.base import Target
from bench.targets.inprocess import InProcessTarget
from bench.targets.loading import error_text
from strategies.registry import REGISTRY


def device_info(device: torch.device) -> dict:
    if device.type != "cuda":
        return {"device": str(device)}
    props = torch.cuda.get_device_properties(device)
    return {"device": str(device), "device_name": props.name, "capability": f"{props.major}.{props.minor}",
            "multiprocessors": props.multi_processor_count, "device_memory_gb": props.total_memory / GB}


def roofline_facts(job: Job) -> dict:
    """The GPU's measured ceilings (before any model takes memory) and the model's shape."""
    dtype = TORCH_DTYPES[job.config.model.dtype]
    shape = {**model_shape(hf_config(job.config.model)), "bytes_per_param": dtype.itemsize}
    device, ranks = torch.device(job.device), job.config.model.tensor_parallel
    if device.type != "cuda":
        return {"model": shape, "note": "roofline: the ceilings are measured on CUDA GPUs only"}
    try:
        if ranks > 1:
            ceilings = measure_tp_ceilings(device, dtype, ranks, shape["hidden_size"], list(job.config.prompts.lengths))
        else:
            ceilings = measure_ceilings(device, dtype)
    except Exception as exc:  # the floor is a column, not the run: the baseline goes on without it
        traceback.print_exc()
        return {"model": shape, "note": f"roofline: measuring the ceilings failed: {error_text(exc)}"}
    return {"model": shape, "ceilings": ceilings}


def make_target(job: Job, emit: Emit) -> Target:
    """The target of the job's transport; an in-process one tells the progress bar its phases (a server's or
    a rank's preparation happens in its own process)."""
    if job.config.transport == "ipc":
        from bench.serving.ipc_target import IpcTarget
        return IpcTarget(job)
    if job.config.model.tensor_parallel > 1:
        from bench.parallel.target import TpTarget
        return TpTarget(job)
    return InProcessTarget(job, on_phase=lambda text: emit({"event": "phase", "text": text}))


def skip_all(job: Job, reason: str, emit: Emit) -> None:
    emit({"event": "strategy", "status": "skipped", "note": reason})
    for n in job.config.prompts.lengths:
        emit({"event": "point", **PointRecord(prompt_len=n, status="skipped", note=reason).to_dict()})


def sweep(job: Job, emit: Emit) -> None:
    """Measure the job's strategy at every length, emitting events as results come."""
    device = torch.device(job.device)
    emit({"event": "device", **device_info(device)})
    strategy = REGISTRY[job.strategy]
    reason = strategy.unavailable_reason(device) or strategy.refusal_reason(hf_config(job.config.model))
    if reason:
        skip_all(job, reason, emit)
        return
    if job.restart:
        with torch.inference_mode(), closing(make_target(job, emit)) as target:
            run_restart(job, target, emit)
        return
    if job.is_baseline:
        emit({"event": "roofline", **roofline_facts(job)})
    emit({"event": "strategy", "tensor_parallel": job.config.model.tensor_parallel})
    target = make_target(job, emit)
    try:
        with torch.inference_mode():
            if job.is_baseline and not job.writes_references:
                write_one_gpu_references(job)
            run_sweep(job, target, emit)
    finally:
        target.close()


def main() -> int:
    """Read {"job": Job.to_dict(), "result_fd": fd} on stdin."""
    message = json.loads(sys.stdin.read())
    out = os.fdopen(message["result_fd"], "w", buffering=1)

    def emit(event: dict) -> None:
        out.write(json.dumps(event) + "\n")

    try:
        emit({"event": "imported", "time": time.time()})  # Python, torch, transformers and the harness loaded
        sweep(Job.from_dict(message["job"]), emit)
    except Exception as exc:
        traceback.print_exc()
        emit({"event": "fatal", "note": error_text(exc)})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
