"""Dotted config keys: what `compare` lists between runs and what a refused resume names."""
from __future__ import annotations

import pytest

from bench.reporting.dotted_keys import changed_keys, flatten
from bench.config.errors import ConfigError
from bench.reporting.results_io import RunRecord, read_resumable
from tests.conftest import ENV, tiny_raw


def test_a_nested_config_flattens_to_dotted_keys_with_strategies_by_name():
    raw = {"measure": {"repeats": 5}, "strategies": [{"name": "jit+cuda", "options": {"max_graphs": 8}},
                                                     {"name": "baseline"}]}
    assert flatten(raw) == {"measure.repeats": 5, "strategies.jit+cuda.options.max_graphs": 8,
                            "strategies.baseline": "listed"}


def test_changed_keys_name_old_and_new_values_and_absent_ones():
    old = {"measure": {"repeats": 5, "warmup": 1}, "prompts": {"lengths": [8, 24]}}
    new = {"measure": {"repeats": 7}, "prompts": {"lengths": [8, 24]}, "tags": {"run": "2"}}
    assert changed_keys(old, new) == ["measure.repeats: 5 -> 7", "measure.warmup: 1 -> (absent)",
                                      "tags.run: (absent) -> '2'"]


def test_a_resume_refused_for_a_changed_config_names_each_changed_key(tmp_path):
    started = tiny_raw()
    RunRecord.start(tmp_path / "run", "tiny", started, ENV)
    changed = tiny_raw(measure={"warmup": 1, "repeats": 7},
                       strategies=[{"name": "baseline"}, {"name": "jit-only", "options": {"forward_jit": "none"}}])
    with pytest.raises(ConfigError, match=r"cannot resume: the config differs from the one this run started with "
                                          r"\(measure.repeats: 5 -> 7; strategies.jit-only.options.forward_jit: "
                                          r"\(absent\) -> 'none'\)$"):
        read_resumable(tmp_path / "run", changed)
