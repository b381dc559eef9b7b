"""The forward every graph and JIT strategy runs: (input_ids [B, S], last_index [B]) -> logits
[B, 1, V], each row's at its own last real position, from the HF forward or the fused forward.
B is 1 on the single-request path; more rows are right-padded prompts of one batch."""
from __future__ import annotations

from typing import Callable

import torch

from strategies.fused_support import unfusable_reason

LastLogits = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def hf_last_logits(model: torch.nn.Module) -> LastLogits:
    """The HF forward reduced to what a first token needs. `use_cache=False`: no DynamicCache
    is built (inside a graph it would be captured too); `logits_to_keep` as a device tensor,
    so a graph reads the index written before each replay instead of a frozen Python int.
    HF applies the index tensor to every row: [B] indices give [B, B, V], whose diagonal holds each
    row's logits at its own index (every family's final norm, soft-capping and scaling applied)."""
    def forward(input_ids: torch.Tensor, last_index: torch.Tensor) -> torch.Tensor:
        logits = model(input_ids=input_ids, use_cache=False, logits_to_keep=last_index).logits
        if input_ids.shape[0] == 1:  # the single-request path, as it always ran
            return logits
        return logits.diagonal(dim1=0, dim2=1).transpose(0, 1).unsqueeze(1)  # [V, B] -> [B, 1, V], a view
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
