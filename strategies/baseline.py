"""baseline: the eager HF forward as a user calls it, with eager sampling. The reference.
A batch is one eager forward of the prompts right-padded to the longest."""
from __future__ import annotations

import torch

from strategies.base import FirstToken, Strategy, StrategyContext, register, right_padded


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

    def first_tokens(self, batch: list[list[int]]) -> list[FirstToken]:
        """The prompts right-padded to the longest in one eager forward; each row's logits at its own last
        real position (right padding needs no mask: real positions never attend to the pad after them)."""
        ids, last = (t.to(self.ctx.device) for t in right_padded(batch, self.ctx.pad_token_id))  # [B, S], [B]
        logits = self.model(input_ids=ids).logits  # [B, S, V]
        return self.answers_of_rows(logits[torch.arange(len(batch), device=self.ctx.device), last])  # [B, V]

    def close(self) -> None:
        self.model = None
