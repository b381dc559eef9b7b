"""Strategies on the CPU: graph strategies say why they can't run; jit-only matches the baseline;
regional compilation equals the whole-model compile. The family matrix: tests/test_families.py."""
from __future__ import annotations

import pytest
import torch

from bench.config.schema import ModelConfig
from bench.models.build import build_model, hf_config
from bench.models.prompts import pad_token_id
from strategies.base import Strategy, StrategyContext
from strategies.jit_forward import LAYER_SCOPE_FALLBACK, jit_forward
from strategies.option_types import JitOptions
from strategies.options import OptionError
from strategies.registry import REGISTRY
from bench.config.options import build_options
from tests.family_checks import strategy_matches_baseline

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
    strategy_matches_baseline("tiny-llama", name, options)


def test_torch_compile_allows_one_compile_per_length():
    # with dynamo's default of 8, a ninth length would silently run eagerly under the peer's name;
    # set and restored by hand: monkeypatch's undo deletes the config entry, breaking later compiles
    saved = torch._dynamo.config.recompile_limit
    torch._dynamo.config.recompile_limit = 8
    try:
        check_recompile_limit_is_raised()
    finally:
        torch._dynamo.config.recompile_limit = saved


def check_recompile_limit_is_raised():
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


def tiny_model(preset: str) -> torch.nn.Module:
    spec = ModelConfig(preset=preset, dtype="float32", device="cpu")
    return build_model(spec, hf_config(spec), CPU)


@pytest.mark.slow
def test_regional_compile_compiles_one_layer_once_and_equals_the_whole_model():
    from torch._dynamo.utils import counters
    model = tiny_model("tiny-qwen3")
    calls = [(torch.randint(3, 1024, (1, n)), torch.tensor([n - 1])) for n in (30, 12)]
    notes: list[str] = []
    torch._dynamo.reset()
    counters.clear()
    with torch.inference_mode():
        regional = jit_forward(model, JitOptions(compile_scope="layer"), notes)
        got = [regional(ids, last) for ids, last in calls]
        assert all(layer._compiled_call_impl is not None for layer in regional.layers)
        # two layers, two lengths, one graph: the layer's code is compiled once (dynamic) and reused
        assert counters["stats"]["unique_graphs"] == 1
        whole = jit_forward(model, JitOptions(compile_scope="model"), notes)
        for (ids, last), logits in zip(calls, got):
            torch.testing.assert_close(logits, whole(ids, last), rtol=1e-5, atol=1e-5)
    assert not notes
    torch._dynamo.reset()


@pytest.mark.parametrize("preset,fuse", [("tiny-gpt2", "auto"), ("tiny-llama", False)])
def test_layer_scope_compiles_the_whole_hf_forward_and_says_why(preset, fuse):
    notes: list[str] = []
    forward = jit_forward(tiny_model(preset), JitOptions(fuse_projections=fuse), notes)
    assert LAYER_SCOPE_FALLBACK in notes and not hasattr(forward, "layers")
    notes.clear()
    jit_forward(tiny_model(preset), JitOptions(fuse_projections=fuse, compile_scope="model"), notes)
    assert LAYER_SCOPE_FALLBACK not in notes


@pytest.mark.parametrize("options,message", [
    ({"fuse_projections": "yes"}, "fuse_projections: unknown value 'yes'; allowed: auto, true, false"),
    ({"fuse_projections": 1}, "fuse_projections: unknown value 1"),
    ({"compile_scope": "block"}, "compile_scope: unknown value 'block'; allowed: layer, model"),
])
def test_jit_options_name_the_bad_key(options, message):
    with pytest.raises(OptionError, match=message):
        JitOptions(**options)
    assert JitOptions().fuse_projections == "auto" and JitOptions().compile_scope == "layer"


class OneOutputBuffer(Strategy):
    """A strategy without a batched path whose every call overwrites one output buffer (as a graph does):
    the logits are all equal to the prompt's length."""
    name = "one-output-buffer"

    def setup(self, model, ctx):
        self.ctx = ctx
        self.buffer = torch.zeros(8)

    def logits(self, input_ids):
        return self.buffer.fill_(len(input_ids))


def test_the_default_batch_keeps_each_rows_own_logits():
    strategy = OneOutputBuffer(None)
    strategy.setup(None, StrategyContext(CPU, torch.float32, (1,), 8, 0, "greedy", 0.7))
    answers = strategy.first_tokens([[1], [1, 2], [1, 2, 3]])
    assert [answer.logits.tolist() for answer in answers] == [[n] * 8 for n in (1, 2, 3)]
