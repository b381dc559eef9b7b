"""A meta-device model made real: buffers recomputed, ties kept, blocks that do not fit refused."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

from bench.models.random_weights import materialize

CPU = torch.device("cpu")
SMALL_TILE = (4, 3)  # tiles far smaller than the tensors, so every block crosses tile edges


def tiny_llama_with_biases() -> LlamaConfig:
    return LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=4, num_key_value_heads=2, attention_bias=True, mlp_bias=True)


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


def test_a_buffer_that_transformers_cannot_recompute_is_refused():
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(tiny_llama_with_biases())
        model.model.register_buffer("scale_table", torch.empty(3))
    with pytest.raises(ValueError, match="buffer model.scale_table: transformers' init does not recompute it"):
        materialize(model, 0, CPU)
