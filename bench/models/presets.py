"""Built-in architecture shapes. Random weights are exact for timing: kernels don't look at values."""
from __future__ import annotations

from transformers import LlamaConfig

PRESETS: dict[str, dict] = {
    # a few MB: the whole default sweep runs on a 2-core CPU in well under a minute
    "tiny-llama": dict(
        vocab_size=1024, hidden_size=64, intermediate_size=176,  # 176 ~ 8/3 x 64, as Llama's MLP ratio
        num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2,  # GQA, so the tiny model exercises the same attention path as Llama-3
        max_position_embeddings=2048,
    ),
    # meta-llama/Llama-2-7b-hf's config.json
    "llama-2-7b": dict(
        vocab_size=32000, hidden_size=4096, intermediate_size=11008,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
        max_position_embeddings=4096, rms_norm_eps=1e-5,
    ),
    # meta-llama/Meta-Llama-3-8B's config.json
    "llama-3-8b": dict(
        vocab_size=128256, hidden_size=4096, intermediate_size=14336,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
        max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=500000.0,
        bos_token_id=128000, eos_token_id=128001,
    ),
}


def preset_config(name: str) -> LlamaConfig:
    """The transformers config of a preset."""
    return LlamaConfig(**PRESETS[name])
