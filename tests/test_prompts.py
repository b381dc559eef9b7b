from __future__ import annotations

from bench.models.presets import preset_config
from bench.models.prompts import make_prompt_sets, make_prompts, pad_token_id, special_token_ids


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
    assert sets[4] == [[5, 6, 7, 5], [6, 7, 5, 6], [7, 5, 6, 7]]  # a text of period 3 has three
