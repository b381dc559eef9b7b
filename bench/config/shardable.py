"""Can a model be split over N ranks? Decided from its config fields alone (no torch), so the config
check refuses a tensor_parallel the plan (plan.py) would refuse, before any process starts.

    reason = unshardable_reason({"model_type": "llama", "num_attention_heads": 32, ...}, 2)  # None: it splits
"""
from __future__ import annotations

# Decoder layers of these model types hold the Llama layout: model.layers[i].self_attn.{q,k,v,o}_proj
# and model.layers[i].mlp.{gate,up,down}_proj, all nn.Linear.
SUPPORTED_MODEL_TYPES = ("llama", "mistral", "qwen2")


def unshardable_reason(fields: dict, world_size: int) -> str | None:
    """Why a model with these config.json fields cannot be split over world_size ranks, or None.
    A rank owns whole heads, whole key/value heads and an equal slice of the MLP."""
    model_type = fields.get("model_type")
    if model_type not in SUPPORTED_MODEL_TYPES:
        return (f"model type {model_type!r} has no tensor-parallel plan here "
                f"(supported: {', '.join(SUPPORTED_MODEL_TYPES)})")
    if world_size < 1:
        return f"tensor_parallel must be >= 1, got {world_size}"
    sizes = {
        "num_attention_heads": fields.get("num_attention_heads"),
        "num_key_value_heads": fields.get("num_key_value_heads") or fields.get("num_attention_heads"),
        "intermediate_size": fields.get("intermediate_size"),
    }
    for key, size in sizes.items():
        if not isinstance(size, int):
            return f"{key} is not given, so the split cannot be checked"
        if size % world_size:
            return f"{key} = {size} is not divisible by tensor_parallel = {world_size}"
    return None
