"""The tiny sweep's jobs, run in-process, for the tests of judging, progress and restarts (the `judged_run`
fixture in tests/conftest.py runs its baseline): a job per strategy, its points, a strategy registered for a test."""
from __future__ import annotations

import dataclasses

from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.jobs.job import Job
from bench.running.worker import run_job
from bench.scenarios.events import FatalEvent, PointEvent
from strategies.option_types import OPTION_TYPES
from strategies.registry import REGISTRY
from tests.conftest import tiny_raw

PROMPTS = 8  # the default prompts.per_length
WARMUP, REPEATS = 1, 5  # tiny_raw's measure


def tiny_job(folder, strategy: str, **sections) -> Job:
    """The tiny config's job for `strategy` (alone, or the baseline), writing into `folder`."""
    names = ["baseline"] if strategy == "baseline" else [strategy]
    cfg = parse_config(tiny_raw(strategies=names, **sections))
    return dataclasses.replace(build_job(cfg, strategy), run_folder=folder)


def points_of(job: Job) -> dict[int, dict]:
    """The job run in-process: its points by prompt length (as run.json holds them); no fatal event."""
    events = []
    run_job(job, events.append)
    assert not [e for e in events if isinstance(e, FatalEvent)]
    return {e.point.prompt_len: e.point.to_dict() for e in events if isinstance(e, PointEvent)}


def register(monkeypatch, cls) -> None:
    """A strategy class registered under its name for this test only."""
    monkeypatch.setitem(REGISTRY, cls.name, cls)
    monkeypatch.setitem(OPTION_TYPES, cls.name, cls.options_type)
