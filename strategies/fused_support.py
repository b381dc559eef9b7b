"""Which models the fused forward (fused_forward.py) takes: an allow-list of model types whose
fused forward is proven equal to the HF forward on perturbed random weights
(tests/test_families.py), each checked for the config features the fused forward handles.
Every other model gets the HF forward and the reason, which the strategy puts in its notes."""
from __future__ import annotations

# model_type -> the causal-LM class proven; the class name guards against remote code that
# reuses a model_type with a different forward
PROVEN = {
    "llama": "LlamaForCausalLM",
    "mistral": "MistralForCausalLM",  # sliding-window attention: the fused forward builds the band mask
    "qwen2": "Qwen2ForCausalLM",  # q/k/v biases: fused with the weights
    "qwen3": "Qwen3ForCausalLM",  # per-head q/k RMSNorm: applied as the HF layer does
    "granite": "GraniteForCausalLM",  # embedding, residual, attention and logits multipliers
}

# families refused on purpose, with what the fused forward would have to do differently
REFUSED = {
    "gemma": "embeddings scaled by sqrt(hidden) and a GELU-tanh MLP",
    "gemma2": "logit soft-capping and norms after attention and MLP",
    "gemma3_text": "norms after attention and MLP, q/k norms and local/global rotary",
    "phi3": "its checkpoint already fuses q/k/v and gate/up (qkv_proj, gate_up_proj): nothing to gain",
    "gpt2": "learned positions, LayerNorm, GELU and Conv1D projections",
    "gpt_neox": "one query_key_value matmul, LayerNorm, parallel attention and MLP, partial rotary",
    "olmo2": "norms after attention and MLP and q/k norms over all heads",
    "mixtral": "a mixture-of-experts MLP",
    "qwen2_moe": "a mixture-of-experts MLP",
    "qwen3_moe": "a mixture-of-experts MLP",
}

LAYER_PARTS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm", "post_attention_layernorm")
BODY_PARTS = ("embed_tokens", "layers", "norm", "rotary_emb")


def has_submodule(module, path: str) -> bool:
    try:
        module.get_submodule(path)
        return True
    except AttributeError:
        return False


def unfusable_reason(model) -> str | None:
    """Why the fused forward does not take `model` (a sentence for the notes), or None if it does."""
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", None)
    prefix = f"fused forward not used for {model_type or type(model).__name__}"
    if model_type in REFUSED:
        return f"{prefix}: {REFUSED[model_type]}; HF forward"
    if model_type not in PROVEN:
        return f"{prefix}: not on the allow-list of proven families ({', '.join(PROVEN)}); HF forward"
    if type(model).__name__ != PROVEN[model_type]:
        return f"{prefix}: {type(model).__name__} is not the proven {PROVEN[model_type]}; HF forward"
    body = getattr(model, "model", None)
    if body is None or not all(hasattr(body, part) for part in BODY_PARTS) or not hasattr(model, "lm_head"):
        return f"{prefix}: no {', '.join(BODY_PARTS)} under model.model; HF forward"
    missing = [part for part in LAYER_PARTS if not has_submodule(body.layers[0], part)]
    if missing:
        return f"{prefix}: its layers have no {', '.join(missing)}; HF forward"
    if getattr(config, "hidden_act", None) != "silu":
        return f"{prefix}: activation {getattr(config, 'hidden_act', None)!r} (silu only); HF forward"
    kinds = set(getattr(config, "layer_types", None) or ()) - {"full_attention", "sliding_attention"}
    if kinds:
        return f"{prefix}: layer types {sorted(kinds)} (full and sliding attention only); HF forward"
    return None
