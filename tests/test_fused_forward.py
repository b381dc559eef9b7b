"""The fused forward computes the HF forward's numbers, shares its weights and takes only the
families and features it was proven on."""
from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig

from strategies.fused_forward import FusedForward
from strategies.fused_support import unfusable_reason
from strategies.last_logits import hf_last_logits, last_logits_forward
from tests.conftest import ids_and_last, tiny


def max_diff(model: torch.nn.Module, length: int = 33, real: int = 20) -> float:
    ids, last = ids_and_last(length, real, model.config.vocab_size)
    with torch.inference_mode():
        return float((FusedForward(model)(ids, last) - hf_last_logits(model)(ids, last)).abs().max())


def test_llama_with_attention_and_mlp_biases_is_fused_with_its_biases():
    model = tiny(attention_bias=True, mlp_bias=True)
    assert unfusable_reason(model) is None
    assert max_diff(model) < 1e-5


def test_qwen2_sliding_layers_are_masked_to_their_window():
    model = tiny("tiny-qwen2", use_sliding_window=True, sliding_window=8, max_window_layers=1)
    assert model.config.layer_types == ["full_attention", "sliding_attention"]
    fused = FusedForward(model)
    assert [layer.window for layer in fused.layers] == [None, 8]
    assert max_diff(model) < 1e-5


@pytest.mark.parametrize("preset", ["tiny-llama", "tiny-granite"])
def test_a_window_the_familys_hf_code_never_reads_is_not_applied(preset):
    """transformers keeps a config.json's sliding_window on a Llama or Granite config, but their HF code never
    reads it: with a window just below the prompt (38 at 40 tokens) the fused forward still computes HF's
    function. In float64, so rounding cannot hide a difference (a window there moved Granite's logits by 8e-5)."""
    model = tiny(preset, sliding_window=38).double()
    assert model.config.sliding_window == 38
    assert max_diff(model, length=40, real=40) < 1e-10


def test_a_bidirectional_config_is_refused_for_hf_attends_both_ways():
    """is_causal false (read by HF's mask code, kept on any config) makes every family's HF forward bidirectional;
    the fused forward is causal, so it must fall back."""
    causal, bidirectional = tiny(), tiny(is_causal=False)
    ids, last = ids_and_last(40, 20, causal.config.vocab_size)
    with torch.inference_mode():
        moved = float((hf_last_logits(causal)(ids, last) - hf_last_logits(bidirectional)(ids, last)).abs().max())
    assert moved > 1e-2  # the same weights: only the mask differs
    reason = unfusable_reason(bidirectional)
    assert reason is not None and "is_causal False" in reason, reason


def test_fusion_shares_weights_and_keeps_the_hf_model_working():
    model = tiny("tiny-qwen2")
    ids, last = ids_and_last(12, 12, model.config.vocab_size)
    with torch.inference_mode():
        before = hf_last_logits(model)(ids, last)
        fused = FusedForward(model)
        after = hf_last_logits(model)(ids, last)
    torch.testing.assert_close(after, before, rtol=0, atol=0)
    attn = model.model.layers[0].self_attn
    assert attn.q_proj.weight.data_ptr() == fused.layers[0].qkv_weight.data_ptr()
    assert attn.k_proj.bias.untyped_storage().data_ptr() == fused.layers[0].qkv_bias.untyped_storage().data_ptr()


def test_padding_past_the_last_real_token_does_not_change_its_logits():
    model = tiny()
    ids, last = ids_and_last(40, 25, model.config.vocab_size)
    padded = ids.clone()
    padded[:, 25:] = 0
    with torch.inference_mode():
        fused = FusedForward(model)
        torch.testing.assert_close(fused(padded, last), fused(ids, last), rtol=0, atol=0)


def test_features_off_the_proven_path_are_refused_with_a_reason():
    assert "'gelu'" in unfusable_reason(tiny(hidden_act="gelu"))
    with pytest.raises(ValueError, match="gelu"):
        FusedForward(tiny(hidden_act="gelu"))
    assert "soft-capping" in unfusable_reason(tiny("tiny-gemma2"))
    renamed = type("MyLlamaForCausalLM", (torch.nn.Module,), {})()
    renamed.config = tiny().config
    assert "not the proven LlamaForCausalLM" in unfusable_reason(renamed)
    unknown = torch.nn.Linear(2, 2)
    unknown.config = AutoConfig.for_model("bloom")
    assert "not on the allow-list" in unfusable_reason(unknown)


def test_fuse_projections_picks_the_forward_and_notes_a_fallback():
    llama, gpt2 = tiny(), tiny("tiny-gpt2")
    notes: list[str] = []
    assert isinstance(last_logits_forward(llama, "auto", notes), FusedForward)
    assert isinstance(last_logits_forward(llama, True, notes), FusedForward) and not notes
    assert not isinstance(last_logits_forward(llama, False, notes), FusedForward) and not notes
    forward = last_logits_forward(gpt2, "auto", notes)
    assert not isinstance(forward, FusedForward) and notes and "gpt2" in notes[0]
    ids, last = ids_and_last(9, 9, gpt2.config.vocab_size)
    with torch.inference_mode():
        assert torch.equal(forward(ids, last), hf_last_logits(gpt2)(ids, last))
