"""Built-in architecture shapes. Random weights are exact for timing: kernels don't look at values.

Pure data: validating a config reads PRESETS without loading transformers; bench.models.build's
preset_config builds the transformers config from a preset's `model_type` only when a model is wanted.
"""
from __future__ import annotations

# the tiny shape every tiny family shares: a few MB, a default sweep runs on a 2-core CPU in seconds
# special tokens inside the tiny vocabulary (some families' defaults lie past it)
TINY_TOKENS = dict(bos_token_id=1, eos_token_id=2, pad_token_id=None)
TINY = dict(TINY_TOKENS, vocab_size=1024, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
            max_position_embeddings=2048)
TINY_GQA = dict(TINY, num_key_value_heads=2)  # grouped-query attention, as Llama-3, Mistral, Qwen2
INTERMEDIATE = 176  # ~ 8/3 x 64, Llama's MLP ratio

# One tiny model per causal-LM family the strategies are proven on (tests/test_families.py, and
# on CUDA tests/test_gpu.py). Each sets the feature that makes its family differ from Llama.
TINY_FAMILIES: dict[str, dict] = {
    "tiny-llama": dict(TINY_GQA, model_type="llama", intermediate_size=INTERMEDIATE),
    # a window shorter than the test prompts, so the sliding-window mask is exercised
    "tiny-mistral": dict(TINY_GQA, model_type="mistral", intermediate_size=INTERMEDIATE, sliding_window=8),
    "tiny-qwen2": dict(TINY_GQA, model_type="qwen2", intermediate_size=INTERMEDIATE),  # q/k/v biases
    "tiny-qwen3": dict(TINY_GQA, model_type="qwen3", intermediate_size=INTERMEDIATE, head_dim=32),  # q/k norms, wider heads
    "tiny-granite": dict(TINY_GQA, model_type="granite", intermediate_size=INTERMEDIATE, embedding_multiplier=12.0,
                         residual_multiplier=0.22, attention_multiplier=0.0078125, logits_scaling=8.0),  # Granite-3's values
    "tiny-gemma": dict(TINY_GQA, model_type="gemma", intermediate_size=INTERMEDIATE, head_dim=16),
    "tiny-gemma2": dict(TINY_GQA, model_type="gemma2", intermediate_size=INTERMEDIATE, head_dim=16,
                        sliding_window=8),  # soft-capping, alternating sliding layers
    "tiny-phi3": dict(TINY_GQA, model_type="phi3", intermediate_size=INTERMEDIATE),  # fused qkv_proj, gate_up_proj
    "tiny-gpt2": dict(TINY_TOKENS, model_type="gpt2", vocab_size=1024, n_embd=64, n_layer=2, n_head=4, n_positions=2048),
    "tiny-gpt-neox": dict(TINY, model_type="gpt_neox", intermediate_size=256),  # parallel residual, partial rotary
    "tiny-olmo2": dict(TINY_GQA, model_type="olmo2", intermediate_size=INTERMEDIATE),  # norms after the blocks
    "tiny-mixtral": dict(TINY_GQA, model_type="mixtral", intermediate_size=INTERMEDIATE, num_local_experts=4,
                         num_experts_per_tok=2),
    "tiny-qwen2-moe": dict(TINY_GQA, model_type="qwen2_moe", intermediate_size=INTERMEDIATE, moe_intermediate_size=64,
                           shared_expert_intermediate_size=INTERMEDIATE, num_experts=4, num_experts_per_tok=2),
}

PRESETS: dict[str, dict] = {
    **TINY_FAMILIES,
    # meta-llama/Llama-2-7b-hf's config.json
    "llama-2-7b": dict(
        model_type="llama", vocab_size=32000, hidden_size=4096, intermediate_size=11008,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32,
        max_position_embeddings=4096, rms_norm_eps=1e-5,
    ),
    # meta-llama/Llama-2-70b-hf's config.json: GQA 64:8, 80 layers; 140 GB in float16, so tensor parallel only
    "llama-2-70b": dict(
        model_type="llama", vocab_size=32000, hidden_size=8192, intermediate_size=28672,
        num_hidden_layers=80, num_attention_heads=64, num_key_value_heads=8,
        max_position_embeddings=4096, rms_norm_eps=1e-5,
    ),
    # meta-llama/Meta-Llama-3-8B's config.json
    "llama-3-8b": dict(
        model_type="llama", vocab_size=128256, hidden_size=4096, intermediate_size=14336,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
        max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=500000.0,
        bos_token_id=128000, eos_token_id=128001,
    ),
    # Qwen/Qwen2-7B's config.json: q/k/v projections with biases, GQA 28:4, untied 152k vocabulary
    "qwen2-7b": dict(
        model_type="qwen2", vocab_size=152064, hidden_size=3584, intermediate_size=18944,
        num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
        max_position_embeddings=131072, rms_norm_eps=1e-6, rope_theta=1000000.0,
        tie_word_embeddings=False, bos_token_id=151643, eos_token_id=151643,
    ),
    # mistralai/Mistral-7B-v0.3's config.json: GQA 32:8, no sliding window
    "mistral-7b": dict(
        model_type="mistral", vocab_size=32768, hidden_size=4096, intermediate_size=14336,
        num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
        max_position_embeddings=32768, rms_norm_eps=1e-5, rope_theta=1000000.0, sliding_window=None,
    ),
    # EleutherAI/pythia-6.9b's config.json: no Llama layout (one query_key_value matmul with biases,
    # LayerNorm, GELU, parallel attention and MLP, rotary on a quarter of each head)
    "pythia-6.9b": dict(
        model_type="gpt_neox", vocab_size=50432, hidden_size=4096, intermediate_size=16384,
        num_hidden_layers=32, num_attention_heads=32, max_position_embeddings=2048,
        rotary_pct=0.25, rotary_emb_base=10000, layer_norm_eps=1e-5, use_parallel_residual=True,
        hidden_act="gelu", tie_word_embeddings=False, bos_token_id=0, eos_token_id=0,
    ),
}
