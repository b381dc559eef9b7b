"""Prompts: deterministic token ids of exactly each length, identical for every strategy."""
from __future__ import annotations

import numpy as np
from transformers import PretrainedConfig

from bench.models.build import text_config


def special_token_ids(config: PretrainedConfig, tokenizer=None) -> set[int]:
    """Ids a synthetic prompt must avoid (bos/eos/pad and the tokenizer's specials)."""
    config = text_config(config)
    ids: set[int] = set()
    for key in ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id"):
        value = getattr(config, key, None)
        ids.update(value if isinstance(value, (list, tuple)) else [value] if isinstance(value, int) else [])
    if tokenizer is not None:
        ids.update(tokenizer.all_special_ids)
    return ids


def synthetic_prompt(length: int, seed: int, vocab_size: int, avoid: set[int]) -> list[int]:
    """`length` token ids drawn uniformly from the vocabulary minus `avoid`, fixed by (seed, length)."""
    allowed = np.setdiff1d(np.arange(vocab_size), np.fromiter(avoid, dtype=np.int64, count=len(avoid)))
    rng = np.random.default_rng([seed, length])
    return [int(t) for t in rng.choice(allowed, size=length)]


def text_prompt(length: int, text: str, tokenizer) -> list[int]:
    """The text's tokens (no special tokens), repeated and cut to exactly `length`."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError("prompts.text: the tokenizer turned the text into no tokens")
    repeats = -(-length // len(ids))  # ceiling division
    return (ids * repeats)[:length]


def make_prompts(lengths, seed: int, config: PretrainedConfig, text: str | None = None,
                 tokenizer=None) -> dict[int, list[int]]:
    """One prompt per length, the same in every process of a run."""
    if text is not None:
        return {n: text_prompt(n, text, tokenizer) for n in lengths}
    avoid = special_token_ids(config, tokenizer)
    vocab = text_config(config).vocab_size
    return {n: synthetic_prompt(n, seed, vocab, avoid) for n in lengths}


def pad_token_id(config: PretrainedConfig) -> int:
    """A token to pad graphs with: pad, else eos, else 0. Its value never reaches the logits."""
    config = text_config(config)
    for key in ("pad_token_id", "eos_token_id"):
        value = getattr(config, key, None)
        value = value[0] if isinstance(value, (list, tuple)) and value else value
        if isinstance(value, int):
            return value
    return 0
