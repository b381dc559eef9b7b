"""Which models the fused forward (fused_forward.py) takes: an allow-list of model types whose
fused forward is proven equal to the HF forward on perturbed random weights
(tests/test_families.py), and per family every config key its HF modeling code reads, each either
honoured exactly as that code does, refused when set, or irrelevant to a first token
(tests/test_fused_support.py walks the installed HF code and fails on a key in none of the tables).
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

# The config keys a proven family's HF code reads that the fused forward computes exactly as that code does, with how.
MODULES = "sizes the model's own modules, whose weights the fused forward uses"
HEADS = "q/k/v split by the HF attention module's head_dim and num_key_value_groups"
ROTARY = ("the model's own rotary_emb computes cos and sin (every rope type's init, dynamic update and attention "
          "scaling); the fused forward applies them as the family's apply_rotary_pos_emb does")
ROPE_KEYS = ("max_position_embeddings", "rope_parameters", *(f"rope_parameters.{key}" for key in (
    "rope_type", "rope_theta", "partial_rotary_factor", "factor", "original_max_position_embeddings",
    "attention_factor", "beta_fast", "beta_slow", "mscale", "mscale_all_dim", "truncate", "short_factor",
    "long_factor", "low_freq_factor", "high_freq_factor")))
EVERY_FAMILY = {
    "hidden_size": MODULES, "intermediate_size": MODULES, "vocab_size": MODULES,
    "num_attention_heads": HEADS, "num_key_value_heads": HEADS, "head_dim": HEADS,
    "num_hidden_layers": "the fused forward runs layers[:num_hidden_layers], as the HF forward does",
    "rms_norm_eps": "the model's own RMSNorm modules are called",
    **{key: ROTARY for key in ROPE_KEYS},
}
ATTENTION_BIAS = {"attention_bias": "q/k/v biases fused with their weights, o_proj's added after its matmul"}
MLP_BIAS = {"mlp_bias": "gate/up biases fused with their weights, down_proj's added after its matmul"}
PER_LAYER_WINDOW = {
    "layer_types": "layer_windows: the layers it marks sliding_attention; kinds other than full or sliding: refused",
    "sliding_window": "layer_windows: the window of the layers layer_types marks sliding_attention",
}
HONOURED: dict[str, dict[str, str]] = {
    "llama": {**EVERY_FAMILY, **ATTENTION_BIAS, **MLP_BIAS},
    "mistral": {**EVERY_FAMILY, "sliding_window": "layer_windows: every layer's window, as MistralModel masks"},
    "qwen2": {**EVERY_FAMILY, **PER_LAYER_WINDOW},  # its q/k/v biases are always there: no key
    "qwen3": {**EVERY_FAMILY, **ATTENTION_BIAS, **PER_LAYER_WINDOW},
    "granite": {**EVERY_FAMILY, **ATTENTION_BIAS, **MLP_BIAS,
                "attention_multiplier": "the HF attention module's scaling, passed to SDPA",
                "embedding_multiplier": "the HF body's embedding_multiplier, applied to the embeddings",
                "residual_multiplier": "each HF layer's residual_multiplier, applied to both residual branches",
                "logits_scaling": "divides the logits, as GraniteForCausalLM does"},
}

# Keys HF's code reads that the fused forward does not implement: key -> (the value it implements, why refused)
REFUSED_IF_SET = {
    "hidden_act": ("silu", "the fused MLP is SiLU only"),
    "is_causal": (True, "false makes HF's masks bidirectional; the fused forward is causal"),
}

# Keys HF's code reads that cannot change a first token's logits, with why
IRRELEVANT = {
    "_attn_implementation": "which kernel computes softmax(q k^T * scaling + mask) v; each computes that one function",
    "attention_dropout": "applied only in training; the benchmarked model is in eval mode",
    "pad_token_id": "the embedding's padding_idx only keeps that row's gradient at zero; lookups are unchanged",
    "per_layer_config": "read by rope init only for a per-layer rope, which these families' rotary_emb never asks",
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


def layer_windows(config) -> list[int | None]:
    """Each layer's sliding window (None: causal over the whole prompt), read only where the family's HF code
    reads one: Llama and Granite never do, though transformers keeps a sliding_window a config.json sets."""
    layers = config.num_hidden_layers
    if config.model_type == "mistral":  # MistralModel masks every layer with it when it is set
        return [config.sliding_window] * layers
    if "layer_types" in HONOURED[config.model_type]:  # Qwen2, Qwen3: the layers layer_types marks sliding
        return [config.sliding_window if kind == "sliding_attention" else None for kind in config.layer_types[:layers]]
    return [None] * layers


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
    for key, (implemented, why) in REFUSED_IF_SET.items():
        value = getattr(config, key, implemented)  # HF reads each with this default where the config lacks it
        if value != implemented:
            return f"{prefix}: {key} {value!r} ({why}); HF forward"
    if "layer_types" in HONOURED[model_type]:
        kinds = set(config.layer_types) - {"full_attention", "sliding_attention"}
        if kinds:
            return f"{prefix}: layer types {sorted(kinds)} (full and sliding attention only); HF forward"
    return None
