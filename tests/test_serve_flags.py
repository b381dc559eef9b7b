"""`serve` builds its ServerLimits and Batching from the flags before any model loads and hands them to the server."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from bench.config.errors import ConfigError
from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.serving import serve_command
from bench.serving.batching import Batching
from bench.serving.limits import ServerLimits
from bench.serving.unix_socket import SocketError
from tests.conftest import REPO, tiny_raw


@pytest.mark.parametrize("flag, value", [("--max-connections", "0"), ("--backlog", "-1"), ("--stall-timeout", "-1"),
                                         ("--max-message", "0"), ("--max-batch", "0"), ("--max-wait-us", "-1")])
def test_a_bad_limit_is_refused_in_one_line_before_anything_loads(flag, value):
    proc = subprocess.run([sys.executable, "-m", "bench", "serve", "--job", "/nonexistent/job.json", "--socket",
                           "/nonexistent/s.sock", flag, value], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {flag}: must be"), proc.stderr


def test_a_wait_without_batches_is_refused_in_one_line_before_anything_loads():
    proc = subprocess.run([sys.executable, "-m", "bench", "serve", "--job", "/nonexistent/job.json", "--socket",
                           "/nonexistent/s.sock", "--max-wait-us", "500"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: --max-wait-us: 500 needs --max-batch above 1")
    assert "Traceback" not in proc.stderr


class Stop(Exception):
    pass


def test_the_limits_reach_the_socket_and_the_server(monkeypatch, tmp_path):
    seen = {}

    def bind(path, backlog):
        seen["backlog"] = backlog
        return "listener"

    def server(listener, *, limits, batching):
        seen["server"] = (listener, limits, batching)
        raise Stop  # no model load: what reached the server is the point

    monkeypatch.setattr(serve_command, "bind_private", bind)
    monkeypatch.setattr(serve_command, "GeneratorServer", server)
    job = dataclasses.replace(build_job(parse_config(tiny_raw())), run_folder=tmp_path)
    limits, batching = ServerLimits(backlog=7, max_connections=3), Batching(max_batch=8, max_wait_us=250)
    with pytest.raises(Stop):
        serve_command.serve(job, str(tmp_path / "s.sock"), limits, batching)
    assert seen == {"backlog": 7, "server": ("listener", limits, batching)}


def test_a_socket_problem_is_one_line(monkeypatch, tmp_path):
    def bind(path, backlog):
        raise SocketError("held by a live server")

    monkeypatch.setattr(serve_command, "bind_private", bind)
    job = dataclasses.replace(build_job(parse_config(tiny_raw())), run_folder=tmp_path)
    with pytest.raises(ConfigError, match="--socket: held by a live server"):
        serve_command.serve(job, str(tmp_path / "s.sock"))


def test_the_stall_timeout_help_says_what_it_bounds():
    proc = subprocess.run([sys.executable, "-m", "bench", "serve", "--help"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert "from a message's first byte to its last" in " ".join(proc.stdout.split())


def test_a_job_record_missing_a_field_is_refused_in_one_line(tmp_path):
    import json

    record = build_job(parse_config(tiny_raw())).to_dict()
    del record["model"]["layers"]  # e.g. a record written by another version of the tool
    path = tmp_path / "job.json"
    path.write_text(json.dumps(record))
    with pytest.raises(ConfigError, match="--job: cannot read a job record"):
        serve_command.job_from_file(str(path))
