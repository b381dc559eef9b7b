"""How a run takes its folder: a new run, or (--resume) the continuation of an interrupted one.

    record, kept, kept_load = open_record(job, environment.collect(), resume=False, overwrite=False)

A new run replaces what the tool wrote in the folder (only with --overwrite: an occupied folder is
refused without it) and nothing else. A resume checks before it changes a file: the config, key by
key; the environment (environment.RESUME_KEYS), refused by name unless the user accepts the change,
which run.json then records; and the baseline's references: another run's are refused by name, and
missing, unreadable or incomplete ones mean everything is measured again, the baseline first. Either
way the folder's report files go before measuring starts, so none of them ever describes other raw
files than the folder's own; the run writes its report when it ends.
"""
from __future__ import annotations

import sys
from pathlib import Path

from bench.config.errors import ConfigError
from bench.config.names import BASELINE
from bench.jobs.job import Job
from bench.judging.reference_check import reference_problem
from bench.judging.references import discard_references
from bench.reporting.dotted_keys import change_text
from bench.reporting.load_io import discard_load, reopen_load, start_load
from bench.reporting.report import discard_report
from bench.reporting.results_io import RUN_FILE, RunRecord, finished_strategies, read_resumable, read_run
from bench.running.environment import resume_changes
from bench.running.run_folder import refuse_existing, remove_logs

Opened = tuple[RunRecord, set[str], set[tuple[str, str]]]  # the record, the sweeps kept, the load runs kept


def open_record(job: Job, env: dict, resume: bool, overwrite: bool, accept_environment: bool = False) -> Opened:
    """A new run record, or with `resume` the interrupted one in the run folder, the strategies whose
    sweeps it finished with samples that check out, and the (strategy, batching) load runs it finished.
    accept_environment: resume on a changed environment (recorded) instead of refusing it."""
    if resume and overwrite:
        raise ConfigError("--resume and --overwrite: choose one (continue the run in the folder, or replace it)")
    out_dir = job.run_folder
    refuse_existing(out_dir, overwrite, resume)
    if resume and (out_dir / RUN_FILE).exists():
        opened = reopen_record(job, env, accept_environment)
        if opened is not None:
            return opened
    elif resume:
        refuse_existing(out_dir, overwrite, resume=False)  # samples without their run.json are not ours to drop
        print(f"resume: {out_dir} holds no run yet; starting one", file=sys.stderr)
    return start_record(job, env)


def reopen_record(job: Job, env: dict, accept_environment: bool) -> Opened | None:
    """The interrupted run continued; None (having said why) where nothing can be kept: no finished
    baseline, or no references that can judge the rest. ConfigError for a change it must not resume over."""
    cfg, out_dir = job.config, job.run_folder
    data = read_resumable(out_dir, cfg.raw)
    changes = resume_changes(data["environment"], env)
    if changes and not accept_environment:
        raise ConfigError(f"{out_dir}: cannot resume on another environment ({described(changes)}); "
                          f"--resume-anyway continues on it and records the change in run.json")
    if BASELINE in finished_strategies(data, cfg.prompts.lengths):
        problem = reference_problem(job, measured_lengths(data, BASELINE))  # another run's: refused here
    else:
        problem = "it has no finished baseline"
    if problem is None:
        record, kept, rejected = RunRecord.reopen(out_dir, data, cfg.prompts.lengths, changes)
        for name, reason in rejected.items():
            print(f"resume: measuring {name} again: its samples failed the check ({reason})", file=sys.stderr)
        if BASELINE in kept:
            discard_report(out_dir)
            return record, kept, reopen_load(record, cfg.load.levels(), cfg.load.slo_ttft_ms) if cfg.load else set()
        problem = "the baseline's samples failed the check"
    print(f"resume: measuring everything again, the baseline first: {problem}", file=sys.stderr)
    return None


def start_record(job: Job, env: dict) -> Opened:
    """A new run in the job's folder: what the tool wrote there before (another run's files) removed first."""
    cfg, out_dir = job.config, job.run_folder
    discard_references(out_dir)
    remove_logs(out_dir, [*previous_strategies(out_dir), *cfg.strategy_names()])
    discard_load(out_dir)
    discard_report(out_dir)
    record = RunRecord.start(out_dir, cfg.name, cfg.raw, env)
    if cfg.load:
        start_load(record, cfg.load.slo_ttft_ms)
    return record, set(), set()


def measured_lengths(data: dict, strategy: str) -> list[int]:
    """The lengths at which a strategy's point in run.json's content was measured (status ok)."""
    return [p["prompt_len"] for p in data["points"] if p["strategy"] == strategy and p["status"] == "ok"]


def described(changes: dict[str, tuple]) -> str:
    """'git_dirty: False -> True; torch: ...' for the environment's changed keys."""
    return "; ".join(change_text(key, old, new) for key, (old, new) in changes.items())


def previous_strategies(out_dir: Path) -> list[str]:
    """The strategies of the run this folder held (their logs are the tool's to replace)."""
    try:
        return list(read_run(out_dir)["strategies"])
    except ValueError:
        return []
