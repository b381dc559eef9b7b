"""What a run records of its machine: every key named once in the table with its type; the commit (git's
answer, unless the copy was told otherwise) and an edit's digest; the load, CPU frequency and GPU clocks;
the keys a resume compares."""
from __future__ import annotations

import dataclasses
import json
import subprocess

from bench.reporting.environment_keys import ENVIRONMENT_KEYS
from bench.running.environment import at_end, collect, git_state, gpu_clocks, resume_changes
from bench.version import git_checkout_state


def test_a_copied_tree_reports_the_commit_it_was_told(monkeypatch):
    # a GPU box's copy may carry a stale .git: the variables set where the copy was made win
    monkeypatch.setenv("TTFT_BENCH_GIT_COMMIT", "85a0538")
    monkeypatch.setenv("TTFT_BENCH_GIT_DIRTY", "0")
    assert git_state() == {"git_commit": "85a0538", "git_dirty": False, "git_diff_sha256": None}


def test_without_the_variables_git_answers(monkeypatch):
    monkeypatch.delenv("TTFT_BENCH_GIT_COMMIT", raising=False)
    state = git_state()
    assert state["git_commit"] is None or len(state["git_commit"]) == 40


JSON_KINDS = {str: "str", int: "int", float: "float", bool: "bool", list: "list", dict: "object"}


def recorded_keys(env: dict, prefix: str = "") -> dict:
    """A run's environment as dotted keys: the worker's device facts are one level down."""
    out = {}
    for key, value in env.items():
        if key == "device" and not prefix:
            out.update(recorded_keys(value, "device."))
        else:
            out[prefix + key] = value
    return out


def test_every_key_a_run_records_is_named_once_in_the_table_with_its_type():
    import torch

    from bench.running.worker import device_info
    names = [k.name for k in ENVIRONMENT_KEYS]
    assert len(names) == len(set(names))
    recorded = recorded_keys({**collect(), **at_end(), "device": dataclasses.asdict(device_info(torch.device("cpu")))})
    assert set(recorded) <= set(names), set(recorded) - set(names)
    kinds = {k.name: k.kind for k in ENVIRONMENT_KEYS}
    for key, value in recorded.items():
        stored = json.loads(json.dumps(value))  # as run.json holds it (torch's version is a str subclass)
        assert stored is None or JSON_KINDS[type(stored)] == kinds[key], (key, value)


def test_load_and_cpu_frequency_are_read_where_linux_has_them():
    env = {**collect(), **at_end()}
    assert len(env["load_start"]) == len(env["load_end"]) == 3 and min(env["load_start"]) >= 0
    assert env["cpu_mhz_start"] is None or env["cpu_mhz_start"] > 0


def test_gpu_clocks_are_parsed_per_gpu_and_unknown_values_are_null(monkeypatch):
    import bench.running.environment as environment
    monkeypatch.setattr(environment, "run_command", lambda args: "1980, 2619, 45\n210, [N/A], 38")
    assert gpu_clocks() == [{"sm_mhz": 1980.0, "mem_mhz": 2619.0, "temperature_c": 45.0},
                            {"sm_mhz": 210.0, "mem_mhz": None, "temperature_c": 38.0}]
    monkeypatch.setattr(environment, "run_command", lambda args: None)  # no nvidia-smi
    assert gpu_clocks() is None


def git(repo, *args) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


def test_each_uncommitted_edit_has_a_digest_of_its_own(tmp_path):
    # the fuzz's edit after an interruption: git_dirty alone cannot tell one edit from another
    git(tmp_path, "init", "-q")
    code = tmp_path / "strategy.py"
    code.write_bytes(b"x = 1\n")
    git(tmp_path, "add", "strategy.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    clean = git_checkout_state(tmp_path)
    assert clean["git_dirty"] is False and clean["git_diff_sha256"] is None and len(clean["git_commit"]) == 40
    code.write_bytes(b"x = 2  # caf\xe9 in Latin-1: an edit need not be UTF-8\n")
    first = git_checkout_state(tmp_path)
    code.write_bytes(b"x = 3\n")
    second = git_checkout_state(tmp_path)
    assert first["git_dirty"] and second["git_dirty"]
    assert len({first["git_diff_sha256"], second["git_diff_sha256"]}) == 2 and None not in (
        first["git_diff_sha256"], second["git_diff_sha256"])
    assert resume_changes(first, second) == {"git_diff_sha256": (first["git_diff_sha256"],
                                                                  second["git_diff_sha256"])}


def test_the_environment_keys_a_resume_compares():
    started = {"gpu": "H200", "driver": "570", "torch": "2.13", "transformers": "5.17", "git_commit": "a",
               "git_dirty": False, "git_diff_sha256": None, "platform": "Linux-1", "cpu_count": 16}
    now = {**started, "platform": "Linux-2", "cpu_count": 8}  # where it is written from, not what is measured
    assert resume_changes(started, now) == {}
    assert resume_changes(started, {**now, "driver": "575", "git_dirty": True}) == {"driver": ("570", "575"),
                                                                                    "git_dirty": (False, True)}
