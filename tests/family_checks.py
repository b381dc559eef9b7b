"""The tiny families built on the CPU and the checks the family matrix makes of a strategy on them (its answers
against the baseline's; its batched answers against its single ones), for tests/test_families.py, test_gpu.py and
test_strategies_cpu.py."""
from __future__ import annotations

import functools

import torch

from bench.config.options import build_options
from bench.config.schema import ModelConfig
from bench.judging.correctness import compare
from bench.measuring.logits import host_copy
from bench.models.build import build_model, hf_config
from bench.models.dtypes import TORCH_DTYPES
from bench.models.prompts import make_prompts, pad_token_id
from bench.targets.inprocess import timed_answer
from strategies.base import StrategyContext
from strategies.registry import REGISTRY

CPU = torch.device("cpu")
LENGTHS = (3, 30)  # 30 > tiny-mistral's and tiny-gemma2's sliding window of 8


@functools.lru_cache(maxsize=None)
def family(preset: str, dtype: str = "float32", **config_keys):
    """The preset built in `dtype`, with config_keys set on its config as a config.json setting them would."""
    spec = ModelConfig(preset=preset, dtype=dtype, device="cpu")
    config = hf_config(spec)
    for key, value in config_keys.items():
        setattr(config, key, value)
    return build_model(spec, config, CPU), config


def context(config, dtype: str = "float32", lengths: tuple[int, ...] = LENGTHS) -> StrategyContext:
    """A greedy CPU context for the family's config at these lengths."""
    return StrategyContext(CPU, TORCH_DTYPES[dtype], lengths, config.vocab_size, pad_token_id(config), "greedy", 0.7)


def started(name: str, options: dict, model, ctx: StrategyContext, cls=None):
    """A strategy of the registry (or `cls`, a subclass of it) set up on the model."""
    strategy = (cls or REGISTRY[name])(build_options(REGISTRY[name].options_type, options, name))
    strategy.setup(model, ctx)
    return strategy


def strategy_matches_baseline(preset: str, name: str, options: dict, dtype: str = "float32",
                              lengths: tuple[int, ...] = LENGTHS, **config_keys) -> list[str]:
    """Assert the strategy answers the baseline's token, logits within the rule, at every length; its notes."""
    model, config = family(preset, dtype, **config_keys)
    ctx = context(config, dtype, lengths)
    prompts = make_prompts(lengths, 0, config)
    with torch.inference_mode():
        base = started("baseline", {}, model, ctx)
        strategy = started(name, options, model, ctx)
        for n in lengths:
            strategy.compile_for(n)
            ids = prompts[n]
            answer, expected = timed_answer(strategy, ids), timed_answer(base, ids)  # token and logits of one call
            verdict = compare(answer.logits, answer.token, expected.logits, expected.token, TORCH_DTYPES[dtype],
                              layers=1)  # tiny: the unscaled limit
            assert verdict.matches, f"{preset} {name} @ {n}: {verdict.note}"
        strategy.close()
    return strategy.notes


def batched_problems(strategy, prompts: list[list[int]], dtype: torch.dtype = torch.float32) -> list[str]:
    """Where the strategy's batched answers (one first_tokens call) differ from its single answers: a
    token, or logits beyond the correctness rule (the model's dtype; the unscaled limit)."""
    singles = []
    for ids in prompts:
        answer = strategy.first_token(ids)
        singles.append((answer.token, host_copy(answer.logits)))  # copied now: a graph reuses its buffer
    problems = []
    for row, (answer, (token, logits)) in enumerate(zip(strategy.first_tokens(prompts), singles, strict=True)):
        verdict = compare(host_copy(answer.logits), answer.token, logits, token, dtype, layers=1)
        if answer.token != token or not verdict.matches:
            problems.append(f"row {row} (length {len(prompts[row])}): token {answer.token}, single {token}; "
                            f"{verdict.note or 'logits within the rule'}")
    return problems
