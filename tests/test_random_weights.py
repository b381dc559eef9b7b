"""Random weights drawn tile by tile: any block equals the slice of the whole, on meta or real models."""
from __future__ import annotations

import pytest
import torch

from bench.models.random_weights import BIAS_STD, NORM_NOISE, parameter_values, standard_normal_block

CPU = torch.device("cpu")
SMALL_TILE = (4, 3)  # tiles far smaller than the tensors, so every block crosses tile edges


def test_any_block_equals_the_slice_of_the_whole_tensor():
    full = standard_normal_block(7, "w", (10, 7), (slice(None), slice(None)), CPU, SMALL_TILE)
    for rows, cols in [(slice(3, 9), slice(2, 6)), (slice(0, 5), slice(None)), (slice(None), slice(5, 7))]:
        assert torch.equal(standard_normal_block(7, "w", (10, 7), (rows, cols), CPU, SMALL_TILE), full[rows, cols])
    halves = [standard_normal_block(7, "w", (10, 7), (slice(None), slice(c, c + 7 // 2 + 1)), CPU, SMALL_TILE)
              for c in (0, 4)]
    assert torch.equal(torch.cat(halves, dim=1), full)
    vector = standard_normal_block(7, "b", (10,), (slice(None),), CPU, SMALL_TILE)
    assert torch.equal(standard_normal_block(7, "b", (10,), (slice(5, 10),), CPU, SMALL_TILE), vector[5:])


def test_values_differ_by_seed_name_and_tile():
    block = (slice(None), slice(None))
    base = standard_normal_block(7, "w", (8, 6), block, CPU, SMALL_TILE)
    assert not torch.equal(base, standard_normal_block(8, "w", (8, 6), block, CPU, SMALL_TILE))
    assert not torch.equal(base, standard_normal_block(7, "v", (8, 6), block, CPU, SMALL_TILE))
    # each tile has its own stream: neighbours along rows and along columns differ
    assert not torch.equal(base[:4, :3], base[4:8, :3]) and not torch.equal(base[:4, :3], base[:4, 3:6])


def test_every_role_gets_non_trivial_values():
    shape = (4096,)
    norm = parameter_values("model.norm.weight", shape, (slice(None),), 0, 0.05, CPU)
    bias = parameter_values("q_proj.bias", shape, (slice(None),), 0, 0.05, CPU)
    matrix = parameter_values("q_proj.weight", (64, 64), (slice(None), slice(None)), 0, 0.05, CPU)
    assert norm.mean().item() == pytest.approx(1.0, abs=0.01) and norm.std().item() == pytest.approx(NORM_NOISE, rel=0.1)
    assert bias.mean().item() == pytest.approx(0.0, abs=0.002) and bias.std().item() == pytest.approx(BIAS_STD, rel=0.1)
    assert matrix.std().item() == pytest.approx(0.05, rel=0.1)
