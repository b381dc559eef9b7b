"""jit-only: TorchScript preprocessing and sampling, a JIT-compiled forward, no graphs.
A batch: the prompts right-padded by TorchScript to the longest, one compiled forward."""
from __future__ import annotations

import torch

from strategies.base import FirstToken, Strategy, StrategyContext, register, right_padded
from strategies.jit_forward import CompilesUnlessEager, JitPieces, JitSampling
from strategies.option_types import JitOptions
from strategies.token_ops import pad_batch, pad_or_truncate, script_or_eager


@register
class JitOnly(CompilesUnlessEager, JitSampling, Strategy):
    name = "jit-only"
    summary = "TorchScript pre/post-processing + torch.compile (inductor) forward, no CUDA graphs; runs on CPU too"
    options_type = JitOptions

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.jit = JitPieces(model, self.options, ctx, self.notes)
        script = self.options.torchscript
        self.preprocess = script_or_eager(pad_or_truncate, self.notes) if script else pad_or_truncate
        self.preprocess_batch = script_or_eager(pad_batch, self.notes) if script else pad_batch

    def compile_for(self, prompt_len: int) -> bool:
        return self.jit.compile_at(prompt_len)

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor([input_ids], dtype=torch.long)  # [1, S] on the host
        ids = self.preprocess(ids, len(input_ids), self.ctx.pad_token_id).to(self.ctx.device)
        last = torch.full((1,), len(input_ids) - 1, dtype=torch.long, device=self.ctx.device)
        return self.jit.forward(ids, last)  # [1, 1, V]

    def first_tokens(self, batch: list[list[int]]) -> list[FirstToken]:
        """One compiled forward of the right-padded prompts; each row's logits at its own last position."""
        ids, last = right_padded(batch, self.ctx.pad_token_id, self.preprocess_batch)  # [B, S], [B] on the host
        logits = self.jit.forward(ids.to(self.ctx.device), last.to(self.ctx.device))  # [B, 1, V]
        return self.answers_of_rows(logits[:, -1])

    def close(self) -> None:
        self.jit.close()
