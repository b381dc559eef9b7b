"""Runs a config: each strategy's scenarios in worker processes of their own, results recorded as they arrive.

    from bench.running.runner import run; run(build_job(load_config("configs/default.yaml")))

Per strategy the sweep, then (measure.restart, where the strategy compiled) its restart; after every
sweep, the load scenario of each load strategy and batching setting. The runner knows which
scenarios a strategy runs and files each worker's typed events; what a scenario does is its own.
"""
from __future__ import annotations

import dataclasses
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

from bench.jobs.job import LOAD, RESTART, Job
from bench.processes.lifetime import child_env, clean_stale, temp_folder
from bench.processes.stop_signals import StopSignals
from bench.reporting.load_io import LOAD_KEY, add_level, filed_levels, load_run, set_load_run
from bench.reporting.records import PointRecord
from bench.reporting.report import write_report
from bench.reporting.results_io import RunRecord
from bench.running import environment
from bench.running.opening import open_record
from bench.running.run_folder import RunLock, cannot_write
from bench.running.run_status import run_failure
from bench.scenarios.events import (DeviceEvent, EventError, FatalEvent, LoadLevelEvent, LoadRunEvent, PhaseEvent,
                                    PointEvent, RooflineEvent, StrategyEvent, decode)
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


def file_event(record: RunRecord, job: Job, event, progress: tqdm) -> str | None:
    """File one worker event in the run record; returns the note of a fatal event."""
    name = job.strategy
    if isinstance(event, FatalEvent):
        return event.note
    if isinstance(event, (LoadRunEvent, LoadLevelEvent)) and job.batching is None:
        return f"the worker sent a {type(event).__name__} outside the load scenario"
    if isinstance(event, PhaseEvent):
        progress.set_postfix_str(f"{job.label}: {event.text}")
    elif isinstance(event, DeviceEvent):
        record.set_device({k: v for k, v in dataclasses.asdict(event).items() if v is not None})
    elif isinstance(event, RooflineEvent):
        record.set_roofline({k: v for k, v in dataclasses.asdict(event).items() if v is not None})
    elif isinstance(event, StrategyEvent):
        record.set_strategy(name, **event.record.stored())
    elif isinstance(event, PointEvent):
        record.add_point(name, event.point)
        progress.update(1)
    elif isinstance(event, LoadRunEvent):
        set_load_run(record, name, job.batching.label, **event.record.stored())
    elif isinstance(event, LoadLevelEvent):
        add_level(record, name, job.batching.label, event.level, event.rows)
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
            failure = run_worker(job.for_scenario(RESTART), record, progress, cache)
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


def run_load(job: Job, record: RunRecord, progress: tqdm) -> None:
    """The job's strategy under load with its batching setting, in a worker of its own (a fresh compile
    cache: the server is started as a user would start it); a strategy whose sweep did not finish is skipped."""
    name, batching = job.strategy, job.batching.label
    levels = job.config.load.levels()
    sweep = record.strategy(name)
    if sweep.status != "ok":
        set_load_run(record, name, batching, status="skipped",
                     note=f"its sweep was {sweep.status or 'not measured'}: {sweep.note or 'no reason given'}")
        progress.update(len(levels))
        return
    set_load_run(record, name, batching, status="running")  # a resume measures an unfinished load run again
    with temp_folder("cache") as cache:
        failure = run_worker(job, record, progress, cache)
    run = load_run(record, name, batching)
    if failure or run.status == "running":
        set_load_run(record, name, batching, status="error", note=failure or "the worker ended before the last level")
        filed = filed_levels(record.data[LOAD_KEY], name, batching)
        progress.update(len([key for key in levels if key not in filed]))


def run_worker(job: Job, record: RunRecord, progress: tqdm, cache: str) -> str | None:
    """Start a worker for the job, with compile caches in `cache`, and record its events until it
    exits; why it failed, or None. An event the runner cannot read ends the worker: it failed."""
    log_path = record.out_dir / "logs" / log_name(job)
    log_path.parent.mkdir(exist_ok=True)
    read_fd, write_fd = os.pipe()
    with open(log_path, "w") as log:
        started = time.time()  # process start, for the ready time
        message = {"job": job.to_dict(), "result_fd": write_fd, "started": started}
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
                    try:
                        event = decode(line)
                    except EventError as exc:
                        fatal = f"the worker sent an event the runner cannot read: {exc}"
                        proc.kill()
                        break
                    fatal = file_event(record, job, event, progress) or fatal
        finally:
            if proc.poll() is None and sys.exc_info()[0] is not None:
                proc.kill()  # the run is being stopped: its worker goes too
            code = proc.wait()
            end_group(proc.pid)  # a generator server or compile worker left must not write in the cache folder
            clean_stale()  # what a killed worker's generator server left in /tmp
    if code != 0 or fatal:
        return fatal or f"worker exited with code {code}: {log_tail(log_path)}"
    return None


