"""Prompts: deterministic token ids of exactly each length, identical for every strategy.

Per length, one stream of candidate prompts (candidate 0 is the one-prompt-per-length runs'
prompt): the judged prompts are its first distinct ones, and every warm-up and timed request
takes a further one of its own, so no cache keyed on the input can answer a timed request.
"""
from __future__ import annotations

import itertools

import numpy as np
from transformers import PretrainedConfig

from bench.config.errors import ConfigError
from bench.models.build import text_config

TRIES_PER_PROMPT = 4  # collisions are rare; a text of period p gives p rotations, then shuffles


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


def allowed_ids(vocab_size: int, avoid) -> np.ndarray:
    """The vocabulary minus `avoid`: what a synthetic prompt draws from."""
    return np.setdiff1d(np.arange(vocab_size), np.fromiter(avoid, dtype=np.int64, count=len(avoid)))


def synthetic_prompt(length: int, seed: int, allowed: np.ndarray, index: int = 0) -> list[int]:
    """`length` token ids drawn uniformly from `allowed`, fixed by (seed, length, index).
    Index 0 keeps the generator of the one-prompt-per-length runs, so their prompts stay the same."""
    rng = np.random.default_rng([seed, length] if index == 0 else [seed, length, index])
    return [int(t) for t in rng.choice(allowed, size=length)]


def text_prompt(length: int, text_ids, seed: int, index: int = 0) -> list[int]:
    """The text's tokens repeated and cut to exactly `length`, starting `index` tokens into the text
    (index 0: from its start); once every start is used (index >= the text's length), those tokens
    shuffled, fixed by (seed, length, index)."""
    ids = list(text_ids)
    start = index % len(ids)
    repeats = -(-(start + length) // len(ids))  # ceiling division
    prompt = (ids * repeats)[start:start + length]
    if index >= len(ids):
        prompt = [int(t) for t in np.random.default_rng([seed, length, index]).permutation(prompt)]
    return prompt


def tokenize_text(text: str, tokenizer) -> tuple[int, ...]:
    """The text's tokens, no special tokens. Raises ConfigError on a text of no tokens."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ConfigError("prompts.text: the tokenizer turned the text into no tokens")
    return tuple(ids)


def candidates(length: int, seed: int, vocab_size: int, avoid, text_ids):
    """The length's stream of candidate prompts: the text's (text_ids set) or synthetic ones.
    Raises ConfigError when the vocabulary holds nothing but the special tokens a synthetic prompt avoids."""
    if text_ids is not None:
        return (text_prompt(length, text_ids, seed, i) for i in itertools.count())
    allowed = allowed_ids(vocab_size, avoid)
    if not allowed.size:
        raise ConfigError(f"model: its vocabulary of {vocab_size} tokens holds only special tokens "
                          f"({', '.join(map(str, sorted(avoid)))}), which a synthetic prompt leaves out; "
                          "give a larger vocab_size")
    return (synthetic_prompt(length, seed, allowed, i) for i in itertools.count())


def distinct(stream, count: int, tries: int, taken=()) -> list[list[int]]:
    """The first `count` distinct prompts among the first `tries` of `stream`, none of them in
    `taken` (fewer if there are not)."""
    seen = {tuple(p) for p in taken}
    found: list[list[int]] = []
    for _, ids in zip(range(tries), stream):
        if tuple(ids) not in seen:
            seen.add(tuple(ids))
            found.append(ids)
            if len(found) == count:
                break
    return found


def prompt_set(length: int, count: int, seed: int, vocab_size: int, avoid, text_ids) -> list[list[int]]:
    """The length's judged prompts: the stream's first `count` distinct ones."""
    return distinct(candidates(length, seed, vocab_size, avoid, text_ids), count, TRIES_PER_PROMPT * count)


def request_prompts(length: int, count: int, taken, seed: int, vocab_size: int, avoid, text_ids) -> list[list[int]]:
    """A prompt for each of `count` requests: distinct, none of them in `taken` (the judged prompts).
    Fewer only where fewer exist (a tiny vocabulary at length 1)."""
    stream = candidates(length, seed, vocab_size, avoid, text_ids)
    return distinct(stream, count, len(taken) + TRIES_PER_PROMPT * count, taken)


def make_prompt_sets(lengths, seed: int, config: PretrainedConfig, text: str | None = None, tokenizer=None,
                     per_length: int = 1) -> dict[int, list[list[int]]]:
    """Up to `per_length` distinct prompts per length, the same in every process of a run; prompt 0
    is make_prompts' prompt. Fewer only where fewer exist (a one-token text, a tiny vocabulary)."""
    text_ids = None if text is None else tokenize_text(text, tokenizer)
    avoid = special_token_ids(config, tokenizer)
    vocab = text_config(config).vocab_size
    return {n: prompt_set(n, per_length, seed, vocab, avoid, text_ids) for n in lengths}


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
