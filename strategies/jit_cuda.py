"""jit+cuda: the design document's hybrid. A JIT forward (fused projections where proven)
captured by the rolling graph manager; greedy sampling inside the graph, temperature sampling
by TorchScript after it; a batch replays a graph per (rows, length bucket). The graph's input
buffer is the padding: positions past the prompt keep earlier ids, which causal attention keeps
out of the logits."""
from __future__ import annotations

import torch

from strategies.base import StrategyContext, register
from strategies.jit_forward import CompilesUnlessEager, JitPieces, JitSampling
from strategies.option_types import HybridOptions
from strategies.rolling_graphs import GraphStrategy, RollingGraphs


@register
class JitCuda(CompilesUnlessEager, JitSampling, GraphStrategy):
    name = "jit+cuda"
    summary = "JIT forward (inductor or none; fused projections where proven) captured in CUDA graphs"
    options_type = HybridOptions

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.jit = JitPieces(model, self.options, ctx, self.notes)
        self.graphs = RollingGraphs(self.jit.forward, self.options, ctx)
        self.graphs.start_background()

    def compile_for(self, prompt_len: int) -> bool:
        return self.jit.compile_at(self.graphs.graph_length(prompt_len))

    def close(self) -> None:
        super().close()
        self.jit.close()
