"""baseline: the eager HF forward as a user calls it, with eager sampling. The reference."""
from __future__ import annotations

import torch

from strategies.base import Strategy, StrategyContext, register


@register
class Baseline(Strategy):
    name = "baseline"
    summary = "eager model(input_ids) forward, eager sampling; the reference for speed-up and correctness"

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.model = model
        self.ctx = ctx

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor([input_ids], dtype=torch.long, device=self.ctx.device)  # [1, S]
        return self.model(input_ids=ids).logits[0, -1]  # [V]

    def close(self) -> None:
        self.model = None
