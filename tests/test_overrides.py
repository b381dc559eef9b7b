"""--set key.path=value: YAML-parsed, made on the raw mapping before validation, so a value is
checked exactly as in the file; a strategy's options by its name; paths against the working directory."""
from __future__ import annotations

import json

import pytest

from bench.config.errors import ConfigError
from bench.config.overrides import Overrides, apply_overrides, parse_setting
from bench.config.schema import load_config
from tests.conftest import tiny_raw


def settings(*texts: str) -> Overrides:
    return Overrides(tuple(parse_setting(t) for t in texts))


def test_a_value_is_parsed_as_yaml():
    assert parse_setting("measure.repeats=50") == (("measure", "repeats"), 50)
    assert parse_setting("prompts.lengths=[10,20]") == (("prompts", "lengths"), [10, 20])
    assert parse_setting("model.preset=null") == (("model", "preset"), None)
    assert parse_setting("prompts.text=a=b") == (("prompts", "text"), "a=b")  # split at the first '='


@pytest.mark.parametrize("text,message", [
    ("measure.repeats", "--set: expected key.path=value"),
    ("measure..repeats=5", "--set: expected key.path=value"),
    ("=5", "--set: expected key.path=value"),
    ("prompts.lengths=[10,", "--set prompts.lengths: malformed YAML"),
])
def test_a_malformed_setting_is_one_line_naming_it(text, message):
    with pytest.raises(ConfigError, match=f"^{message}".replace("[", r"\[")):
        parse_setting(text)


def test_settings_are_validated_as_the_file_would_be(write_config):
    path = write_config(tiny_raw())
    assert load_config(path, settings("measure.repeats=50")).measure.repeats == 50
    assert load_config(path, settings("prompts.lengths=[10,20]")).prompts.lengths == (10, 20)
    with pytest.raises(ConfigError, match="^measure: unknown key 'repeat'; allowed: warmup, repeats, rounds, "
                                          "unseen_length, restart$"):
        load_config(path, settings("measure.repeat=5"))
    with pytest.raises(ConfigError, match="^measure.repeats: expected a positive integer, got '5x'$"):
        load_config(path, settings("measure.repeats=5x"))
    with pytest.raises(ConfigError, match="^config: unknown key 'colour'"):
        load_config(path, settings("colour.name=red"))


def test_a_setting_is_made_before_validation_so_it_can_fix_the_file(write_config):
    path = write_config(tiny_raw(measure={"repeats": 0}))
    with pytest.raises(ConfigError):
        load_config(path)
    assert load_config(path, settings("measure.repeats=3")).measure.repeats == 3


def test_a_strategy_option_is_set_by_the_strategy_name(write_config):
    cuda_graph = {"name": "cuda-graph", "options": {"max_graphs": 4}}
    path = write_config(tiny_raw(strategies=["baseline", "jit-only", cuda_graph]))
    cfg = load_config(path, settings("strategies.jit-only.options.forward_jit=none",
                                     "strategies.cuda-graph.options.buckets=[16,64]"))
    options = {s.name: s.options for s in cfg.strategies}
    assert options["jit-only"].forward_jit == "none"
    assert (options["cuda-graph"].max_graphs, options["cuda-graph"].buckets) == (4, (16, 64))
    with pytest.raises(ConfigError, match=r"^strategies\[1\].options: unknown key 'forward'"):
        load_config(path, settings("strategies.jit-only.options.forward=none"))


def test_a_strategy_not_in_the_config_is_refused_naming_the_listed_ones_unless_selected(write_config):
    path = write_config(tiny_raw(strategies=["baseline", "jit-only"]))
    with pytest.raises(ConfigError, match=r"^--set strategies.jit\+cuda.options.max_graphs: no strategy 'jit\+cuda' "
                                          r"in the config \(it lists baseline, jit-only\)"):
        load_config(path, settings("strategies.jit+cuda.options.max_graphs=8"))
    selected = Overrides(settings("strategies.cuda-graph.options.max_graphs=8").settings, strategies=("cuda-graph",))
    assert load_config(path, selected).strategies[1].options.max_graphs == 8


def test_a_key_inside_a_value_that_is_not_a_mapping_is_refused():
    with pytest.raises(ConfigError, match=r"^--set measure.repeats.x: measure.repeats is 5, not a mapping$"):
        apply_overrides({"measure": {"repeats": 5}}, settings("measure.repeats.x=1"))
    assert apply_overrides({"name": "x"}, settings("sampling.seed=3")) == {"name": "x", "sampling": {"seed": 3}}


def test_a_path_given_on_the_command_line_reads_against_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "c.json"
    path.write_text(json.dumps(tiny_raw()))
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "m.json").write_text(json.dumps({"model_type": "llama", "max_position_embeddings": 64}))
    monkeypatch.chdir(tmp_path / "here")
    cfg = load_config(path, settings("model.preset=null", "model.config=m.json"))
    assert cfg.model.config == str(tmp_path / "here" / "m.json")
