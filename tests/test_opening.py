"""How a run takes its folder: --overwrite leaves nothing of the old run beside the new one; --resume
re-reads the environment and checks the baseline's references before it keeps anything."""
from __future__ import annotations

import dataclasses
import json

import pytest

from bench.cli import EXIT_BAD_INPUT, main
from bench.config.errors import ConfigError
from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.judging.reference_check import reference_identity
from bench.judging.references import REFERENCE_FILE, References
from bench.running import environment, runner
from tests.conftest import tiny_raw

RAW = tiny_raw(strategies=["baseline", {"name": "jit-only", "options": {"forward_jit": "none"}}])
CLEAN = {"torch": "2.13.0", "transformers": "5.17.0", "git_commit": "a" * 40, "git_dirty": False,
         "git_diff_sha256": None}
EDITED = {**CLEAN, "git_dirty": True, "git_diff_sha256": "1" * 64}
TOOL_FILES = ("summary.csv", "summary.json", "table.md", "plots/ttft.png", "plots/ready.png", "load_summary.csv",
              "plots/load.png", "load_samples.csv")


def job_of(folder, raw=RAW):
    return dataclasses.replace(build_job(parse_config(raw)), run_folder=folder)


@pytest.fixture
def job(tmp_path):
    return job_of(tmp_path / "out")


@pytest.fixture
def env(monkeypatch):
    """The environment the next run reads (the test sets it): CLEAN to begin with."""
    now = dict(CLEAN)
    monkeypatch.setattr(environment, "collect", lambda: dict(now))
    return now


def interrupted(job, fake_sweeps) -> bytes:
    """The job's run stopped by Ctrl-C once the baseline finished; run.json's bytes."""
    fake_sweeps.interrupt.add("jit-only")
    with pytest.raises(KeyboardInterrupt):
        runner.run(job)
    fake_sweeps.interrupt.clear()
    fake_sweeps.measured.clear()
    return (job.run_folder / "run.json").read_bytes()


def test_overwrite_leaves_nothing_of_the_old_run_beside_the_new_one(job, env, fake_sweeps):
    runner.run(job)
    for name in TOOL_FILES[-3:]:  # a load run's files, as a run with a load section leaves them
        (job.run_folder / name).write_text("the old run's")
    (job.run_folder / "notes.txt").write_text("the user's")
    (job.run_folder / "plots" / "mine.png").write_text("the user's")
    at_first_point = []  # the folder as a SIGKILL after the new run's first point would leave it
    fake_sweeps.on_point = lambda folder: at_first_point.append(sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())) if not at_first_point else None
    runner.run(job, overwrite=True)
    left = at_first_point[0]
    assert not [name for name in TOOL_FILES if name in left], left
    assert {"notes.txt", "plots/mine.png", "run.json", "samples.csv"} <= set(left)


def test_resume_discards_the_interrupted_attempts_report_until_it_writes_its_own(job, env, fake_sweeps):
    interrupted(job, fake_sweeps)
    assert (job.run_folder / "summary.csv").exists()  # the interrupted run's report
    at_first_point = []
    fake_sweeps.on_point = lambda folder: at_first_point.append((folder / "summary.csv").exists())
    runner.run(job, resume=True)
    assert at_first_point[0] is False and (job.run_folder / "summary.csv").exists()


@pytest.mark.parametrize("now,named", [
    (EDITED, "git_dirty: False -> True; git_diff_sha256: None -> '1111"),
    ({**CLEAN, "torch": "2.14.0"}, "torch: '2.13.0' -> '2.14.0'"),
    ({**CLEAN, "git_commit": "b" * 40}, f"git_commit: '{'a' * 40}' -> '{'b' * 40}'"),
])
def test_resume_refuses_a_changed_environment_naming_each_key(job, env, fake_sweeps, now, named):
    # the fuzz's uncommitted edit, then --resume: accepted, re-measured with edited code, run.json git_dirty false
    before = interrupted(job, fake_sweeps)
    env.update(now)
    with pytest.raises(ConfigError, match="cannot resume on another environment") as refused:
        runner.run(job, resume=True)
    assert named in str(refused.value) and "--resume-anyway" in str(refused.value)
    assert (job.run_folder / "run.json").read_bytes() == before and fake_sweeps.measured == []


