"""Give a model built on the meta device real tensors, each parameter filled block by block.

Usage (random_weights and the sharded checkpoint loader are the two sources of values):

    fill_parameters(model, device, values=lambda name, shape, block, device: ..., local_slice=None)

`values(name, full_shape, block, device)` returns the float block `block` (a tuple of slices) of
the full parameter `name`; `local_slice(name, param)` says which block this process holds (None:
all of it), and a DTensor parameter's block fills its local tensor. Buffers of a meta model
(rotary inv_freq) hold no weights: transformers' own init recomputes them.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

BlockValues = Callable[[str, tuple, tuple, torch.device], torch.Tensor]
LocalSlice = Callable[[str, torch.Tensor], "tuple[slice, ...] | None"]


@torch.no_grad()
def fill_parameters(model: nn.Module, device: torch.device, values: BlockValues,
                    local_slice: LocalSlice | None = None) -> nn.Module:
    """Every parameter of `model` (meta or real) set to its block of `values`, in place, on `device`."""
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
        model.to_empty(device=device)
        recompute_buffers(model)
        if hasattr(model, "tie_weights"):  # to_empty makes new tensors, which unties shared ones
            model.tie_weights()
    for name, param in model.named_parameters():
        block = (local_slice(name, param) if local_slice else None) or tuple(slice(None) for _ in param.shape)
        target = param.to_local() if hasattr(param, "to_local") else param
        block_values = values(name, tuple(param.shape), block, target.device)
        if block_values.shape != target.shape:
            raise ValueError(f"{name}: local block {tuple(block_values.shape)} does not match its local tensor "
                             f"{tuple(target.shape)}")
        target.copy_(block_values)
    return model


def recompute_buffers(model: nn.Module) -> None:
    """Buffers have no random part: let transformers' init recompute them (it knows rotary embeddings).

    Floating buffers are set to NaN first, so one that the init does not know is caught, not left as garbage.
    """
    init = getattr(model, "_init_weights", None)
    for module in model.modules():
        buffers = [b for b in module.buffers(recurse=False) if b.is_floating_point()]
        for buffer in buffers:
            buffer.fill_(float("nan"))
        if buffers and init is not None:
            init(module)
    for name, buffer in model.named_buffers():
        if buffer.is_floating_point() and buffer.isnan().any():
            raise ValueError(f"buffer {name}: transformers' init does not recompute it, so a meta build "
                             "cannot make this model")
