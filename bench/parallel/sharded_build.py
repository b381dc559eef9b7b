"""Build a tensor-parallel model on every rank without the whole model ever existing in one place.

Usage (every rank, after torch.distributed is initialised):

    mesh = init_device_mesh("cuda", (world_size,))
    model = build_sharded_model(config, mesh, seed=0, dtype=torch.float16)
    logits = model(input_ids, use_cache=False, logits_to_keep=1).logits   # the same on every rank

The model is made on the meta device (shapes only), split by the plan (its split Linears hold
DTensors of meta local shards), then each rank draws only its own shards with random_weights; the
embedding and lm_head, kept whole, are drawn whole on every rank. A one-GPU model materialised with
the same seed on the same kind of device holds exactly the concatenation of the ranks' shards.

A safetensors checkpoint loads the same way, each rank reading only its blocks:

    model = load_sharded_model(config, "/path/to/checkpoint-folder", mesh, dtype=torch.float16)
"""
from __future__ import annotations

import torch
from torch import nn
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.tensor import DTensor, Shard
from torch.distributed.tensor.parallel import parallelize_module
from transformers import AutoModelForCausalLM, PretrainedConfig

from bench.config.names import AUTO_ATTENTION
from bench.models.attention import hf_attention
from bench.models.meta_fill import fill_parameters
from bench.models.random_weights import TILE_COLS, TILE_ROWS, materialize
from bench.models.safetensors_blocks import SafetensorsBlocks
from bench.parallel.plan import tensor_parallel_plan


def build_sharded_model(config: PretrainedConfig, mesh: DeviceMesh, seed: int, dtype: torch.dtype,
                        attn_implementation: str = AUTO_ATTENTION,
                        tile: tuple[int, int] = (TILE_ROWS, TILE_COLS)) -> nn.Module:
    """This rank's part of a random-weight model: split Linears hold their shard, the rest is whole; eval mode."""
    model = meta_parallel_model(config, mesh, dtype, attn_implementation)
    return materialize(model, seed, mesh_device(mesh), local_slice=dtensor_block, tile=tile).eval()


def load_sharded_model(config: PretrainedConfig, folder: str, mesh: DeviceMesh, dtype: torch.dtype,
                       attn_implementation: str = AUTO_ATTENTION) -> nn.Module:
    """This rank's part of a safetensors checkpoint, read block by block; eval mode."""
    blocks = SafetensorsBlocks(folder)  # a folder it cannot read fails here, before any model is made
    model = meta_parallel_model(config, mesh, dtype, attn_implementation)
    return fill_parameters(model, mesh_device(mesh), blocks, local_slice=dtensor_block).eval()


def meta_parallel_model(config: PretrainedConfig, mesh: DeviceMesh, dtype: torch.dtype,
                        attn_implementation: str) -> nn.Module:
    """The model on the meta device with the plan applied: shapes and placements, no memory."""
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype,
                                                 attn_implementation=hf_attention(attn_implementation))
    parallelize_module(model, mesh, tensor_parallel_plan(model, mesh.size()))
    return model


def mesh_device(mesh: DeviceMesh) -> torch.device:
    """The device this rank's shards live on."""
    if mesh.device_type == "cuda":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device(mesh.device_type)


def dtensor_block(name: str, param: torch.Tensor) -> tuple[slice, ...] | None:
    """The block of the full parameter a DTensor's local tensor holds (None for a plain tensor)."""
    if not isinstance(param, DTensor):
        return None
    if param.device_mesh.ndim != 1:
        raise ValueError(f"{name}: only a 1-D device mesh is supported, got {param.device_mesh.ndim}-D")
    block = [slice(None)] * param.dim()
    placement = param.placements[0]
    if isinstance(placement, Shard):
        # torch.chunk's rule, the one DTensor's Shard uses: ceil-sized pieces, the last ones shorter
        size, parts = param.shape[placement.dim], param.device_mesh.size()
        piece = -(-size // parts)
        start = min(param.device_mesh.get_local_rank() * piece, size)
        block[placement.dim] = slice(start, min(start + piece, size))
    elif not placement.is_replicate():
        raise ValueError(f"{name}: placement {placement} has no block of the full tensor")
    return tuple(block)
