"""Runs a sweep: each strategy in its own worker process, results recorded as they arrive.

    from bench.running.runner import run; run(build_job(load_config("configs/default.yaml")))
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from bench.config.errors import ConfigError
from bench.config.names import BASELINE
from bench.reporting.records import PointRecord
from bench.reporting.report import write_report
from bench.reporting.results_io import RUN_FILE, RunRecord
from bench.running import environment
from bench.running.job import Job
from bench.running.references import discard_references, has_references

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
LOG_TAIL_LINES = 5  # enough of a crashed worker's log to name the problem in the error row
WORKER_COMMAND = [sys.executable, "-m", "bench.running.worker"]


def worker_env(cache_dir: str) -> dict:
    """A worker's environment: the repo importable, and compile caches of its own, so one
    strategy's compiled kernels never make another's compile time look short."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(cache_dir, "inductor")
    env["TRITON_CACHE_DIR"] = os.path.join(cache_dir, "triton")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def log_tail(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return " | ".join(lines[-LOG_TAIL_LINES:])


def record_event(record: RunRecord, name: str, event: dict, started: float, progress: tqdm) -> str | None:
    """File one worker event in the run record; returns the message of a fatal event."""
    kind = event.pop("event")
    if kind == "device":
        record.set_device(event)
    elif kind == "strategy":
        record.set_strategy(name, **event)
    elif kind == "ready":
        record.set_strategy(name, ready_s=event["time"] - started)
    elif kind == "roofline":
        record.set_roofline(event)
    elif kind == "stats":
        record.set_strategy(name, stats=event["stats"])
    elif kind == "fatal":
        return event["note"]
    else:
        record.add_point(name, PointRecord.from_dict(event))
        progress.update(1)
    return None


def run_strategy(job: Job, record: RunRecord, progress: tqdm) -> None:
    """Start the worker for the job's strategy and record its events until it exits."""
    name = job.strategy
    log_path = record.out_dir / "logs" / f"{name}.log"
    log_path.parent.mkdir(exist_ok=True)
    read_fd, write_fd = os.pipe()
    message = {"job": job.to_dict(), "result_fd": write_fd}
    with tempfile.TemporaryDirectory(prefix="ttft-bench-cache-") as cache, open(log_path, "w") as log:
        started = time.time()  # process start, for the ready time
        proc = subprocess.Popen(WORKER_COMMAND, stdin=subprocess.PIPE, stdout=log,
                                stderr=subprocess.STDOUT, pass_fds=(write_fd,), env=worker_env(cache),
                                cwd=REPO_ROOT, text=True)
        os.close(write_fd)
        proc.stdin.write(json.dumps(message))
        proc.stdin.close()
        fatal = None
        try:
            with os.fdopen(read_fd) as events:
                for line in events:
                    fatal = record_event(record, name, json.loads(line), started, progress) or fatal
        finally:
            if proc.poll() is None and sys.exc_info()[0] is not None:
                proc.kill()  # the run is being stopped: its worker goes too
            code = proc.wait()
    if code != 0 or fatal:
        reason = fatal or f"worker exited with code {code}: {log_tail(log_path)}"
        record.set_strategy(name, status="error", note=reason)
        for n in job.config.prompts.lengths:
            if not record.has_point(name, n):
                record.add_point(name, PointRecord(prompt_len=n, status="error", note=reason))
                progress.update(1)


def open_record(job: Job, env: dict, resume: bool) -> tuple[RunRecord, set[str]]:
    """A new run record, or with `resume` the interrupted one in the run folder and the
    strategies it finished. The baseline's reference file must be there to keep anything."""
    cfg, out_dir = job.config, job.run_folder
    if resume and (out_dir / RUN_FILE).exists():
        try:
            record, kept = RunRecord.reopen(out_dir, cfg.raw, env, cfg.prompts.lengths)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if BASELINE in kept and has_references(out_dir):
            return record, kept
        print(f"resume: {out_dir} has no finished baseline with its reference; measuring everything",
              file=sys.stderr)
    elif resume:
        print(f"resume: {out_dir} holds no run yet; starting one", file=sys.stderr)
    discard_references(out_dir)
    shutil.rmtree(out_dir / "logs", ignore_errors=True)
    return RunRecord.start(out_dir, cfg.name, cfg.raw, env), set()


def run(job: Job, resume: bool = False) -> pd.DataFrame:
    """Measure every strategy of the job's config; write its run folder and report. Returns the summary.
    resume: keep the strategies an interrupted run in that folder finished, measure the rest."""
    env = environment.collect()  # before this run touches anything
    cfg, out_dir = job.config, job.run_folder
    record, kept = open_record(job, env, resume)
    total = len(cfg.strategies) * len(cfg.prompts.lengths)
    status = "complete"
    with tqdm(total=total, desc=cfg.name, unit="point") as progress:
        try:
            for spec in cfg.strategies:
                if spec.name in kept:
                    progress.update(len(cfg.prompts.lengths))
                    continue
                progress.set_postfix_str(spec.name)
                run_strategy(job.for_strategy(spec.name), record, progress)
        except KeyboardInterrupt:
            status = "interrupted"
    record.finish(status)
    summary = write_report(out_dir)
    if status == "interrupted":
        raise KeyboardInterrupt
    return summary
