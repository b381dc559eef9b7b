"""A strategy's next-token logits, as the correctness check compares them."""
from __future__ import annotations

import torch


def last_logits(strategy, input_ids: list[int]) -> torch.Tensor:
    """The strategy's next-token logits as [V] fp32 on the host (a copy: graphs reuse buffers)."""
    return host_copy(strategy.logits(input_ids))


def host_copy(logits: torch.Tensor) -> torch.Tensor:
    """The last position's logits ([..., V] on any device) as [V] fp32 on the host, a copy of their own:
    a graph overwrites its output buffer at the next replay, and a CPU tensor may be reused."""
    return logits.reshape(-1, logits.shape[-1])[-1].float().cpu().clone()
