"""Runs a sweep: each strategy in its own worker process, results recorded as they arrive.

    from bench.running.runner import run; run(build_job(load_config("configs/default.yaml")))
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from bench.config.errors import ConfigError
from bench.config.names import BASELINE
from bench.jobs.job import Job
from bench.judging.references import discard_references, has_references
from bench.processes.lifetime import child_env, clean_stale, temp_folder
from bench.reporting.records import PointRecord
from bench.reporting.report import write_report
from bench.reporting.results_io import RUN_FILE, RunRecord, read_run
from bench.running import environment
from bench.running.run_folder import RunLock, cannot_write, refuse_existing, remove_logs
from bench.running.run_status import run_failure
from strategies.registry import REGISTRY

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
LOG_TAIL_LINES = 5  # enough of a crashed worker's log to name the problem in the error row
WORKER_COMMAND = [sys.executable, "-m", "bench.running.worker"]


def worker_env(cache_dir: str) -> dict:
    """A worker's environment: the repo importable, and compile caches of its own, so one
    strategy's compiled kernels never make another's compile time look short."""
    env = child_env()  # a worker dies with its runner
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(cache_dir, "inductor")
    env["TRITON_CACHE_DIR"] = os.path.join(cache_dir, "triton")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def log_tail(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return " | ".join(lines[-LOG_TAIL_LINES:])


def record_event(record: RunRecord, name: str, event: dict, started: float, progress: tqdm,
                 restart: bool = False) -> str | None:
    """File one worker event in the run record; returns the message of a fatal event."""
    kind = event.pop("event")
    if kind == "device":
        record.set_device(event)
    elif kind == "strategy":
        record.set_strategy(name, **event)
    elif kind == "ready":
        record.set_strategy(name, ready_s=event["time"] - started)
    elif kind == "restart_ready":
        record.set_strategy(name, restart_ready_s=event["time"] - started)
    elif kind == "imported":
        record.set_strategy(name, **{"restart_imports_s" if restart else "imports_s": event["time"] - started})
    elif kind == "roofline":
        record.set_roofline(event)
    elif kind == "stats":
        record.set_strategy(name, stats=event["stats"])
    elif kind == "phase":
        progress.set_postfix_str(f"{name}{' (restart)' if restart else ''}: {event['text']}")
    elif kind == "fatal":
        return event["note"]
    else:
        record.add_point(name, PointRecord.from_dict(event))
        progress.update(1)
    return None


def end_group(group: int) -> None:
    """SIGKILL whatever is left of a finished worker's process group (its server, its compile workers)."""
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left


def run_strategy(job: Job, record: RunRecord, progress: tqdm) -> None:
    """The job's strategy in a worker of its own; then, where measure.restart asks and the strategy
    compiled, once more in a new worker with the compile caches the first left (a restart)."""
    name = job.strategy
    with temp_folder("cache") as cache:
        failure = run_worker(job, record, progress, cache)
        if failure:
            record.set_strategy(name, status="error", note=failure)
            for n in job.config.prompts.lengths:
                if not record.has_point(name, n):
                    record.add_point(name, PointRecord(prompt_len=n, status="error", note=failure))
                    progress.update(1)
        elif restarts(job, record):
            record.set_strategy(name, restart_status="running")  # a resume measures an unfinished restart again
            failure = run_worker(job.as_restart(), record, progress, cache)
            note = record.strategy(name).restart_note
            if failure:
                note = "; ".join(filter(None, [note, f"the restart failed: {failure}"]))
            record.set_strategy(name, restart_status="error" if failure else "ok", restart_note=note)


def restarts(job: Job, record: RunRecord) -> bool:
    """measure.restart is on, the strategy compiles with its options and it ran (not skipped)."""
    if not job.config.measure.restart or record.strategy(job.strategy).status != "ok":
        return False
    spec = next(s for s in job.config.strategies if s.name == job.strategy)
    return REGISTRY[spec.name].compiles(spec.options)


