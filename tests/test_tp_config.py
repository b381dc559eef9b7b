"""model.tensor_parallel is refused from the config alone (no torch) where the plan could not split the model."""
from __future__ import annotations

import pytest

from bench.config.errors import ConfigError
from bench.config.schema import parse_config
from tests.conftest import tiny_raw


def tiny_tp(ranks, preset: str = "tiny-llama", **extra) -> dict:
    return tiny_raw(model={"preset": preset, "dtype": "float32", "device": "cpu", "tensor_parallel": ranks}, **extra)


REFUSED = [
    (tiny_tp(0), "model.tensor_parallel: expected a positive integer, got 0"),
    (tiny_tp(16), "model.tensor_parallel: 16 is above the limit of 8"),
    (tiny_tp(True), "model.tensor_parallel: expected a positive integer, got True"),
    # tiny-llama: 4 heads, 2 key/value heads, MLP 176 wide
    (tiny_tp(3), "model.tensor_parallel: 3 refused: num_attention_heads = 4 is not divisible by tensor_parallel = 3"),
    (tiny_tp(4), "model.tensor_parallel: 4 refused: num_key_value_heads = 2 is not divisible by tensor_parallel = 4"),
    (tiny_tp(2, "tiny-gpt2"), "model.tensor_parallel: 2 refused: model type 'gpt2' has no tensor-parallel plan"),
    (tiny_tp(2, transport="ipc"), "transport: 'ipc' runs one generator process"),
    (tiny_raw(model={"preset": "tiny-llama", "tp_reference": "two-gpu"}), "model.tp_reference: unknown reference"),
    (tiny_tp(2, strategies=[{"name": "cuda-graph", "options": {"background": [12]}}]),
     "strategies[1].options.background: not with model.tensor_parallel > 1"),
]


@pytest.mark.parametrize("raw,message", REFUSED, ids=[m for _, m in REFUSED])
def test_a_split_the_plan_refuses_is_a_named_config_error(raw, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert str(caught.value).startswith(message), str(caught.value)


def test_an_intermediate_size_that_does_not_split_is_refused_from_a_config_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "qwen2", "num_attention_heads": 4, "num_key_value_heads": 2, '
                    '"intermediate_size": 175, "hidden_size": 64}')
    raw = tiny_raw(model={"config": str(path), "tensor_parallel": 2})
    with pytest.raises(ConfigError, match="intermediate_size = 175 is not divisible by tensor_parallel = 2"):
        parse_config(raw)


def test_a_split_the_plan_takes_is_kept():
    cfg = parse_config(tiny_tp(2))
    assert (cfg.model.tensor_parallel, cfg.model.tp_reference) == (2, "one-gpu")
    assert parse_config(tiny_raw()).model.tensor_parallel == 1
