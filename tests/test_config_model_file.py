"""A model.config file (config.json) is checked without transformers: readable, named, sane shapes,
and every prompt length within its positions."""
from __future__ import annotations

import json

import pytest

from bench.config.errors import ConfigError
from bench.config.schema import parse_config
from tests.conftest import LLAMA_JSON, tiny_raw

def with_model_file(tmp_path, content, **sections) -> dict:
    path = tmp_path / "config.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return tiny_raw(model={"config": str(path)}, **sections)


def refusal(raw) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_good_file_and_folder_are_accepted(tmp_path):
    raw = with_model_file(tmp_path, LLAMA_JSON)
    assert parse_config(raw).model.config.endswith("config.json")
    assert parse_config(tiny_raw(model={"config": str(tmp_path)})).name == "tiny"  # the folder holding it


@pytest.mark.parametrize("field,value", [("vocab_size", 0), ("hidden_size", -64), ("num_hidden_layers", 2.5),
                                         ("num_attention_heads", True), ("max_position_embeddings", "64")])
def test_bad_shape_field_is_named(tmp_path, field, value):
    message = refusal(with_model_file(tmp_path, {**LLAMA_JSON, field: value}))
    assert message == f"model.config: {field} must be a positive integer, got {value!r}"


def test_shape_fields_inside_text_config_are_checked(tmp_path):
    content = {"model_type": "llava", "text_config": {**LLAMA_JSON, "vocab_size": 0}}
    assert refusal(with_model_file(tmp_path, content)) == (
        "model.config: text_config.vocab_size must be a positive integer, got 0")


def test_heads_not_a_multiple_of_key_value_heads(tmp_path):
    message = refusal(with_model_file(tmp_path, {**LLAMA_JSON, "num_key_value_heads": 3}))
    assert message.startswith("model.config: num_attention_heads (4) must be a multiple of num_key_value_heads (3)")


@pytest.mark.parametrize("content,reason", [
    ("{not json", "is not JSON: Expecting property name"),
    ("[1, 2]", "must hold a JSON object, got list"),
    ('{"model_type": "llama", "vocab_size": ' + "9" * 5000 + "}", "is not JSON"),  # Python's int digit limit
    ("[" * 100_000, "is not JSON"),  # RecursionError
    (b"\xff\xfe", "is not JSON"),
])
def test_unreadable_file_is_one_line(tmp_path, content, reason):
    path = tmp_path / "config.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    message = refusal(tiny_raw(model={"config": str(path)}))
    assert message.startswith("model.config: ") and reason in message and len(message) < 300


def test_model_type_is_required(tmp_path):
    content = {k: v for k, v in LLAMA_JSON.items() if k != "model_type"}
    assert refusal(with_model_file(tmp_path, content)).startswith("model.config: the model config needs a model_type")


def test_missing_file(tmp_path):
    assert refusal(tiny_raw(model={"config": str(tmp_path / "nope.json")})).startswith("model.config: ")


def test_lengths_beyond_the_files_positions(tmp_path):
    raw = with_model_file(tmp_path, LLAMA_JSON, prompts={"lengths": [8, 65]})
    assert refusal(raw) == "prompts.lengths[1]: 65 exceeds the model's maximum positions (64)"
    gpt2 = {"model_type": "gpt2", "n_positions": 32, "n_embd": 64, "n_layer": 2, "n_head": 4, "vocab_size": 100}
    raw = with_model_file(tmp_path, gpt2, measure={"unseen_length": 33})
    assert refusal(raw) == "measure.unseen_length: 33 exceeds the model's maximum positions (32)"


def test_lengths_beyond_a_local_name_or_paths_positions(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_JSON))
    raw = tiny_raw(model={"name_or_path": str(tmp_path)}, prompts={"lengths": [100]})
    assert refusal(raw) == "prompts.lengths[0]: 100 exceeds the model's maximum positions (64)"


def test_lengths_beyond_a_presets_positions():
    raw = tiny_raw(prompts={"lengths": [2048, 2049]})  # tiny-llama has 2048 positions
    assert refusal(raw) == "prompts.lengths[1]: 2049 exceeds the model's maximum positions (2048)"


def test_lengths_beyond_a_nested_text_configs_positions(tmp_path):
    content = {"model_type": "llava", "text_config": LLAMA_JSON, "max_position_embeddings": 4096}
    raw = with_model_file(tmp_path, content, prompts={"lengths": [65]})
    assert refusal(raw) == "prompts.lengths[0]: 65 exceeds the model's maximum positions (64)"
