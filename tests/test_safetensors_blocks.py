"""Blocks of checkpoint tensors read without the rest: single file and index, and the named errors."""
from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from bench.models.safetensors_blocks import CheckpointError, SafetensorsBlocks

CPU = torch.device("cpu")


def test_a_block_equals_the_slice_of_the_saved_tensor(tmp_path):
    weight = torch.randn(6, 4, dtype=torch.float16)
    save_file({"w": weight}, str(tmp_path / "model.safetensors"))
    block = SafetensorsBlocks(tmp_path)("w", (6, 4), (slice(None), slice(2, 4)), CPU)
    assert block.dtype == torch.float32 and torch.equal(block, weight[:, 2:4].float())


def test_an_index_names_the_file_of_each_tensor(tmp_path):
    save_file({"a": torch.zeros(2)}, str(tmp_path / "one.safetensors"))
    save_file({"b": torch.ones(3)}, str(tmp_path / "two.safetensors"))
    (tmp_path / "model.safetensors.index.json").write_text(
        '{"weight_map": {"a": "one.safetensors", "b": "two.safetensors"}}')
    assert torch.equal(SafetensorsBlocks(tmp_path)("b", (3,), (slice(1, 3),), CPU), torch.ones(2))


def test_missing_file_tensor_or_shape_is_a_named_error(tmp_path):
    with pytest.raises(CheckpointError, match="no model.safetensors or model.safetensors.index.json"):
        SafetensorsBlocks(tmp_path)
    save_file({"w": torch.zeros(2, 2)}, str(tmp_path / "model.safetensors"))
    blocks = SafetensorsBlocks(tmp_path)
    with pytest.raises(CheckpointError, match="no tensor 'v'"):
        blocks("v", (2, 2), (slice(None), slice(None)), CPU)
    with pytest.raises(CheckpointError, match=r"w has shape \(2, 2\), the model expects \(4, 2\)"):
        blocks("w", (4, 2), (slice(None), slice(None)), CPU)
