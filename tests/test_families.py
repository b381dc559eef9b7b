"""The family matrix on the CPU: every tiny family in presets.TINY_FAMILIES, with perturbed random
weights, gets the fused forward only where it equals the HF forward, and every CPU strategy
computes the baseline's first token (GPU strategies over the same matrix: tests/test_gpu.py)."""
from __future__ import annotations

import functools

import pytest
import torch

from bench.config.options import build_options
from bench.config.presets import TINY_FAMILIES
from bench.config.schema import ModelConfig
from bench.judging.correctness import compare
from bench.targets.inprocess import timed_answer
from bench.models.build import build_model, hf_config
from bench.models.prompts import make_prompts, pad_token_id
from strategies.base import StrategyContext
from strategies.fused_forward import FusedForward
from strategies.fused_support import unfusable_reason
from strategies.last_logits import hf_last_logits
from strategies.registry import REGISTRY

CPU = torch.device("cpu")
FUSED = {"tiny-llama", "tiny-mistral", "tiny-qwen2", "tiny-qwen3", "tiny-granite"}
LENGTHS = (3, 30)  # 30 > tiny-mistral's and tiny-gemma2's sliding window of 8


@functools.lru_cache(maxsize=None)
def family(preset: str):
    spec = ModelConfig(preset=preset, dtype="float32", device="cpu")
    config = hf_config(spec)
    return build_model(spec, config, CPU), config


def ids_and_last(length: int, real: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(3, 1024, (1, length), generator=torch.Generator().manual_seed(length))
    return ids, torch.tensor([real - 1])


def test_the_matrix_holds_the_families_the_issue_names():
    types = {hf_config(ModelConfig(preset=p, device="cpu")).model_type for p in TINY_FAMILIES}
    assert len(types) >= 12
    assert {"llama", "mistral", "qwen2", "qwen3", "granite", "gemma", "gemma2", "phi3", "gpt2", "gpt_neox",
            "olmo2", "mixtral"} <= types


@pytest.mark.parametrize("preset", TINY_FAMILIES)
def test_no_parameter_is_left_constant(preset):
    model, _ = family(preset)
    constant = [name for name, p in model.named_parameters() if p.numel() > 1 and bool((p == p.reshape(-1)[0]).all())]
    assert not constant


@pytest.mark.parametrize("preset", TINY_FAMILIES)
def test_fused_forward_equals_hf_or_is_refused_with_a_reason(preset):
    model, _ = family(preset)
    reason = unfusable_reason(model)
    assert (reason is None) == (preset in FUSED), reason
    if reason is not None:
        assert reason.startswith("fused forward not used for") and reason.endswith("HF forward")
        return
    for length, real in [(1, 1), (30, 30), (40, 25)]:  # one token; longer than a window of 8; right padding
        ids, last = ids_and_last(length, real)
        with torch.inference_mode():
            expected = hf_last_logits(model)(ids, last)
            got = FusedForward(model)(ids, last)
        assert got.shape == expected.shape == (1, 1, model.config.vocab_size)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def strategy_matches_baseline(preset: str, name: str, options: dict) -> list[str]:
    model, config = family(preset)
    ctx = StrategyContext(CPU, torch.float32, LENGTHS, config.vocab_size, pad_token_id(config), "greedy", 0.7)
    prompts = make_prompts(LENGTHS, 0, config)
    with torch.inference_mode():
        base = REGISTRY["baseline"](None)
        base.setup(model, ctx)
        strategy = REGISTRY[name](build_options(REGISTRY[name].options_type, options, name))
        strategy.setup(model, ctx)
        for n in LENGTHS:
            strategy.compile_for(n)
            ids = prompts[n]
            answer, expected = timed_answer(strategy, ids), timed_answer(base, ids)  # token and logits of one call
            verdict = compare(answer.logits, answer.token, expected.logits, expected.token, torch.float32,
                              layers=1)  # tiny: the unscaled limit
            assert verdict.matches, f"{preset} {name} @ {n}: {verdict.note}"
        strategy.close()
    return strategy.notes


@pytest.mark.parametrize("preset", TINY_FAMILIES)
def test_jit_forward_matches_the_baseline_fused_or_not(preset):
    notes = strategy_matches_baseline(preset, "jit-only", {"forward_jit": "none"})  # fuse_projections: auto
    assert any(n.startswith("fused forward not used") for n in notes) == (preset not in FUSED), notes
    strategy_matches_baseline(preset, "jit-only", {"forward_jit": "none", "fuse_projections": False})


@pytest.mark.parametrize("preset", TINY_FAMILIES)
def test_hf_generate_matches_the_baseline(preset):
    strategy_matches_baseline(preset, "hf-generate", {})


@pytest.mark.parametrize("preset", ["tiny-qwen2", "tiny-gpt-neox"])
def test_inductor_forward_matches_the_baseline(preset):
    """One fused family (regional compile) and one HF-forward family (whole-model compile)."""
    notes = strategy_matches_baseline(preset, "jit-only", {"forward_jit": "inductor"})
    assert any(n.startswith("compile_scope: layer needs the fused forward") for n in notes) == (preset not in FUSED)
