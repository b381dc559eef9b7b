"""The JIT-compiled forward shared by jit-only and jit+cuda."""
from __future__ import annotations

import torch

from strategies.last_logits import LastLogits, last_logits_forward
from strategies.option_types import JitOptions
from strategies.token_ops import sample_next_token, script_or_eager

def jit_forward(model: torch.nn.Module, options: JitOptions) -> LastLogits:
    """The first-token forward, compiled by the configured backend (or as is with forward_jit: none)."""
    forward = last_logits_forward(model, options.fuse_projections)
    if options.forward_jit == "none":
        return forward
    return torch.compile(forward, backend="inductor", mode=options.compile_mode, dynamic=options.dynamic)


class JitPieces:
    """What both JIT strategies share: the JIT forward and TorchScript sampling."""

    def __init__(self, model: torch.nn.Module, options: JitOptions, ctx, notes: list[str]):
        self.options = options
        self.ctx = ctx
        self.forward = jit_forward(model, options)
        self.sampler = script_or_eager(sample_next_token, notes) if options.torchscript else sample_next_token
        self.do_sample = ctx.sampling_mode == "temperature"

    def compile_at(self, prompt_len: int) -> bool:
        """Call the compiled forward once at this length, so its compilation happens now."""
        if self.options.forward_jit == "none":
            return False
        ids = torch.full((1, prompt_len), self.ctx.pad_token_id, dtype=torch.long, device=self.ctx.device)
        last = torch.full((1,), prompt_len - 1, dtype=torch.long, device=self.ctx.device)
        self.forward(ids, last)
        return True

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        return self.sampler(logits, self.ctx.temperature, self.do_sample)

    def close(self) -> None:
        self.forward = None
        torch._dynamo.reset()  # drop compiled code and guards with the model they point to
