"""The fused-projection forward computes the HF forward's numbers and shares its weights."""
from __future__ import annotations

import pytest
import torch

from bench.config.schema import ModelConfig
from bench.models.build import build_model, hf_config
from strategies.fused_llama import FusedLlama, unfusable_reason
from strategies.last_logits import hf_last_logits


@pytest.fixture()
def tiny():
    spec = ModelConfig(preset="tiny-llama", dtype="float32", device="cpu")
    return build_model(spec, hf_config(spec), torch.device("cpu"))


def ids_and_last(length: int, real: int, vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(0, vocab, (1, length), generator=torch.Generator().manual_seed(length))
    return ids, torch.tensor([real - 1])


@pytest.mark.parametrize("length,real", [(1, 1), (7, 7), (33, 20), (128, 128)])
def test_fused_forward_matches_hf(tiny, length, real):
    ids, last = ids_and_last(length, real, tiny.config.vocab_size)
    with torch.inference_mode():
        expected = hf_last_logits(tiny)(ids, last)
        got = FusedLlama(tiny)(ids, last)
    assert got.shape == expected.shape == (1, 1, tiny.config.vocab_size)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_fusion_shares_weights_and_keeps_the_hf_model_working(tiny):
    ids, last = ids_and_last(12, 12, tiny.config.vocab_size)
    with torch.inference_mode():
        before = hf_last_logits(tiny)(ids, last)
        fused = FusedLlama(tiny)
        after = hf_last_logits(tiny)(ids, last)
    torch.testing.assert_close(after, before, rtol=0, atol=0)
    attn = tiny.model.layers[0].self_attn
    assert attn.q_proj.weight.data_ptr() == fused.layers[0].qkv_weight.data_ptr()
    assert attn.k_proj.weight.untyped_storage().data_ptr() == fused.layers[0].qkv_weight.untyped_storage().data_ptr()


def test_padding_past_the_last_real_token_does_not_change_its_logits(tiny):
    ids, last = ids_and_last(40, 25, tiny.config.vocab_size)
    padded = ids.clone()
    padded[:, 25:] = 0
    with torch.inference_mode():
        fused = FusedLlama(tiny)
        torch.testing.assert_close(fused(padded, last), fused(ids, last), rtol=0, atol=0)


def test_models_outside_the_llama_layout_are_refused_with_a_reason(tiny):
    tiny.config.mlp_bias = True
    assert "biases" in unfusable_reason(tiny)
    tiny.config.mlp_bias = False
    tiny.config.hidden_act = "gelu"
    assert "gelu" in unfusable_reason(tiny)
    with pytest.raises(ValueError, match="gelu"):
        FusedLlama(tiny)
    not_llama = torch.nn.Linear(2, 2)
    not_llama.config = tiny.config
    assert "Llama-family" in unfusable_reason(not_llama)
