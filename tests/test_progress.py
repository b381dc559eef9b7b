"""The progress bar names what a strategy's worker is doing: building, compiling or capturing at a length,
judging a length, timing a round, the unseen-length probe, a restart's judging."""
from __future__ import annotations

import dataclasses

import pytest

from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.config.load import ServerBatching
from bench.jobs.job import LOAD, RESTART
from bench.running.runner import file_event
from bench.running.worker import run_job
from bench.scenarios.events import FatalEvent, PhaseEvent
from tests.conftest import tiny_raw
from tests.sweep_jobs import tiny_job


def phases_of(job) -> list[str]:
    events = []
    run_job(job, events.append)
    assert not [e for e in events if isinstance(e, FatalEvent)]
    return [e.text for e in events if isinstance(e, PhaseEvent)]


@pytest.mark.slow
def test_a_compiling_strategy_names_each_phase_in_order(judged_run):
    cfg = parse_config(tiny_raw(strategies=[{"name": "jit-only", "options": {"torchscript": False}}]))
    job = dataclasses.replace(build_job(cfg, "jit-only"), run_folder=judged_run[0])
    # 5 requests in the default 10 rounds: the first five hold one each, the last five none (still announced)
    rounds = [f"timing round {r} of 10" for r in range(1, 11)]
    assert phases_of(job) == ["building the model", "setting up", "compiling at 24 tokens", "compiling at 8 tokens",
                              "judging 8 tokens", "judging 24 tokens", *rounds, f"unseen length {job.unseen_len}"]
    assert phases_of(job.for_scenario(RESTART))[-1] == "judging every prompt again"


def test_a_strategy_that_neither_compiles_nor_captures_says_neither(judged_run):
    phases = phases_of(tiny_job(judged_run[0], "hf-generate"))
    assert not [p for p in phases if p.startswith(("compiling", "capturing"))]


BATCHED = ServerBatching(max_batch=16, max_wait_us=200)


class Progress:
    def __init__(self):
        self.postfix = None

    def set_postfix_str(self, text):
        self.postfix = text


def test_the_runner_shows_the_phase_without_recording_a_point(judged_run):
    progress = Progress()
    job = tiny_job(judged_run[0], "baseline").for_strategy("jit+cuda")
    assert file_event(None, job, PhaseEvent("capturing at 400 tokens"), progress) is None
    assert progress.postfix == "jit+cuda: capturing at 400 tokens"
    file_event(None, job.for_scenario(RESTART), PhaseEvent("setting up"), progress)
    assert progress.postfix == "jit+cuda (restart): setting up"
    file_event(None, job.for_scenario(LOAD, BATCHED), PhaseEvent("rate 100"), progress)
    assert progress.postfix == "jit+cuda (load batch16-wait200us): rate 100"
