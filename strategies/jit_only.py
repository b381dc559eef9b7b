"""jit-only: TorchScript preprocessing and sampling, a JIT-compiled forward, no graphs."""
from __future__ import annotations

import torch

from strategies.base import Strategy, StrategyContext, register
from strategies.jit_forward import JitOptions, compile_at, jit_forward
from strategies.token_ops import pad_or_truncate, sample_next_token, script_or_eager


@register
class JitOnly(Strategy):
    name = "jit-only"
    summary = "TorchScript pre/post-processing + torch.compile (inductor) forward, no CUDA graphs; runs on CPU too"
    options_type = JitOptions

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.forward = jit_forward(model, self.options)
        script = self.options.torchscript
        self.preprocess = script_or_eager(pad_or_truncate, self.notes) if script else pad_or_truncate
        self.sampler = script_or_eager(sample_next_token, self.notes) if script else sample_next_token
        self.do_sample = ctx.sampling_mode == "temperature"

    def compile_for(self, prompt_len: int) -> bool:
        if self.options.forward_jit == "none":
            return False
        compile_at(self.forward, prompt_len, self.ctx)
        return True

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor([input_ids], dtype=torch.long)  # [1, S] on the host
        ids = self.preprocess(ids, len(input_ids), self.ctx.pad_token_id).to(self.ctx.device)
        last = torch.full((1,), len(input_ids) - 1, dtype=torch.long, device=self.ctx.device)
        return self.forward(input_ids=ids, use_cache=False, logits_to_keep=last).logits  # [1, 1, V]

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        return self.sampler(logits, self.ctx.temperature, self.do_sample)

    def close(self) -> None:
        self.forward = None
        torch._dynamo.reset()
