"""jit+cuda: the design document's hybrid. A JIT forward captured by the rolling graph manager,
TorchScript preprocessing (pad to the graph's length) and TorchScript sampling."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from strategies.base import StrategyContext, register
from strategies.jit_forward import JitOptions, JitPieces
from strategies.rolling_graphs import GraphOptions, GraphStrategy, RollingGraphs


@dataclass(frozen=True)
class HybridOptions(GraphOptions, JitOptions):
    def __post_init__(self):
        GraphOptions.__post_init__(self)
        JitOptions.__post_init__(self)


@register
class JitCuda(GraphStrategy):
    name = "jit+cuda"
    summary = "JIT forward (inductor or none) captured in CUDA graphs, TorchScript pre/post-processing"
    options_type = HybridOptions

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.jit = JitPieces(model, self.options, ctx, self.notes)
        self.graphs = RollingGraphs(self.jit.forward, self.options, ctx)
        self.graphs.start_background()

    def compile_for(self, prompt_len: int) -> bool:
        return self.jit.compile_at(self.graphs.graph_length(prompt_len))

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor([input_ids], dtype=torch.long)  # [1, S] on the host, as the seed's client
        target = self.graphs.graph_length(len(input_ids))
        ids = self.jit.preprocess(ids, target, self.ctx.pad_token_id)  # [1, graph length]
        return self.graphs.run(ids, len(input_ids))

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        return self.jit.sample(logits)

    def close(self) -> None:
        super().close()
        self.jit.close()
