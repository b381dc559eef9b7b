"""Strategies on the CPU: graph strategies say why they can't run; jit-only matches the baseline."""
from __future__ import annotations

import pytest
import torch

from bench.config import ModelConfig
from bench.correctness import compare
from bench.measure import last_logits
from bench.models import build_model, hf_config
from bench.prompts import make_prompts, pad_token_id
from strategies import REGISTRY, StrategyContext
from strategies.options import build_options

CPU = torch.device("cpu")


@pytest.mark.parametrize("name", ["cuda-graph", "jit+cuda"])
def test_graph_strategies_are_unavailable_on_cpu_with_a_reason(name):
    reason = REGISTRY[name].unavailable_reason(CPU)
    assert reason and "CUDA" in reason


@pytest.mark.parametrize("options", [{"forward_jit": "none"}, {"forward_jit": "inductor"}])
def test_jit_only_matches_the_baseline_on_cpu(options):
    spec = ModelConfig(preset="tiny-llama", dtype="float32", device="cpu")
    config = hf_config(spec)
    model = build_model(spec, config, CPU)
    lengths = (3, 40)
    ctx = StrategyContext(CPU, torch.float32, lengths, config.vocab_size, pad_token_id(config), "greedy", 0.7)
    prompts = make_prompts(lengths, 0, config)
    with torch.inference_mode():
        base = REGISTRY["baseline"](None)
        base.setup(model, ctx)
        jit = REGISTRY["jit-only"](build_options(REGISTRY["jit-only"].options_type, options, "jit-only"))
        jit.setup(model, ctx)
        for n in lengths:
            compiled = jit.compile_for(n)
            assert compiled == (options["forward_jit"] == "inductor")
            ids = prompts[n]
            verdict = compare(last_logits(jit, ids), jit.first_token(ids), last_logits(base, ids),
                              base.first_token(ids), torch.float32)
            assert verdict.matches, verdict.note
        jit.close()
