"""measure.restart: a strategy that compiled starts again in a new process with the compile cache the first
left; its ready time is reported and every prompt judged again, and a restart that disagrees fails the run."""
from __future__ import annotations

import dataclasses
import json

import pytest

from bench.cli import main
from bench.reporting.results_io import finished_strategies
from bench.running import runner
from bench.running.run_status import run_failure
from bench.jobs.job import RESTART
from bench.scenarios.events import PhaseEvent, StrategyEvent
from bench.scenarios.restart import run_restart
from bench.targets.base import Timed
from tests.conftest import tiny_raw
from tests.sweep_jobs import tiny_job

LENGTHS = [8, 24]
PER_LENGTH = 2
RUN = tiny_raw(prompts={"lengths": LENGTHS, "per_length": PER_LENGTH}, measure={"warmup": 1, "repeats": 3},
               strategies=["baseline", {"name": "jit-only", "options": {"torchscript": False}},
                           {"name": "hf-generate"}])


@pytest.mark.slow
def test_a_compiling_strategy_is_restarted_from_its_cache_and_judged_again(write_config, tmp_path, monkeypatch):
    caches = []
    real_env = runner.worker_env
    monkeypatch.setattr(runner, "worker_env", lambda cache: caches.append(cache) or real_env(cache))
    out = tmp_path / "run"
    assert main(["run", str(write_config(RUN)), "--out", str(out)]) == 0
    # baseline, jit-only, its restart in the same compile-cache folder, hf-generate
    assert len(caches) == 4 and caches[1] == caches[2] and len(set(caches)) == 3
    strategies = json.loads((out / "run.json").read_text())["strategies"]
    jit = strategies["jit-only"]
    assert jit["restart_prompts_judged"] == jit["restart_prompts_agreed"] == PER_LENGTH * len(LENGTHS)
    assert jit["restart_status"] == "ok"
    assert jit["restart_ready_s"] > 0
    assert (out / "logs" / "jit-only.restart.log").exists()
    for name in ("baseline", "hf-generate"):  # nothing compiled: nothing a restart could find
        assert "restart_ready_s" not in strategies[name]
    assert "Ready after restart (s)" in (out / "table.md").read_text()


@pytest.mark.slow
def test_restart_off_runs_no_second_worker(write_config, tmp_path):
    out = tmp_path / "run"
    raw = {**RUN, "measure": {**RUN["measure"], "restart": False}, "strategies": RUN["strategies"][:2]}
    assert main(["run", str(write_config(raw)), "--out", str(out)]) == 0
    assert "restart_ready_s" not in json.loads((out / "run.json").read_text())["strategies"]["jit-only"]


class WrongAfterRestart:
    """A target whose every answer is off by one token, as a stale or wrong compile cache would be."""
    transport, seeded = "inprocess", True

    def __init__(self, job):
        from bench.targets.inprocess import InProcessTarget
        self.inner = InProcessTarget(job)

    def start(self):
        return self.inner.start()

    def reseed(self, seed):
        self.inner.reseed(seed)

    def first_token(self, ids):
        timed = self.inner.first_token(ids)
        return Timed(timed.token + 1, timed.ns, timed.server_ns)  # tokens alone: judged on the baseline's values


def test_a_restart_that_answers_wrong_tokens_is_reported_and_fails_the_run(judged_run):
    events = []
    run_restart(tiny_job(judged_run[0], "baseline").for_scenario(RESTART), WrongAfterRestart(
        tiny_job(judged_run[0], "baseline")), events.append)
    records = [e.record for e in events if not isinstance(e, PhaseEvent)]
    assert records[0].restart_ready_s > 0 and records[1].restart_ready_s is None
    fields = records[1]
    assert fields.restart_prompts_judged == 8 * 2 and fields.restart_prompts_agreed == 0
    data = {"strategies": {"jit-only": {"status": "ok", **fields.stored()}}, "points": []}
    assert run_failure(data).startswith("jit-only after a restart disagreed with the baseline: length 8, prompt 0")


@pytest.mark.parametrize("fields,failure", [
    ({"restart_status": "error", "restart_note": "the restart failed: OOM", "restart_prompts_judged": 4,
      "restart_prompts_agreed": 4}, "jit-only's restart did not finish: the restart failed: OOM"),  # judged, then died
    ({"restart_status": "running", "restart_ready_s": 3.0}, "jit-only's restart did not finish: no reason given"),
    ({"restart_status": "ok", "restart_prompts_judged": 4, "restart_prompts_agreed": 4}, None)])
def test_a_restart_that_did_not_finish_fails_the_run(fields, failure):
    assert run_failure({"strategies": {"jit-only": {"status": "ok", **fields}}, "points": []}) == failure


def test_a_resume_measures_a_strategy_whose_restart_was_interrupted_again():
    points = [{"strategy": "jit-only", "prompt_len": n, "status": "ok"} for n in LENGTHS]
    data = {"strategies": {"jit-only": {"status": "ok", "restart_status": "running"}}, "points": points}
    assert finished_strategies(data, LENGTHS) == set()
    data["strategies"]["jit-only"]["restart_status"] = "ok"
    assert finished_strategies(data, LENGTHS) == {"jit-only"}


def test_the_cold_start_table_says_failed_for_a_restart_that_did_not_finish():
    from bench.reporting.tables import cold_start_table

    run = {"strategies": {"jit-only": {"status": "ok", "ready_s": 12.0, "restart_status": "error",
                                       "restart_ready_s": 5.0, "restart_prompts_judged": 4, "restart_prompts_agreed": 4},
                          "jit+cuda": {"status": "ok", "ready_s": 12.0, "restart_status": "ok", "restart_ready_s": 5.0,
                                       "restart_prompts_judged": 4, "restart_prompts_agreed": 3}}}
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[-2:] for line in cold_start_table(run).splitlines()[2:]}
    assert [c.strip(" |") for c in rows["jit-only"]] == ["5.0", "failed"]
    assert [c.strip(" |") for c in rows["jit+cuda"]] == ["5.0", "3/4 ✗ MISMATCH"]


class UnpreparedAfterRestart(WrongAfterRestart):
    """A target whose restart could not prepare the first length (a compile cache that breaks it); answers right."""

    def start(self):
        started = self.inner.start()
        first = min(started.prepared)
        return dataclasses.replace(started, prepared={**started.prepared, first: "RuntimeError: cache broken"})

    def first_token(self, ids):
        return self.inner.first_token(ids)


def test_a_length_the_restart_cannot_prepare_counts_as_disagreeing(judged_run):
    job = tiny_job(judged_run[0], "baseline")
    events = []
    run_restart(job.for_scenario(RESTART), UnpreparedAfterRestart(job), events.append)
    fields = [e.record for e in events if isinstance(e, StrategyEvent)][-1]
    assert (fields.restart_prompts_judged, fields.restart_prompts_agreed) == (16, 8)
    assert "prepare failed: RuntimeError: cache broken" in fields.restart_note
