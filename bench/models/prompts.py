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


def synthetic_prompt(length: int, seed: int, vocab_size: int, avoid: set[int], index: int = 0) -> list[int]:
    """`length` token ids drawn uniformly from the vocabulary minus `avoid`, fixed by (seed, length, index).
    Index 0 keeps the generator of the one-prompt-per-length runs, so their prompts stay the same."""
    allowed = np.setdiff1d(np.arange(vocab_size), np.fromiter(avoid, dtype=np.int64, count=len(avoid)))
    rng = np.random.default_rng([seed, length] if index == 0 else [seed, length, index])
    return [int(t) for t in rng.choice(allowed, size=length)]


def text_prompt(length: int, text: str, tokenizer, index: int = 0) -> list[int]:
    """The text's tokens (no special tokens), repeated and cut to exactly `length`, starting
    `index` tokens into the text (index 0: from its start)."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError("prompts.text: the tokenizer turned the text into no tokens")
    start = index % len(ids)
    repeats = -(-(start + length) // len(ids))  # ceiling division
    return (ids * repeats)[start:start + length]


def distinct(candidates, count: int, tries: int) -> list[list[int]]:
    """The first `count` distinct prompts among the first `tries` candidates (fewer if there are not)."""
    found: list[list[int]] = []
    for _, ids in zip(range(tries), candidates):
        if ids not in found:
            found.append(ids)
            if len(found) == count:
                break
    return found


def make_prompt_sets(lengths, seed: int, config: PretrainedConfig, text: str | None = None, tokenizer=None,
                     per_length: int = 1) -> dict[int, list[list[int]]]:
    """Up to `per_length` distinct prompts per length, the same in every process of a run; prompt 0
    is make_prompts' prompt. Fewer only where fewer exist (a one-token text, a tiny vocabulary)."""
    tries = 4 * per_length  # collisions are rare; a text of period p gives p distinct prompts at most
    if text is not None:
        return {n: distinct((text_prompt(n, text, tokenizer, i) for i in range(tries)), per_length, tries)
                for n in lengths}
    avoid = special_token_ids(config, tokenizer)
    vocab = text_config(config).vocab_size
    return {n: distinct((synthetic_prompt(n, seed, vocab, avoid, i) for i in range(tries)), per_length, tries)
            for n in lengths}


def make_prompts(lengths, seed: int, config: PretrainedConfig, text: str | None = None,
                 tokenizer=None) -> dict[int, list[int]]:
    """One prompt per length, the same in every process of a run."""
    return {n: prompts[0] for n, prompts in make_prompt_sets(lengths, seed, config, text, tokenizer).items()}


def pad_token_id(config: PretrainedConfig) -> int:
    """A token to pad graphs with: pad, else eos, else 0. Its value never reaches the logits."""
    config = text_config(config)
    for key in ("pad_token_id", "eos_token_id"):
        value = getattr(config, key, None)
        value = value[0] if isinstance(value, (list, tuple)) and value else value
        if isinstance(value, int):
            return value
    return 0
