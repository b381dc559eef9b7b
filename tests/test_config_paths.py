"""Paths in a config read against the config file's folder, from any working directory; --tag labels."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.cli import parse_tags, parser, run_overrides
from bench.config.errors import ConfigError
from bench.config.schema import load_config

REPO = Path(__file__).resolve().parent.parent
# a Llama small enough to build and run in seconds on a CPU
TINY = {"model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 2, "vocab_size": 128, "max_position_embeddings": 64}


def write_config(folder: Path, **extra) -> Path:
    folder.mkdir(parents=True)
    (folder / "model").mkdir()
    (folder / "model" / "config.json").write_text(json.dumps(TINY))
    raw = {"name": "rel", "output": "out", "model": {"config": "model/config.json", "dtype": "float32",
                                                      "device": "cpu"},
           "prompts": {"lengths": [4, 8], "per_length": 1}, "measure": {"warmup": 0, "repeats": 2},
           "strategies": ["baseline"], **extra}
    (folder / "c.yaml").write_text(yaml.safe_dump(raw))
    return folder / "c.yaml"


def test_relative_paths_are_read_against_the_config_folder(tmp_path, monkeypatch):
    path = write_config(tmp_path / "cfg")
    monkeypatch.chdir(tmp_path)
    cfg = load_config("cfg/c.yaml")
    assert cfg.model.config == str(tmp_path / "cfg" / "model" / "config.json")
    assert cfg.out_dir() == tmp_path / "cfg" / "out" / "rel"
    assert load_config(path).raw["output"] == str(tmp_path / "cfg" / "out")


def test_a_hub_id_stays_as_written(tmp_path):
    from bench.config.schema import resolve_paths

    assert resolve_paths({"model": {"name_or_path": "org/model"}}, tmp_path)["model"]["name_or_path"] == "org/model"


def test_a_missing_relative_folder_is_named_as_a_path_not_read_as_a_hub_id(tmp_path, monkeypatch):
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "c.yaml"
    path.write_text(yaml.safe_dump({"name": "m", "model": {"name_or_path": "../absent"}, "strategies": ["baseline"]}))
    monkeypatch.chdir(tmp_path / "cfg")  # where '../absent', read as written, would name another folder
    with pytest.raises(ConfigError, match=r"^model.name_or_path: '/.*/absent' does not exist"):
        load_config(path)


@pytest.mark.slow
def test_the_installed_command_runs_from_another_directory(tmp_path):
    path = write_config(tmp_path / "cfg")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    entry = "import sys; from bench.cli import main; sys.exit(main())"  # what the ttft-bench script runs
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", entry, "run", os.path.relpath(path, elsewhere), "--tag", "who=test"],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads((tmp_path / "cfg" / "out" / "rel" / "run.json").read_text())
    assert [p["status"] for p in run["points"]] == ["ok", "ok"], run["points"]
    assert run["config"]["tags"] == {"who": "test"}


def test_tags_are_parsed_checked_and_merged_into_the_config(tmp_path):
    assert parse_tags(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ConfigError, match="--tag"):
        parse_tags(["novalue"])
    path = write_config(tmp_path / "c", tags={"gpu": "h100"})
    cfg = load_config(path, run_overrides(parser().parse_args(["run", str(path), "--tag", "run=2"])))
    assert cfg.raw["tags"] == {"gpu": "h100", "run": "2"}
    with pytest.raises(ConfigError, match="tags"):
        load_config(write_config(tmp_path / "d", tags=["x"]))
