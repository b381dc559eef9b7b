"""Prompt lengths a benchmark can run, checked without torch: each one bounded and within the model's
positions, the cold-start probe's length one nobody prepares, every length served by the graph
strategies' buckets, and the prompts a process holds at once within host memory.

    check_lengths(cfg, max_positions)   # raises ConfigError; model_file and models.build call it
"""
from __future__ import annotations

from typing import Any

from bench.config.errors import ConfigError

# the first token of a 2**20-token prompt costs 2 n^2 x hidden x layers = 2.9e17 FLOPs of attention
# alone on a 7B shape (4096 x 32): over 6 minutes per request at the 753 TFLOP/s float16 matmul rate
# measured on an H100 (results/h100-llama2-7b); a sweep of such requests takes hours, so a longer
# length (1e8 was accepted, then ran out of memory) is a typo, not a plan
MAX_PROMPT_LENGTH = 1 << 20
# a process holds its prompts as Python lists of ints, about 45 bytes a token (measured): 2**24 tokens
# is ~0.75 GB of host memory and ~8 s to draw, per worker; the default 113 prompts of a length
# (8 judged + 5 warm-up + 100 timed) fit up to 148k tokens, and a 2**20-token length 16 prompts
MAX_PROMPT_TOKENS = 1 << 24
GRAPH_LENGTH_KEYS = ("buckets", "precapture", "background")  # the graph strategies' options that name lengths


def check_lengths(cfg: Any, limit: int | None) -> None:
    """Every length the config names is runnable (limit: the model's maximum positions, None if unknown)."""
    keyed = [(f"prompts.lengths[{i}]", n) for i, n in enumerate(cfg.prompts.lengths)]
    unseen = cfg.measure.unseen_length
    if unseen is not None:
        keyed.append(("measure.unseen_length", unseen))
    for i, spec in enumerate(cfg.strategies):
        for key in GRAPH_LENGTH_KEYS:
            keyed += [(f"strategies[{i}].options.{key}[{j}]", n) for j, n in enumerate(getattr(spec.options, key, None)
                                                                                         or ())]
    for key, n in keyed:
        if n > MAX_PROMPT_LENGTH:
            raise ConfigError(f"{key}: {n} is above the limit of {MAX_PROMPT_LENGTH} tokens (one first token at that "
                              "length is minutes of attention on a 7B model)")
        if limit is not None and n > limit:
            raise ConfigError(f"{key}: {n} exceeds the model's maximum positions ({limit})")
    if unseen in cfg.prompts.lengths:
        raise ConfigError(f"measure.unseen_length: {unseen} is one of prompts.lengths; the cold-start probe measures "
                          "a length nobody prepared")
    check_buckets(cfg)
    check_prompt_tokens(cfg)


def check_buckets(cfg: Any) -> None:
    """A graph strategy's buckets reach every length it serves: a longer one would get a graph of its own,
    and the run would not measure the bucketing it was configured with."""
    longest = max(cfg.prompts.lengths)  # not the probe's: a probe past the buckets measures a capture on demand
    for i, spec in enumerate(cfg.strategies):
        buckets = getattr(spec.options, "buckets", None)
        if buckets and longest > max(buckets):
            raise ConfigError(f"strategies[{i}].options.buckets: the largest bucket ({max(buckets)}) is below the "
                              f"prompt length {longest} it must serve; add a bucket of at least {longest}")


def check_prompt_tokens(cfg: Any) -> None:
    """The prompts a worker holds at once: every length's judged prompts, the probe's, and the longest
    length's warm-up and timed requests (made before its timing starts)."""
    p, m = cfg.prompts, cfg.measure
    held = p.per_length * sum(p.lengths) + (m.unseen_length or 0) + (m.warmup + m.repeats) * max(p.lengths)
    if held > MAX_PROMPT_TOKENS:
        raise ConfigError(f"prompts.lengths: a worker would hold {held} prompt tokens at once (prompts.per_length x "
                          f"the sum of the lengths, plus measure.warmup + measure.repeats x the longest), above the "
                          f"limit of {MAX_PROMPT_TOKENS} (~0.75 GB of host memory); lower one of them")
