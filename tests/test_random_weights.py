"""Random weights drawn tile by tile: any block equals the slice of the whole, on meta or real models."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

from bench.models.random_weights import (BIAS_STD, NORM_NOISE, materialize, parameter_values,
                                         standard_normal_block)

CPU = torch.device("cpu")
SMALL_TILE = (4, 3)  # tiles far smaller than the tensors, so every block crosses tile edges


def tiny_llama_with_biases() -> LlamaConfig:
    return LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=4, num_key_value_heads=2, attention_bias=True, mlp_bias=True,
                       initializer_range=0.05)


def test_any_block_equals_the_slice_of_the_whole_tensor():
    full = standard_normal_block(7, "w", (10, 7), (slice(None), slice(None)), CPU, SMALL_TILE)
    for rows, cols in [(slice(3, 9), slice(2, 6)), (slice(0, 5), slice(None)), (slice(None), slice(5, 7))]:
        assert torch.equal(standard_normal_block(7, "w", (10, 7), (rows, cols), CPU, SMALL_TILE), full[rows, cols])
    halves = [standard_normal_block(7, "w", (10, 7), (slice(None), slice(c, c + 7 // 2 + 1)), CPU, SMALL_TILE)
              for c in (0, 4)]
    assert torch.equal(torch.cat(halves, dim=1), full)
    vector = standard_normal_block(7, "b", (10,), (slice(None),), CPU, SMALL_TILE)
    assert torch.equal(standard_normal_block(7, "b", (10,), (slice(5, 10),), CPU, SMALL_TILE), vector[5:])


def test_values_differ_by_seed_name_and_tile():
    block = (slice(None), slice(None))
    base = standard_normal_block(7, "w", (8, 6), block, CPU, SMALL_TILE)
    assert not torch.equal(base, standard_normal_block(8, "w", (8, 6), block, CPU, SMALL_TILE))
    assert not torch.equal(base, standard_normal_block(7, "v", (8, 6), block, CPU, SMALL_TILE))
    # each tile has its own stream: neighbours along rows and along columns differ
    assert not torch.equal(base[:4, :3], base[4:8, :3]) and not torch.equal(base[:4, :3], base[:4, 3:6])


def test_every_role_gets_non_trivial_values():
    shape = (4096,)
    norm = parameter_values("model.norm.weight", shape, (slice(None),), 0, 0.05, CPU)
    bias = parameter_values("q_proj.bias", shape, (slice(None),), 0, 0.05, CPU)
    matrix = parameter_values("q_proj.weight", (64, 64), (slice(None), slice(None)), 0, 0.05, CPU)
    assert norm.mean().item() == pytest.approx(1.0, abs=0.01) and norm.std().item() == pytest.approx(NORM_NOISE, rel=0.1)
    assert bias.mean().item() == pytest.approx(0.0, abs=0.002) and bias.std().item() == pytest.approx(BIAS_STD, rel=0.1)
    assert matrix.std().item() == pytest.approx(0.05, rel=0.1)


def test_meta_build_equals_real_build_buffers_included():
    config = tiny_llama_with_biases()
    real = materialize(AutoModelForCausalLM.from_config(config), 3, CPU, tile=SMALL_TILE).eval()
    with torch.device("meta"):
        meta = AutoModelForCausalLM.from_config(config)
    materialize(meta, 3, CPU, tile=SMALL_TILE).eval()
    assert all(torch.equal(a, b) for a, b in zip(real.parameters(), meta.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(real.buffers(), meta.buffers()))
    ids = torch.arange(9)[None]
    with torch.no_grad():
        assert torch.equal(real(ids).logits, meta(ids).logits)


def test_meta_build_keeps_tied_embeddings_tied():
    config = Qwen2Config(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    materialize(model, 3, CPU)
    assert model.lm_head.weight is model.model.embed_tokens.weight


def test_a_block_that_does_not_fit_the_local_tensor_is_refused():
    model = AutoModelForCausalLM.from_config(tiny_llama_with_biases())
    with pytest.raises(ValueError, match="q_proj.weight: local block"):
        materialize(model, 0, CPU, local_slice=lambda name, p: (slice(0, 8), slice(None)) if "q_proj.weight" in name
                    else None)
