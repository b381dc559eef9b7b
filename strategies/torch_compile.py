"""torch-compile (reference peer): what a user would pick instead, `torch.compile(model, mode=...)`.

Called like our strategies (use_cache=False, last position's logits only), so the comparison
isolates the compile and graph machinery: inductor's own CUDA graphs (cudagraph trees) with
mode="reduce-overhead", against our manually managed ones.
"""
from __future__ import annotations

import torch

from strategies.base import Strategy, StrategyContext, register
from strategies.option_types import TorchCompileOptions

# cudagraph trees warm up on the first call at a shape, record on the second and replay from
# the third: three calls leave the shape fully prepared before the cold request
CALLS_TO_PREPARE = 3
RECOMPILE_MARGIN = 2  # the unseen-length probe's shape, and one to spare


@register
class TorchCompile(Strategy):
    name = "torch-compile"
    summary = "reference peer: torch.compile(model, mode='reduce-overhead'), inductor's own CUDA graphs"
    options_type = TorchCompileOptions

    @classmethod
    def compiles(cls, options) -> bool:
        return True

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        # dynamo gives up after recompile_limit shapes (8) and runs later shapes eagerly, which
        # would time eager forwards under this peer's name: allow one compile per configured
        # length, plus RECOMPILE_MARGIN for the unseen-length probe (automatic dynamic shapes
        # normally need two compiles, but a specialisation must never fall back to eager either)
        needed = len(ctx.lengths) + RECOMPILE_MARGIN
        if self.options.dynamic is not True and torch._dynamo.config.recompile_limit < needed:
            self.notes.append(f"dynamo recompile_limit raised from {torch._dynamo.config.recompile_limit} "
                              f"to {needed}: no configured length runs eagerly")
            torch._dynamo.config.recompile_limit = needed
        self.compiled = torch.compile(model, mode=self.options.mode, dynamic=self.options.dynamic)

    def compile_for(self, prompt_len: int) -> bool:
        ids = [self.ctx.pad_token_id] * prompt_len
        for _ in range(CALLS_TO_PREPARE):
            self.logits(ids)
        return True

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        torch.compiler.cudagraph_mark_step_begin()  # a new inference step: earlier outputs may be overwritten
        ids = torch.tensor([input_ids], dtype=torch.long, device=self.ctx.device)  # [1, S]
        return self.compiled(input_ids=ids, use_cache=False, logits_to_keep=1).logits  # [1, 1, V]

    def close(self) -> None:
        self.compiled = None
        torch._dynamo.reset()
