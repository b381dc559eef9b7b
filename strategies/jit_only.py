"""jit-only: TorchScript preprocessing and sampling, a JIT-compiled forward, no graphs."""
from __future__ import annotations

import torch

from strategies.base import Strategy, StrategyContext, register
from strategies.jit_forward import CompilesUnlessEager, JitPieces
from strategies.option_types import JitOptions
from strategies.token_ops import pad_or_truncate, script_or_eager


@register
class JitOnly(CompilesUnlessEager, Strategy):
    name = "jit-only"
    summary = "TorchScript pre/post-processing + torch.compile (inductor) forward, no CUDA graphs; runs on CPU too"
    options_type = JitOptions

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.jit = JitPieces(model, self.options, ctx, self.notes)
        script = self.options.torchscript
        self.preprocess = script_or_eager(pad_or_truncate, self.notes) if script else pad_or_truncate

    def compile_for(self, prompt_len: int) -> bool:
        return self.jit.compile_at(prompt_len)

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor([input_ids], dtype=torch.long)  # [1, S] on the host
        ids = self.preprocess(ids, len(input_ids), self.ctx.pad_token_id).to(self.ctx.device)
        last = torch.full((1,), len(input_ids) - 1, dtype=torch.long, device=self.ctx.device)
        return self.jit.forward(ids, last)  # [1, 1, V]

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        return self.jit.sample(logits)

    def close(self) -> None:
        self.jit.close()
