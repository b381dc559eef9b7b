from __future__ import annotations

import json
import re

import pytest

from bench.config.errors import ConfigError
from bench.config.schema import parse_config
from bench.models.build import preset_config
from bench.models.prompts import make_prompt_sets, make_prompts, pad_token_id, request_prompts, special_token_ids
from bench.jobs.build import build_job
from tests.conftest import tiny_raw


def test_prompts_have_exact_lengths_are_deterministic_and_avoid_specials():
    config = preset_config("tiny-llama")
    a = make_prompts([1, 10, 400], seed=3, config=config)
    b = make_prompts([1, 10, 400], seed=3, config=config)
    assert a == b
    assert {n: len(ids) for n, ids in a.items()} == {1: 1, 10: 10, 400: 400}
    specials = special_token_ids(config)
    assert specials and not specials & set(a[400])
    assert all(0 <= t < config.vocab_size for t in a[400])
    assert make_prompts([10], seed=4, config=config)[10] != a[10]


def test_text_prompt_repeats_tokens_to_length():
    class Tok:
        all_special_ids = [0]

        def __call__(self, text, add_special_tokens):
            return {"input_ids": [5, 6, 7]}

    ids = make_prompts([7], seed=0, config=preset_config("tiny-llama"), text="abc", tokenizer=Tok())[7]
    assert ids == [5, 6, 7, 5, 6, 7, 5]


def test_pad_token_falls_back_to_eos():
    assert pad_token_id(preset_config("tiny-llama")) == 2


def test_prompt_sets_are_distinct_and_start_with_the_single_prompt():
    config = preset_config("tiny-llama")
    sets = make_prompt_sets([1, 10, 400], seed=3, config=config, per_length=8)
    single = make_prompts([1, 10, 400], seed=3, config=config)
    for n, prompts in sets.items():
        assert len(prompts) == 8 and all(len(p) == n for p in prompts)
        assert len({tuple(p) for p in prompts}) == 8  # distinct
        assert prompts[0] == single[n]  # old results stay comparable


def test_text_prompt_sets_rotate_through_the_text():
    class Tok:
        all_special_ids = [0]

        def __call__(self, text, add_special_tokens):
            return {"input_ids": [5, 6, 7]}

    sets = make_prompt_sets([4], seed=0, config=preset_config("tiny-llama"), text="abc", tokenizer=Tok(), per_length=8)
    assert sets[4][:3] == [[5, 6, 7, 5], [6, 7, 5, 6], [7, 5, 6, 7]]  # a text of period 3 has three rotations
    assert len({tuple(p) for p in sets[4]}) == 8  # then shuffles of them
    assert all(sorted(p) in ([5, 5, 6, 7], [5, 6, 6, 7], [5, 6, 7, 7]) for p in sets[4])


def test_every_request_gets_a_prompt_of_its_own_after_the_judged_ones():
    config = preset_config("tiny-llama")
    judged = make_prompt_sets([1, 10], seed=3, config=config, per_length=8)
    avoid = special_token_ids(config)
    for n, prompts in judged.items():
        own = request_prompts(n, 40, prompts, 3, config.vocab_size, avoid, None)
        assert len(own) == 40 and all(len(p) == n for p in own)
        assert len({tuple(p) for p in own + prompts}) == 48  # distinct, and none of them judged
        assert not avoid & {t for p in own for t in p}
        assert request_prompts(n, 10, prompts, 3, config.vocab_size, avoid, None) == own[:10]  # by index
        assert request_prompts(n, 40, prompts, 4, config.vocab_size, avoid, None) != own  # by seed


def test_text_requests_rotate_through_the_text_then_shuffle_it():
    text = (5, 6, 7, 8, 9)
    own = request_prompts(4, 12, [list(text[:4])], 0, 100, set(), text)
    assert own[:4] == [[6, 7, 8, 9], [7, 8, 9, 5], [8, 9, 5, 6], [9, 5, 6, 7]]  # rotations 1..4
    assert len({tuple(p) for p in own}) == 12 and all(set(p) <= set(text) for p in own)
    assert request_prompts(4, 12, [list(text[:4])], 1, 100, set(), text) != own  # shuffles follow the seed


def test_a_vocabulary_of_only_special_tokens_is_a_one_line_config_error(tmp_path):
    fields = {**preset_config("tiny-llama").to_dict(), "vocab_size": 2, "bos_token_id": 0, "eos_token_id": 1}
    (tmp_path / "config.json").write_text(json.dumps(fields))
    cfg = parse_config(tiny_raw(model={"config": str(tmp_path)}))
    with pytest.raises(ConfigError, match=re.escape("model: its vocabulary of 2 tokens holds only special tokens "
                                                    "(0, 1), which a synthetic prompt leaves out")):
        build_job(cfg)
    (tmp_path / "config.json").write_text(json.dumps({**fields, "vocab_size": 3}))  # one ordinary token: it works
    job = build_job(parse_config(tiny_raw(model={"config": str(tmp_path)})))
    assert job.prompts[8] == ((2,) * 8,)  # the one prompt there is, not per_length of them
