"""A strategy's next-token logits, as the correctness check compares them."""
from __future__ import annotations

import torch


def last_logits(strategy, input_ids: list[int]) -> torch.Tensor:
    """The strategy's next-token logits as [V] fp32 on the host (a copy: graphs reuse buffers)."""
    logits = strategy.logits(input_ids)
    return logits.reshape(-1, logits.shape[-1])[-1].float().cpu().clone()
