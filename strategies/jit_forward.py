"""The JIT-compiled forward shared by jit-only and jit+cuda."""
from __future__ import annotations

import torch

from strategies.last_logits import LastLogits, last_logits_forward
from strategies.option_types import JitOptions
from strategies.token_ops import sample_next_token, sample_rows, script_or_eager

# why an HF forward is compiled whole under compile_scope: layer
LAYER_SCOPE_FALLBACK = ("compile_scope: layer needs the fused forward (the HF forward builds an explicit attention "
                        "mask under CUDA-graph capture, so its compiled layers would recompile inside the capture); "
                        "whole model compiled")


def jit_forward(model: torch.nn.Module, options: JitOptions, notes: list[str]) -> LastLogits:
    """The first-token forward, compiled by the configured backend (or as is with forward_jit: none)."""
    forward = last_logits_forward(model, options.fuse_projections, notes)
    if options.forward_jit == "none":
        return forward
    layers = getattr(forward, "layers", None)  # only the fused forward has its own layers
    if options.compile_scope == "layer" and layers is not None:
        # every layer runs the same code: dynamo compiles it for the first and reuses it for the rest
        for layer in layers:
            layer.compile(backend="inductor", mode=options.compile_mode, dynamic=options.dynamic)
        return forward
    if options.compile_scope == "layer":
        notes.append(LAYER_SCOPE_FALLBACK)
    return torch.compile(forward, backend="inductor", mode=options.compile_mode, dynamic=options.dynamic)


class CompilesUnlessEager:
    """The JIT strategies' answer to Strategy.compiles: they compile unless forward_jit is none."""

    @classmethod
    def compiles(cls, options: JitOptions) -> bool:
        return options.forward_jit != "none"


class JitSampling:
    """The JIT strategies' sampling: TorchScript's (self.jit, a JitPieces set in setup), of one prompt or of a batch's rows."""
    jit: "JitPieces"

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        return self.jit.sample(logits)

    def sample_rows(self, logits: torch.Tensor) -> torch.Tensor:
        return self.jit.sample_rows(logits)


class JitPieces:
    """What both JIT strategies share: the JIT forward and TorchScript sampling."""

    def __init__(self, model: torch.nn.Module, options: JitOptions, ctx, notes: list[str]):
        self.options = options
        self.ctx = ctx
        self.forward = jit_forward(model, options, notes)
        self.sampler = script_or_eager(sample_next_token, notes) if options.torchscript else sample_next_token
        self.row_sampler = script_or_eager(sample_rows, notes) if options.torchscript else sample_rows
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

    def sample_rows(self, logits: torch.Tensor) -> torch.Tensor:
        """Each row's token from logits [B, V]: [B]."""
        return self.row_sampler(logits, self.ctx.temperature, self.do_sample)

    def close(self) -> None:
        self.forward = None
        torch._dynamo.reset()  # drop compiled code and guards with the model they point to