def test_another_edit_than_the_run_started_with_is_refused(job, env, fake_sweeps):
    env.update(EDITED)
    interrupted(job, fake_sweeps)
    env.update(git_diff_sha256="2" * 64)  # still dirty, with other changes
    with pytest.raises(ConfigError, match="git_diff_sha256: '1111.* -> '2222"):
        runner.run(job, resume=True)


def test_resume_anyway_continues_on_the_changed_environment_and_records_it(job, env, fake_sweeps):
    interrupted(job, fake_sweeps)
    env.update(EDITED)
    runner.run(job, resume=True, accept_environment=True)
    assert fake_sweeps.measured == ["jit-only"]  # the baseline kept
    run = json.loads((job.run_folder / "run.json").read_text())
    assert run["status"] == "complete" and run["environment"]["git_dirty"] is False  # what it started with
    assert [(c["key"], c["old"], c["new"]) for c in run["environment_changes"]] == [
        ("git_dirty", False, True), ("git_diff_sha256", None, "1" * 64)]
    assert run["environment_changes"][0]["resumed"] == run["resumed"][0]
    assert "**Resumed on a changed environment** (`--resume-anyway`): git_dirty: False -> True" in (
        job.run_folder / "table.md").read_text()


@pytest.mark.parametrize("section,named", [
    ("model", "model_seed 1 (this run: 0)"),
    ("prompts", "prompts_seed 1 (this run: 0); prompts_sha256"),
])
def test_resume_refuses_another_runs_references_by_name(job, env, fake_sweeps, tmp_path, section, named):
    # the fuzz's reference.pt of a run with another model seed, then --resume: accepted, 0/8 agreed, complete
    before = interrupted(job, fake_sweeps)
    other = tiny_raw(**{section: {**RAW[section], "seed": 1}})
    foreign = References(job.run_folder, writing=True)
    foreign.stamp(reference_identity(job_of(tmp_path / "other", other)))
    foreign.save()
    with pytest.raises(ConfigError, match="reference.pt: made for another run: ") as refused:
        runner.run(job, resume=True)
    assert named in str(refused.value) and "remove it to measure the baseline again" in str(refused.value)
    assert (job.run_folder / "run.json").read_bytes() == before and fake_sweeps.measured == []


@pytest.mark.parametrize("damage", [b"not a pickle", None])
def test_an_unreadable_reference_file_measures_everything_again(job, env, fake_sweeps, capsys, damage):
    # the fuzz's corrupted reference.pt, then --resume: the baseline kept, the next strategy's UnpicklingError
    interrupted(job, fake_sweeps)
    path = job.run_folder / REFERENCE_FILE
    path.write_bytes(damage if damage is not None else path.read_bytes()[:100])  # garbage, or cut short
    runner.run(job, resume=True)
    assert fake_sweeps.measured == ["baseline", "jit-only"]
    err = capsys.readouterr().err
    assert "resume: measuring everything again, the baseline first: " in err and "reference.pt: cannot be read (" in err
    assert json.loads((job.run_folder / "run.json").read_text())["status"] == "complete"


def test_resume_and_overwrite_together_are_refused(job, env, fake_sweeps, tmp_path, capsys):
    # the fuzz's --resume --overwrite: accepted, the overwrite silently ignored
    interrupted(job, fake_sweeps)
    before = (job.run_folder / "run.json").read_bytes()
    config = tmp_path / "tiny.yaml"
    config.write_text(json.dumps(RAW))
    capsys.readouterr()
    for flag in ("--resume", "--resume-anyway"):
        with pytest.raises(SystemExit) as exited:  # argparse's refusal, before the config is read
            main(["run", str(config), "--out", str(job.run_folder), flag, "--overwrite"])
        err = capsys.readouterr().err
        assert exited.value.code == EXIT_BAD_INPUT and err.count("\n") == 1 and "not allowed with argument" in err
    with pytest.raises(ConfigError, match="--resume and --overwrite: choose one"):
        runner.run(job, resume=True, overwrite=True)
    assert (job.run_folder / "run.json").read_bytes() == before and fake_sweeps.measured == []
