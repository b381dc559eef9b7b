"""Strategies on the CPU: graph strategies say why they can't run; jit-only matches the baseline."""
from __future__ import annotations

import pytest
import torch

from bench.config.schema import ModelConfig
from bench.measuring.correctness import compare
from bench.measuring.logits import last_logits
from bench.models.build import build_model, hf_config
from bench.models.prompts import make_prompts, pad_token_id
from strategies.base import StrategyContext
from strategies.registry import REGISTRY
from bench.config.options import build_options

CPU = torch.device("cpu")


@pytest.mark.parametrize("name", ["cuda-graph", "jit+cuda"])
def test_graph_strategies_are_unavailable_on_cpu_with_a_reason(name):
    reason = REGISTRY[name].unavailable_reason(CPU)
    assert reason and "CUDA" in reason


@pytest.mark.parametrize("name,options", [
    ("jit-only", {"forward_jit": "none"}),
    ("jit-only", {"forward_jit": "inductor"}),
    ("jit-only", {"forward_jit": "none", "fuse_projections": True}),
    ("torch-compile", {"mode": "default"}),  # reduce-overhead's CUDA graphs don't exist on a CPU
    ("hf-generate", {}),
])
def test_cpu_strategies_match_the_baseline(name, options):
    spec = ModelConfig(preset="tiny-llama", dtype="float32", device="cpu")
    config = hf_config(spec)
    model = build_model(spec, config, CPU)
    lengths = (3, 40)
    ctx = StrategyContext(CPU, torch.float32, lengths, config.vocab_size, pad_token_id(config), "greedy", 0.7)
    prompts = make_prompts(lengths, 0, config)
    with torch.inference_mode():
        base = REGISTRY["baseline"](None)
        base.setup(model, ctx)
        jit = REGISTRY[name](build_options(REGISTRY[name].options_type, options, name))
        jit.setup(model, ctx)
        for n in lengths:
            jit.compile_for(n)
            ids = prompts[n]
            verdict = compare(last_logits(jit, ids), jit.first_token(ids), last_logits(base, ids),
                              base.first_token(ids), torch.float32)
            assert verdict.matches, verdict.note
        jit.close()


def test_torch_compile_allows_one_compile_per_length(monkeypatch):
    # with dynamo's default of 8, a ninth length would silently run eagerly under the peer's name
    monkeypatch.setattr(torch._dynamo.config, "recompile_limit", 8)
    spec = ModelConfig(preset="tiny-llama", dtype="float32", device="cpu")
    config = hf_config(spec)
    lengths = tuple(range(10, 130, 10))  # 12 lengths
    ctx = StrategyContext(CPU, torch.float32, lengths, config.vocab_size, pad_token_id(config), "greedy", 0.7)
    peer = REGISTRY["torch-compile"](build_options(REGISTRY["torch-compile"].options_type, {"mode": "default"}, "x"))
    peer.setup(build_model(spec, config, CPU), ctx)
    assert torch._dynamo.config.recompile_limit == 14
    assert any("recompile_limit raised from 8 to 14" in note for note in peer.notes)
    peer.close()


def test_option_types_name_each_registered_strategys_options():
    from strategies.option_types import OPTION_TYPES
    assert {name: cls.options_type for name, cls in REGISTRY.items()} == OPTION_TYPES