def run_worker(job: Job, record: RunRecord, progress: tqdm, cache: str) -> str | None:
    """Start a worker for the job, with compile caches in `cache`, and record its events until it
    exits; why it failed, or None."""
    name = job.strategy
    log_path = record.out_dir / "logs" / f"{name}{'.restart' if job.restart else ''}.log"
    log_path.parent.mkdir(exist_ok=True)
    read_fd, write_fd = os.pipe()
    message = {"job": job.to_dict(), "result_fd": write_fd}
    with open(log_path, "w") as log:
        started = time.time()  # process start, for the ready time
        proc = subprocess.Popen(WORKER_COMMAND, stdin=subprocess.PIPE, stdout=log,
                                stderr=subprocess.STDOUT, pass_fds=(write_fd,), env=worker_env(cache),
                                cwd=REPO_ROOT, text=True, start_new_session=True)  # a group to end as one
        os.close(write_fd)
        proc.stdin.write(json.dumps(message))
        proc.stdin.close()
        fatal = None
        try:
            with os.fdopen(read_fd) as events:
                for line in events:
                    fatal = record_event(record, name, json.loads(line), started, progress, job.restart) or fatal
        finally:
            if proc.poll() is None and sys.exc_info()[0] is not None:
                proc.kill()  # the run is being stopped: its worker goes too
            code = proc.wait()
            end_group(proc.pid)  # a generator server or compile worker left must not write in the cache folder
            clean_stale()  # what a killed worker's generator server left in /tmp
    if code != 0 or fatal:
        return fatal or f"worker exited with code {code}: {log_tail(log_path)}"
    return None


def open_record(job: Job, env: dict, resume: bool, overwrite: bool) -> tuple[RunRecord, set[str]]:
    """A new run record, or with `resume` the interrupted one in the run folder and the
    strategies it finished whose samples check out. The baseline's reference file must be there
    to keep anything."""
    cfg, out_dir = job.config, job.run_folder
    refuse_existing(out_dir, overwrite, resume)
    if resume and (out_dir / RUN_FILE).exists():
        try:
            record, kept, rejected = RunRecord.reopen(out_dir, cfg.raw, env, cfg.prompts.lengths)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        for name, reason in rejected.items():
            print(f"resume: measuring {name} again: its samples failed the check ({reason})", file=sys.stderr)
        if BASELINE in kept and has_references(out_dir):
            return record, kept
        print(f"resume: {out_dir} has no finished baseline with its reference; measuring everything",
              file=sys.stderr)
    elif resume:
        refuse_existing(out_dir, overwrite, resume=False)  # samples without their run.json are not ours to drop
        print(f"resume: {out_dir} holds no run yet; starting one", file=sys.stderr)
    discard_references(out_dir)
    remove_logs(out_dir, [*previous_strategies(out_dir), *cfg.strategy_names()])
    return RunRecord.start(out_dir, cfg.name, cfg.raw, env), set()


def previous_strategies(out_dir: Path) -> list[str]:
    """The strategies of the run this folder held (their logs are the tool's to replace)."""
    try:
        return list(read_run(out_dir)["strategies"])
    except ValueError:
        return []


@dataclass(frozen=True)
class Outcome:
    """A finished run: its summary (None if the report failed) and why it failed (None: complete)."""
    summary: pd.DataFrame | None
    failure: str | None


def run(job: Job, resume: bool = False, overwrite: bool = False) -> Outcome:
    """Measure every strategy of the job's config; write its run folder and report.
    resume: keep the strategies an interrupted run in that folder finished, measure the rest.
    overwrite: replace a run the folder holds (without it, or resume, an occupied folder is refused)."""
    env = environment.collect()  # before this run touches anything
    clean_stale()
    with RunLock(job.run_folder):
        try:
            record, kept = open_record(job, env, resume, overwrite)
        except OSError as exc:
            raise cannot_write(job.run_folder, exc) from None
        return measure(job, record, kept)


def measure(job: Job, record: RunRecord, kept: set[str]) -> Outcome:
    """Run the strategies not kept, then judge the run and write its report."""
    cfg, out_dir = job.config, job.run_folder
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
        except OSError as exc:  # a full disk, a folder made read-only mid-run: one line, not a traceback
            error = cannot_write(out_dir, exc)
            try:
                record.finish("failed", str(error))
            except OSError:
                pass  # the disk that failed the samples may fail run.json too; the error still says why
            raise error from None
    record.set_environment(environment.at_end())  # the drifting values (load, clocks) after the last strategy
    failure = run_failure(record.data) if status == "complete" else None
    record.finish("failed" if failure else status, failure)
    try:
        summary = write_report(out_dir)
    except Exception as exc:  # whatever broke the report, the run must say so, not claim "complete"
        summary, failure = None, f"the report failed: {type(exc).__name__}: {exc}"
        record.finish("failed" if status == "complete" else status, failure)
    if status == "interrupted":
        raise KeyboardInterrupt
    return Outcome(summary, failure)
