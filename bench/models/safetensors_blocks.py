"""Read any block of a checkpoint's tensors without reading the rest: sharded loading of safetensors.

Usage:

    blocks = SafetensorsBlocks("/path/to/checkpoint-folder")
    fill_parameters(model, device, values=blocks, local_slice=...)   # each rank reads its shards only

A folder holds model.safetensors, or model.safetensors.index.json naming the file of every tensor
(transformers' save_pretrained writes one or the other). safetensors maps the file, so reading a
block touches only that block's bytes.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import safe_open

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be read block by block; the message is the one-line reason."""


class SafetensorsBlocks:
    """Callable (name, full_shape, block, device) -> that block of the checkpoint tensor, as float32."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.file_of = tensor_files(self.folder)
        self._open: dict[Path, object] = {}

    def __call__(self, name: str, shape: tuple, block: tuple, device: torch.device) -> torch.Tensor:
        path = self.file_of.get(name)
        if path is None:
            raise CheckpointError(f"{self.folder}: the checkpoint has no tensor {name!r}")
        if path not in self._open:
            self._open[path] = safe_open(str(path), framework="pt")
        stored = self._open[path].get_slice(name)
        if tuple(stored.get_shape()) != tuple(shape):
            raise CheckpointError(f"{path.name}: {name} has shape {tuple(stored.get_shape())}, the model "
                                  f"expects {tuple(shape)}")
        # float32 like random_weights' blocks: the copy into the parameter casts to its dtype once
        return stored[block].to(device=device, dtype=torch.float32)


def tensor_files(folder: Path) -> dict[str, Path]:
    """Tensor name -> the .safetensors file holding it."""
    if (folder / INDEX_FILE).is_file():
        weight_map = json.loads((folder / INDEX_FILE).read_text()).get("weight_map")
        if not isinstance(weight_map, dict):
            raise CheckpointError(f"{folder / INDEX_FILE}: no 'weight_map' object")
        return {name: folder / file for name, file in weight_map.items()}
    if (folder / SINGLE_FILE).is_file():
        with safe_open(str(folder / SINGLE_FILE), framework="pt") as handle:
            return {name: folder / SINGLE_FILE for name in handle.keys()}
    raise CheckpointError(f"{folder}: no {SINGLE_FILE} or {INDEX_FILE}; a sharded load reads safetensors "
                          "checkpoints only")
