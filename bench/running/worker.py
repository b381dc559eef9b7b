"""One strategy in one scenario, in a process of its own (started by bench.running.runner, not by hand).

Each strategy gets a fresh process per scenario, so its compile caches, graphs and memory are gone
before the next one starts. The worker picks the job's scenario (bench/scenarios/) and the target it
drives; results go back to the runner as typed events (bench/scenarios/events.py), one JSON line
each on a pipe, so the runner keeps everything measured before a crash.
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

import torch

from bench.jobs.job import Job
from bench.measuring.clocks import GB
from bench.models.build import hf_config
from bench.scenarios.events import DeviceEvent, Emit, FatalEvent, encode
from bench.scenarios.registry import SCENARIOS
from bench.targets.loading import error_text
from strategies.registry import REGISTRY


def device_info(device: torch.device) -> DeviceEvent:
    if device.type != "cuda":
        return DeviceEvent(str(device))
    props = torch.cuda.get_device_properties(device)
    return DeviceEvent(str(device), props.name, f"{props.major}.{props.minor}", props.multi_processor_count,
                       props.total_memory / GB)


def run_job(job: Job, emit: Emit, started: float | None = None) -> None:
    """Run the job's scenario for its strategy, emitting events as results come; `started`: the process
    start (time.time()) its ready time counts from (None: now)."""
    started = time.time() if started is None else started
    scenario = SCENARIOS[job.scenario]
    device = torch.device(job.device)
    emit(device_info(device))
    strategy = REGISTRY[job.strategy]
    reason = strategy.unavailable_reason(device) or strategy.refusal_reason(hf_config(job.config.model))
    if reason:
        scenario.skip(job, reason, emit)
        return
    target = scenario.make_target(job, emit)
    try:
        with torch.inference_mode():
            scenario.run(job, target, emit, started)
    finally:
        target.close()


def main() -> int:
    """Read {"job": Job.to_dict(), "result_fd": fd, "started": the runner's time.time() at the start} on stdin."""
    message = json.loads(sys.stdin.read())
    out = os.fdopen(message["result_fd"], "w", buffering=1)

    def emit(event) -> None:
        out.write(encode(event))

    try:
        job = Job.from_dict(message["job"])
        scenario = SCENARIOS[job.scenario]
        emit(scenario.imported(time.time() - message["started"]))  # Python, torch, transformers, the harness
        run_job(job, emit, message["started"])
    except Exception as exc:
        traceback.print_exc()
        emit(FatalEvent(error_text(exc)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
