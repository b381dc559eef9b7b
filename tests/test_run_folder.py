"""The run folder: one run at a time, no run overwritten by accident, nothing deleted the tool didn't write."""
from __future__ import annotations

import dataclasses
import errno
import json
import os
import subprocess
import sys

import pytest

from bench.config.errors import ConfigError
from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.reporting.results_io import RunRecord
from bench.running import runner
from bench.running.run_folder import LOCK_FILE, RunLock
from tests.conftest import REPO, tiny_raw

CRASH = "import sys; sys.stdin.read(); print('worker crashed on purpose', file=sys.stderr); sys.exit(3)"
HOLD = "import sys, time; from bench.running.run_folder import RunLock; RunLock(__import__('pathlib').Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(60)"


@pytest.fixture
def job(tmp_path, monkeypatch):
    """A tiny job on tmp_path/out whose worker crashes at once (the folder logic is what is tested)."""
    monkeypatch.setattr(runner, "WORKER_COMMAND", [sys.executable, "-c", CRASH])
    return dataclasses.replace(build_job(parse_config(tiny_raw())), run_folder=tmp_path / "out")


def test_a_second_run_on_a_locked_folder_is_refused_naming_the_holder(job):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(job.run_folder)], cwd=REPO, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=f"another run is writing this folder \\(pid {holder.pid}\\)"):
            runner.run(job)
        assert not (job.run_folder / "run.json").exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_left_by_a_dead_process_is_taken_over(job):
    job.run_folder.mkdir()
    (job.run_folder / LOCK_FILE).write_text("999999999\n")  # a pid no process has
    runner.run(job)
    assert (job.run_folder / "run.json").exists() and not (job.run_folder / LOCK_FILE).exists()


def test_the_lock_is_exclusive_within_one_process_too(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(ConfigError, match="another run"):
            RunLock(tmp_path).acquire()
    with RunLock(tmp_path):  # released: free again
        pass


def test_a_run_refuses_a_folder_that_holds_a_run_and_keeps_it(job):
    runner.run(job)
    before = (job.run_folder / "run.json").read_bytes()
    with pytest.raises(ConfigError, match="a run never overwrites another: pass --overwrite"):
        runner.run(job)
    assert (job.run_folder / "run.json").read_bytes() == before


def test_overwrite_replaces_only_what_the_tool_wrote(job):
    runner.run(job)
    mine = job.run_folder / "logs" / "notes.txt"
    mine.write_text("the user's own file")
    (job.run_folder / "logs" / "baseline.log").write_text("the old run's log")
    runner.run(job, overwrite=True)
    assert mine.read_text() == "the user's own file"
    assert "worker crashed on purpose" in (job.run_folder / "logs" / "baseline.log").read_text()


def test_an_existing_empty_folder_is_used(job):
    job.run_folder.mkdir()
    runner.run(job)
    assert (job.run_folder / "run.json").exists()


def test_resume_refuses_samples_without_their_run_json(job):
    job.run_folder.mkdir()
    (job.run_folder / "samples.csv").write_text("strategy,prompt_len,request,ttft_ns,server_ttft_ns\r\n")
    with pytest.raises(ConfigError, match="--overwrite"):
        runner.run(job, resume=True)


def test_out_at_a_file_is_one_line(job, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="file: cannot write the run folder"):
        runner.run(dataclasses.replace(job, run_folder=tmp_path / "file"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a mode 0555 folder")
def test_a_read_only_folder_is_one_line(job, tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o555)
    with pytest.raises(ConfigError, match="ro.*cannot write the run folder \\(Permission denied\\)"):
        runner.run(dataclasses.replace(job, run_folder=locked))


def test_a_full_disk_mid_run_is_one_line_and_the_run_is_marked_failed(job, monkeypatch):
    def full(self, strategy, point):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.out_dir / "samples.csv"))

    monkeypatch.setattr(RunRecord, "add_point", full)
    with pytest.raises(ConfigError, match="samples.csv: cannot write the run folder \\(No space left on device\\)"):
        runner.run(job)
    assert json.loads((job.run_folder / "run.json").read_text())["status"] == "failed"
