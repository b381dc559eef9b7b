"""What a run records of its machine: every key named once in the table with its type; the commit (git's
answer, unless the copy was told otherwise); the load, CPU frequency and GPU clocks."""
from __future__ import annotations

import dataclasses
import json

from bench.reporting.environment_keys import ENVIRONMENT_KEYS
from bench.running.environment import at_end, collect, git_state, gpu_clocks


def test_a_copied_tree_reports_the_commit_it_was_told(monkeypatch):
    # a GPU box's copy may carry a stale .git: the variables set where the copy was made win
    monkeypatch.setenv("TTFT_BENCH_GIT_COMMIT", "85a0538")
    monkeypatch.setenv("TTFT_BENCH_GIT_DIRTY", "0")
    assert git_state() == {"git_commit": "85a0538", "git_dirty": False}


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
