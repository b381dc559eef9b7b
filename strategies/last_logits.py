"""The forward every graph and JIT strategy runs: (input_ids [1, S], last_index [1]) -> logits
[1, 1, V] of the last real position, from the HF forward or the fused forward."""
from __future__ import annotations

from typing import Callable

import torch

from strategies.fused_support import unfusable_reason

LastLogits = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def hf_last_logits(model: torch.nn.Module) -> LastLogits:
    """The HF forward reduced to what a first token needs. `use_cache=False`: no DynamicCache
    is built (inside a graph it would be captured too); `logits_to_keep` as a device tensor,
    so a graph reads the index written before each replay instead of a frozen Python int."""
    def forward(input_ids: torch.Tensor, last_index: torch.Tensor) -> torch.Tensor:
        return model(input_ids=input_ids, use_cache=False, logits_to_keep=last_index).logits
    return forward


def last_logits_forward(model: torch.nn.Module, fuse_projections, notes: list[str]) -> LastLogits:
    """The fused forward where fuse_projections allows it and the model's family is proven,
    else the HF forward; a model that could not be fused says why in `notes`."""
    if fuse_projections is False:
        return hf_last_logits(model)
    reason = unfusable_reason(model)
    if reason:
        notes.append(reason)
        return hf_last_logits(model)
    # imported here: nothing else needs the fused forward's code
    from strategies.fused_forward import FusedForward
    return FusedForward(model)
