"""The TP plan: column-wise q/k/v/gate/up, row-wise o/down; models it cannot split are refused with a reason."""
from __future__ import annotations

import pytest
import torch
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, MistralConfig, Qwen2Config

from bench.parallel.plan import ShardingRefused, check_shardable, tensor_parallel_plan

SHAPE = dict(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
             num_attention_heads=4, num_key_value_heads=2)


def meta_model(config):
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


@pytest.mark.parametrize("config_class", [LlamaConfig, MistralConfig, Qwen2Config])
def test_every_projection_of_every_layer_is_split_the_megatron_way(config_class):
    plan = tensor_parallel_plan(meta_model(config_class(**SHAPE)), 2)
    assert len(plan) == 2 * 7
    for layer in (0, 1):
        for name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.gate_proj", "mlp.up_proj"):
            assert type(plan[f"model.layers.{layer}.{name}"]) is ColwiseParallel
        for name in ("self_attn.o_proj", "mlp.down_proj"):
            assert type(plan[f"model.layers.{layer}.{name}"]) is RowwiseParallel
    assert not any("embed" in name or "lm_head" in name for name in plan)


@pytest.mark.parametrize("change, reason", [
    (dict(num_attention_heads=8, num_key_value_heads=8, hidden_size=48), "num_attention_heads = 8 is not divisible by tensor_parallel = 3"),
    (dict(num_attention_heads=6, num_key_value_heads=2, hidden_size=48), "num_key_value_heads = 2 is not divisible"),
    (dict(num_attention_heads=6, num_key_value_heads=3, hidden_size=48, intermediate_size=64), "intermediate_size = 64"),
])
def test_sizes_that_do_not_split_evenly_are_refused(change, reason):
    with pytest.raises(ShardingRefused, match=reason):
        tensor_parallel_plan(meta_model(LlamaConfig(**{**SHAPE, **change})), 3)


def test_unknown_model_type_is_refused_from_the_config_alone():
    config = GPT2Config(n_embd=32, n_layer=1, n_head=4, vocab_size=64)
    with pytest.raises(ShardingRefused, match="model type 'gpt2' has no tensor-parallel plan"):
        check_shardable(config, 2)
    with pytest.raises(ShardingRefused, match="model type 'gpt2'"):
        tensor_parallel_plan(meta_model(config), 2)
    with pytest.raises(ShardingRefused, match="tensor_parallel must be >= 1, got 0"):
        check_shardable(LlamaConfig(**SHAPE), 0)


def test_a_layer_without_the_expected_linear_is_an_unknown_layout():
    model = meta_model(LlamaConfig(**SHAPE))
    del model.model.layers[1].mlp.up_proj
    with pytest.raises(ShardingRefused, match="layer 1 has no nn.Linear mlp.up_proj"):
        tensor_parallel_plan(model, 2)
