"""Deterministic random weights that can be made shard by shard.

Usage: build the model on the meta device, then fill it in place:

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float16)
    materialize(model, seed=0, device=torch.device("cuda"))

Every parameter is cut into fixed tiles of TILE_ROWS x TILE_COLS; each tile's values come from
its own generator, seeded by (model seed, parameter name, row-tile index, column-tile index).
So any block of rows or columns of any parameter (a tensor-parallel shard) is made from the
tiles it overlaps, without the whole tensor ever existing, and the full parameter equals the
concatenation of its shards bit for bit. `local_slice(name, param)` says which block a process
holds (None: all of it).

Values depend on the seed, the name, the tile shape and the device type: CPU and CUDA random
streams differ, so compare a one-GPU and a TP run built on the same kind of GPU.
"""
from __future__ import annotations

import hashlib
import math

import torch
from torch import nn

from bench.models.meta_fill import LocalSlice, fill_parameters

# A tile of 1024 x 1024 float32 values is 4 MB: large enough that one generator per tile costs
# nothing next to the drawing (a 70B model is ~70k tiles), small enough that a shard boundary
# falling inside a tile wastes at most one tile row/column of draws.
TILE_ROWS = 1024
TILE_COLS = 1024

# Norm weights are 1 + N(0, NORM_NOISE) and biases N(0, BIAS_STD): transformers' init sets them to
# exactly 1 and 0, which hides a forward that drops one. A 0.1 spread around 1 keeps normalised
# activations at unit scale; a 0.02 bias is small next to a projection output (std about
# initializer_range x sqrt(fan_in), 0.16 at width 64, 1.3 at 4096) yet moves the logits far
# beyond float noise when dropped.
NORM_NOISE = 0.1
BIAS_STD = 0.02
DEFAULT_INITIALIZER_RANGE = 0.02  # transformers' own default when a config gives none


def tile_seed(seed: int, name: str, row_tile: int, col_tile: int) -> int:
    """A stable 63-bit seed for one tile (Python's hash() is salted per process, so not that)."""
    key = f"{seed}/{name}/{row_tile}/{col_tile}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little") >> 1


def _bounds(part: slice, size: int) -> tuple[int, int]:
    """[start, stop) of a contiguous slice of a dimension of `size`."""
    start, stop, step = part.indices(size)
    if step != 1:
        raise ValueError(f"a shard slice must be contiguous, got step {step}")
    return start, max(start, stop)


def standard_normal_block(seed: int, name: str, shape: tuple[int, ...], block: tuple[slice, ...],
                          device: torch.device, tile: tuple[int, int] = (TILE_ROWS, TILE_COLS)) -> torch.Tensor:
    """The N(0, 1) float32 values of `block` of a `shape` tensor, drawn tile by tile."""
    if len(shape) > 2:  # conv-like weights: tiles over the first dim and the rest flattened
        flat = standard_normal_block(seed, name, (shape[0], math.prod(shape[1:])), (block[0], slice(None)), device, tile)
        return flat.reshape(-1, *shape[1:])[(slice(None), *block[1:])]
    rows, cols = (shape[0], 1) if len(shape) == 1 else shape
    r0, r1 = _bounds(block[0], rows)
    c0, c1 = _bounds(block[1], cols) if len(shape) == 2 else (0, 1)
    out = torch.empty(r1 - r0, c1 - c0, dtype=torch.float32, device=device)
    tile_rows, tile_cols = tile
    for i in range(r0 // tile_rows, -(-r1 // tile_rows)):
        tr0, tr1 = i * tile_rows, min((i + 1) * tile_rows, rows)
        for j in range(c0 // tile_cols, -(-c1 // tile_cols)):
            tc0, tc1 = j * tile_cols, min((j + 1) * tile_cols, cols)
            generator = torch.Generator(device=device).manual_seed(tile_seed(seed, name, i, j))
            values = torch.randn(tr1 - tr0, tc1 - tc0, generator=generator, device=device)
            lo_r, hi_r, lo_c, hi_c = max(r0, tr0), min(r1, tr1), max(c0, tc0), min(c1, tc1)
            out[lo_r - r0:hi_r - r0, lo_c - c0:hi_c - c0] = values[lo_r - tr0:hi_r - tr0, lo_c - tc0:hi_c - tc0]
    return out.reshape(-1) if len(shape) == 1 else out


def parameter_values(name: str, shape: tuple[int, ...], block: tuple[slice, ...], seed: int, std: float,
                     device: torch.device, tile: tuple[int, int] = (TILE_ROWS, TILE_COLS)) -> torch.Tensor:
    """One block of a parameter's values in float32, scaled by its role (matrix, bias, norm weight)."""
    noise = standard_normal_block(seed, name, shape, block, device, tile)
    if len(shape) >= 2:  # linear and embedding matrices: transformers' normal(0, initializer_range)
        return noise.mul_(std)
    if name.endswith("bias"):
        return noise.mul_(BIAS_STD)
    return noise.mul_(NORM_NOISE).add_(1.0)  # 1-D weights are the norms' scales


def initializer_std(config) -> float:
    """The matrices' std: the config's initializer_range, else transformers' default 0.02."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return getattr(text, "initializer_range", None) or DEFAULT_INITIALIZER_RANGE


def materialize(model: nn.Module, seed: int, device: torch.device, local_slice: LocalSlice | None = None,
                tile: tuple[int, int] = (TILE_ROWS, TILE_COLS)) -> nn.Module:
    """Fill every parameter of `model` (meta or real) with its random values, in place, on `device`.

    `local_slice(name, param)` gives the block of the full parameter this process holds
    (None: the whole of it); for a DTensor parameter the block fills its local tensor.
    """
    std = initializer_std(model.config) if hasattr(model, "config") else DEFAULT_INITIALIZER_RANGE

    def values(name: str, shape: tuple, block: tuple, on: torch.device) -> torch.Tensor:
        return parameter_values(name, shape, block, seed, std, on, tile)

    return fill_parameters(model, device, values, local_slice)
