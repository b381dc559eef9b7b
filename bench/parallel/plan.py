"""The tensor-parallel plan of a transformers causal LM: which Linear is split which way.

Usage: `check_shardable(config, world_size)` in the parent refuses a model before any rank starts;
then every rank, after torch.distributed is initialised:

    mesh = init_device_mesh("cuda", (world_size,))
    parallelize_module(model, mesh, tensor_parallel_plan(model, world_size))

The Megatron / torchtitan scheme, the one transformers' `base_model_tp_plan` names for these
families: q/k/v and gate/up split by output features (column-wise, each rank owns whole heads and
a slice of the MLP), o and down split by input features (row-wise), so each layer makes two
all-reduces (after o_proj and after down_proj) and nothing else. The attention code reshapes
with -1 heads and keeps heads/kv-heads as a ratio, so it runs unchanged on a rank's heads.

Embeddings and lm_head stay whole on every rank: a batch-1 prefill gathers only n rows of the
embedding table, and lm_head runs on one position (one matrix-vector product); splitting either
would add a collective per forward to save one read of vocab x hidden weights.
"""
from __future__ import annotations

from torch import nn
from torch.distributed.tensor.parallel import ColwiseParallel, ParallelStyle, RowwiseParallel

from bench.config.shardable import unshardable_reason

COLUMN_WISE = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "mlp.gate_proj", "mlp.up_proj")
ROW_WISE = ("self_attn.o_proj", "mlp.down_proj")


class ShardingRefused(ValueError):
    """The model cannot be split over this many ranks; the message is the one-line reason."""


def tensor_parallel_plan(model: nn.Module, world_size: int) -> dict[str, ParallelStyle]:
    """Module name -> ColwiseParallel / RowwiseParallel for every decoder layer, or ShardingRefused."""
    config = getattr(model, "config", None)
    check_shardable(config, world_size)
    model_type = config.model_type
    layers = getattr(getattr(model, "model", None), "layers", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) != config.num_hidden_layers:
        raise ShardingRefused(f"{model_type}: expected model.model.layers with {config.num_hidden_layers} "
                              "decoder layers, found another layout")
    plan: dict[str, ParallelStyle] = {}
    for index, layer in enumerate(layers):
        for suffix in COLUMN_WISE + ROW_WISE:
            if not isinstance(_submodule(layer, suffix), nn.Linear):
                raise ShardingRefused(f"{model_type}: layer {index} has no nn.Linear {suffix}; unknown layout")
            # use_local_output (the default): the attention reshapes plain local tensors of its own heads
            plan[f"model.layers.{index}.{suffix}"] = ColwiseParallel() if suffix in COLUMN_WISE else RowwiseParallel()
    return plan


def check_shardable(config, world_size: int) -> None:
    """ShardingRefused unless the config is a supported family whose heads, kv-heads and MLP width split
    evenly (a rank owns whole heads); needs no model, so a parent can refuse before starting ranks."""
    fields = {key: getattr(config, key, None) for key in
              ("model_type", "num_attention_heads", "num_key_value_heads", "intermediate_size")}
    reason = unshardable_reason(fields, world_size)
    if reason:
        raise ShardingRefused(reason)


def _submodule(module: nn.Module, path: str) -> nn.Module | None:
    try:
        return module.get_submodule(path)
    except AttributeError:
        return None
