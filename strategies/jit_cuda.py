"""jit+cuda: the design document's hybrid. A JIT forward captured by the rolling graph manager,
TorchScript preprocessing (pad to the graph's length) and TorchScript sampling."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from strategies.base import Strategy, StrategyContext, register
from strategies.jit_forward import JitOptions, compile_at, jit_forward
from strategies.rolling_graphs import GraphOptions, RollingGraphs, graph_unavailable_reason
from strategies.token_ops import pad_or_truncate, sample_next_token, script_or_eager


@dataclass(frozen=True)
class HybridOptions(GraphOptions, JitOptions):
    def __post_init__(self):
        GraphOptions.__post_init__(self)
        JitOptions.__post_init__(self)


@register
class JitCuda(Strategy):
    name = "jit+cuda"
    summary = "JIT forward (inductor or none) captured in CUDA graphs, TorchScript pre/post-processing"
    options_type = HybridOptions

    @classmethod
    def unavailable_reason(cls, device: torch.device) -> str | None:
        return graph_unavailable_reason(device)

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.forward = jit_forward(model, self.options)
        script = self.options.torchscript
        self.preprocess = script_or_eager(pad_or_truncate, self.notes) if script else pad_or_truncate
        self.sampler = script_or_eager(sample_next_token, self.notes) if script else sample_next_token
        self.do_sample = ctx.sampling_mode == "temperature"
        self.graphs = RollingGraphs(self.forward, self.options, ctx)
        self.graphs.start_background()

    def compile_for(self, prompt_len: int) -> bool:
        if self.options.forward_jit == "none":
            return False
        compile_at(self.forward, self.graphs.graph_length(prompt_len), self.ctx)
        return True

    def capture_for(self, prompt_len: int) -> bool:
        return self.graphs.capture_for(prompt_len)

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor([input_ids], dtype=torch.long)  # [1, S] on the host, as the seed's client
        target = self.graphs.graph_length(len(input_ids))
        ids = self.preprocess(ids, target, self.ctx.pad_token_id)  # [1, graph length]
        return self.graphs.run(ids, len(input_ids))

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        return self.sampler(logits, self.ctx.temperature, self.do_sample)

    def stats(self) -> dict:
        return self.graphs.stats()

    def graph_memory_bytes(self) -> int:
        return self.graphs.memory_bytes()

    def close(self) -> None:
        self.graphs.close()
        torch._dynamo.reset()
