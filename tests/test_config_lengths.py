"""Lengths a benchmark can run, refused in one line naming the key before anything loads: each length
bounded, the prompts a worker holds bounded, the probe's length one nobody prepares, graph buckets,
precapture and background lengths within the model's positions and buckets reaching every length."""
from __future__ import annotations

import json

import pytest

from bench.config.errors import ConfigError
from bench.config.lengths import MAX_PROMPT_LENGTH, MAX_PROMPT_TOKENS
from bench.config.schema import parse_config
from tests.conftest import LLAMA_JSON, tiny_raw

HUGE_POSITIONS = 10 ** 9  # the fuzzed model: positions for any length


def refusal(raw) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def huge_model(tmp_path) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**LLAMA_JSON, "max_position_embeddings": HUGE_POSITIONS}))
    return str(path)


def graph(**options) -> list:
    return [{"name": "cuda-graph", "options": options}]


def test_a_length_past_the_bound_is_refused_even_where_the_model_has_the_positions(tmp_path):
    raw = tiny_raw(model={"config": huge_model(tmp_path)}, prompts={"lengths": [10 ** 8]})
    assert refusal(raw).startswith(f"prompts.lengths[0]: 100000000 is above the limit of {MAX_PROMPT_LENGTH} tokens")
    raw = tiny_raw(model={"config": huge_model(tmp_path)}, prompts={"lengths": [8]},
                   measure={"unseen_length": MAX_PROMPT_LENGTH + 1, "repeats": 1})
    assert refusal(raw).startswith("measure.unseen_length: 1048577 is above the limit")


def test_a_hub_models_lengths_are_bounded_before_its_config_is_read():
    raw = tiny_raw(model={"name_or_path": "some-org/some-model"}, prompts={"lengths": [8]},
                   strategies=graph(precapture=[8, MAX_PROMPT_LENGTH + 1]))
    assert refusal(raw).startswith("strategies[1].options.precapture[1]: 1048577 is above the limit")


def test_prompts_a_worker_cannot_hold_are_refused_naming_what_to_lower(tmp_path):
    n = MAX_PROMPT_LENGTH  # allowed alone, but not with 8 judged + 105 timed prompts of it
    message = refusal(tiny_raw(model={"config": huge_model(tmp_path)}, prompts={"lengths": [n]},
                               measure={"warmup": 5, "repeats": 100}))
    assert message.startswith(f"prompts.lengths: a worker would hold {8 * n + 105 * n} prompt tokens at once")
    assert f"above the limit of {MAX_PROMPT_TOKENS}" in message and "lower one of them" in message
    fits = MAX_PROMPT_TOKENS // (8 + 105)
    parse_config(tiny_raw(model={"config": huge_model(tmp_path)}, prompts={"lengths": [fits]},
                          measure={"warmup": 5, "repeats": 100}))


def test_the_probe_length_may_not_be_a_sweep_length():
    message = refusal(tiny_raw(measure={"unseen_length": 24}))
    assert message == ("measure.unseen_length: 24 is one of prompts.lengths; the cold-start probe measures a "
                       "length nobody prepared")
    assert parse_config(tiny_raw(measure={"unseen_length": 25})).measure.unseen_length == 25


@pytest.mark.parametrize("key", ["buckets", "precapture", "background"])
def test_graph_lengths_beyond_the_models_positions_are_refused(key):
    message = refusal(tiny_raw(strategies=graph(**{key: [24, 2049]})))
    assert message == f"strategies[1].options.{key}[1]: 2049 exceeds the model's maximum positions (2048)"  # tiny-llama


def test_buckets_must_reach_every_prompt_length():
    message = refusal(tiny_raw(prompts={"lengths": [8, 24, 40]}, strategies=graph(buckets=[16, 32])))
    assert message == ("strategies[1].options.buckets: the largest bucket (32) is below the prompt length 40 it "
                       "must serve; add a bucket of at least 40")
    parse_config(tiny_raw(prompts={"lengths": [8, 24, 40]}, strategies=graph(buckets=[16, 32, 64])))
    # the probe may lie past the buckets: it then measures a capture on demand
    parse_config(tiny_raw(prompts={"lengths": [8, 24]}, measure={"unseen_length": 100}, strategies=graph(buckets=[32])))