def log_name(job: Job) -> str:
    """logs/<strategy>.log for its sweep, <strategy>.restart.log, <strategy>.load-<batching>.log."""
    if job.scenario == RESTART:
        return f"{job.strategy}.restart.log"
    if job.scenario == LOAD:
        return f"{job.strategy}.load-{job.batching.label}.log"
    return f"{job.strategy}.log"


@dataclass(frozen=True)
class Outcome:
    """A finished run: its summary (None if the report failed) and why it failed (None: complete)."""
    summary: pd.DataFrame | None
    failure: str | None


def run(job: Job, resume: bool = False, overwrite: bool = False, accept_environment: bool = False,
        stops: StopSignals | None = None) -> Outcome:
    """Measure every strategy of the job's config; write its run folder and report.
    resume: keep the strategies an interrupted run in that folder finished, measure the rest (accept_environment:
    on a changed environment too). overwrite: replace a run the folder holds (without it, or resume, an occupied
    folder is refused). stops: the command's SIGINT/SIGTERM handler, held from the end of the measuring on (the
    caller then writes the verdict undisturbed); without one, the run installs its own for its duration."""
    env = environment.collect()  # before this run touches anything
    clean_stale()
    own = stops is None
    stops = stops or StopSignals().install()
    try:
        with RunLock(job.run_folder):
            stops.hold()  # opening rewrites the folder's files: a signal now interrupts once they are whole
            try:
                record, kept, kept_load = open_record(job, env, resume, overwrite, accept_environment)
            except OSError as exc:
                raise cannot_write(job.run_folder, exc) from None
            return measure(job, record, kept, kept_load, stops)
    finally:
        if own:
            stops.restore()


def load_jobs(job: Job) -> list[Job]:
    """The load scenario's jobs: each load strategy (all of the config's by default) with each batching setting."""
    load = job.config.load
    if load is None:
        return []
    names = load.strategies or job.config.strategy_names()
    return [job.for_strategy(name).for_scenario(LOAD, batching) for name in names for batching in load.batching]


def load_levels(job: Job) -> int:
    """How many levels each load run measures (0: the config has no load section)."""
    return len(job.config.load.levels()) if job.config.load else 0


def measure(job: Job, record: RunRecord, kept: set[str], kept_load: set[tuple[str, str]],
            stops: StopSignals) -> Outcome:
    """Run the sweeps and load runs not kept, then, with stop signals held, judge the run and write its report."""
    cfg, out_dir = job.config, job.run_folder
    total = len(cfg.strategies) * len(cfg.prompts.lengths) + len(load_jobs(job)) * load_levels(job)
    status = "complete"
    with tqdm(total=total, desc=cfg.name, unit="point") as progress:
        try:
            try:
                stops.release()  # a signal that came while the folder was opened interrupts here
                measure_all(job, record, kept, kept_load, progress)
            finally:
                stops.hold()  # measured (or stopped): the status and the report are written whatever comes
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
    try:
        record.finish("failed" if failure else status, failure)
    except OSError as exc:  # the folder went away or read-only after the last point: one line, not a traceback
        raise cannot_write(out_dir, exc) from None
    try:
        summary = write_report(out_dir)
    except Exception as exc:  # whatever broke the report, the run must say so, not claim "complete"
        summary, failure = None, f"the report failed: {type(exc).__name__}: {exc}"
        record.finish("failed" if status == "complete" else status, failure)
    if status == "interrupted":
        raise KeyboardInterrupt
    return Outcome(summary, failure)


def measure_all(job: Job, record: RunRecord, kept: set[str], kept_load: set[tuple[str, str]], progress: tqdm) -> None:
    """Every sweep not kept, then every load run not kept (after the sweeps: the baseline's references are there)."""
    cfg = job.config
    for spec in cfg.strategies:
        if spec.name in kept:
            progress.update(len(cfg.prompts.lengths))
            continue
        progress.set_postfix_str(spec.name)
        run_strategy(job.for_strategy(spec.name), record, progress)
    for load_job in load_jobs(job):
        if (load_job.strategy, load_job.batching.label) in kept_load:
            progress.update(load_levels(job))
            continue
        progress.set_postfix_str(load_job.label)
        run_load(load_job, record, progress)
