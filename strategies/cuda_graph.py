"""cuda-graph: the eager HF forward captured in CUDA graphs by the rolling manager; greedy
sampling inside the graph, temperature sampling eagerly after it."""
from __future__ import annotations

import torch

from strategies.base import StrategyContext, register
from strategies.last_logits import hf_last_logits
from strategies.option_types import GraphOptions
from strategies.rolling_graphs import GraphStrategy, RollingGraphs


@register
class CudaGraph(GraphStrategy):
    name = "cuda-graph"
    summary = "eager HF forward replayed from a CUDA graph per length (LRU rolling manager)"
    options_type = GraphOptions

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.graphs = RollingGraphs(hf_last_logits(model), self.options, ctx)
        self.graphs.start_background()
