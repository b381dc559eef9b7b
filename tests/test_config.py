"""Each bad config exits 2 with a one-line error naming the key; good ones parse."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from bench.cli import main
from bench.config.schema import load_config, parse_config
from bench.config.errors import ConfigError
from tests.conftest import REPO, SMOLLM2_CONFIG, tiny_raw

BAD = [
    (tiny_raw(colour="red"), "config: unknown key 'colour'"),
    (tiny_raw(model={"preset": "tiny-llama", "dtyp": "float16"}), "model: unknown key 'dtyp'"),
    (tiny_raw(strategies=["warp-drive"]), "strategies[0].name: unknown strategy 'warp-drive'"),
    (tiny_raw(prompts={"lengths": [10, 0]}), "prompts.lengths[1]: expected a positive integer, got 0"),
    (tiny_raw(prompts={"lengths": [10, -5]}), "prompts.lengths[1]"),
    (tiny_raw(prompts={"lengths": [10, 2.5]}), "prompts.lengths[1]: expected a positive integer, got 2.5"),
    (tiny_raw(prompts={"lengths": ["ten"]}), "prompts.lengths[0]"),
    (tiny_raw(prompts={"lengths": []}), "prompts.lengths"),
    (tiny_raw(model={"preset": "tiny-llama", "dtype": "float8"}), "model.dtype: unknown dtype 'float8'"),
    (tiny_raw(model={"preset": "tiny-llama", "device": "tpu"}), "model.device: unknown device 'tpu'"),
    (tiny_raw(model={"preset": "gpt-9"}), "model.preset: unknown preset 'gpt-9'"),
    (tiny_raw(model={"preset": "tiny-llama", "name_or_path": "x"}), "model: give exactly one of"),
    (tiny_raw(strategies=[{"name": "cuda-graph", "options": {"max_graph": 3}}]),
     "strategies[0].options: unknown key 'max_graph'"),
    (tiny_raw(strategies=[{"name": "cuda-graph", "options": {"max_graphs": 0}}]),
     "strategies[0].options.max_graphs: expected a positive integer"),
    (tiny_raw(strategies=[{"name": "jit-only", "options": {"forward_jit": "tensorrt"}}]),
     "strategies[0].options.forward_jit: unknown value 'tensorrt'"),
    (tiny_raw(sampling={"mode": "beam"}), "sampling.mode: unknown mode 'beam'"),
    (tiny_raw(measure={"repeats": 0}), "measure.repeats: expected a positive integer"),
    (tiny_raw(name="../escape"), "name: expected a run name"),
    (tiny_raw(prompts={"text": "hello"}), "prompts.text: needs a tokenizer"),
]


@pytest.mark.parametrize("raw,message", BAD, ids=[m for _, m in BAD])
def test_bad_config_exits_2_with_one_named_line(raw, message, write_config, capsys):
    code = main(["run", str(write_config(raw))])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_length_beyond_max_positions_is_rejected_before_loading(write_config, capsys):
    code = main(["run", str(write_config(tiny_raw(prompts={"lengths": [10, 4096]})))])
    err = capsys.readouterr().err
    assert code == 2
    assert "prompts.lengths[1]: 4096 exceeds the model's maximum positions (2048)" in err


def test_unseen_length_beyond_max_positions_is_rejected(write_config, capsys):
    code = main(["run", str(write_config(tiny_raw(measure={"unseen_length": 5000})))])
    assert code == 2 and "measure.unseen_length: 5000 exceeds" in capsys.readouterr().err


def test_malformed_yaml_names_the_line(write_config, capsys):
    code = main(["run", str(write_config("name: x\nmodel: [preset: tiny\n"))])
    err = capsys.readouterr().err
    assert code == 2 and "malformed YAML at line" in err and err.count("\n") == 1


def test_missing_file(capsys, tmp_path):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read config" in capsys.readouterr().err


def test_cuda_device_without_gpu_is_a_config_error(write_config, capsys):
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code = main(["run", str(write_config(tiny_raw(model={"preset": "tiny-llama", "device": "cuda"})))])
    assert code == 2 and "model.device: 'cuda'" in capsys.readouterr().err


def test_baseline_is_added_first_and_options_are_frozen():
    cfg = parse_config(tiny_raw(strategies=[{"name": "cuda-graph", "options": {"buckets": [64, 16]}}, "jit-only"]))
    assert cfg.strategy_names() == ["baseline", "cuda-graph", "jit-only"]
    assert cfg.strategies[1].options.buckets == (16, 64)
    with pytest.raises(Exception):
        cfg.strategies[1].options.max_graphs = 3


def test_repo_configs_parse(tmp_path):
    for path in sorted(REPO.glob("configs/*.yaml")):
        if path == SMOLLM2_CONFIG:  # its model folder is made by `make checkpoint` (the slow tier's): a stand-in
            raw = yaml.safe_load(path.read_text())
            raw["model"]["name_or_path"] = str(tmp_path)
            assert parse_config(raw).name
        else:
            assert load_config(path).name


def test_config_error_is_a_value_error():
    with pytest.raises(ConfigError):
        parse_config([1, 2])


REJECT = """
import sys
from bench.config.errors import ConfigError
from bench.config.schema import load_config
try:
    load_config(sys.argv[1])
except ConfigError as exc:
    print(exc)
print("imported:", sorted(m for m in ("torch", "transformers") if m in sys.modules))
"""


@pytest.mark.parametrize("source", ["config", "preset"])
def test_rejecting_a_config_is_fast_and_imports_no_framework(tmp_path, write_config, source):
    import json
    import subprocess
    import time

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "max_position_embeddings": 64}))
    model = {"config": str(tmp_path / "config.json")} if source == "config" else {"preset": "tiny-llama"}
    path = write_config(tiny_raw(model=model, sampling={"mode": "temperature", "temperature": float("nan")}))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", REJECT, str(path)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=60)
    elapsed = time.perf_counter() - start
    assert done.stdout.splitlines() == ["sampling.temperature: expected a number in [1e-06, 1e+06], got nan; "
                                        "logits are divided by it in float32", "imported: []"], done.stderr
    assert elapsed < 1.0, f"{elapsed:.2f} s"  # today: 6.5-8 s, torch alone 3.9 s
