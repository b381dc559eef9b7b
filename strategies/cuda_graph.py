"""cuda-graph: the eager HF forward captured in CUDA graphs by the rolling manager; eager sampling."""
from __future__ import annotations

import torch

from strategies.base import StrategyContext, register
from strategies.rolling_graphs import GraphOptions, GraphStrategy, RollingGraphs


@register
class CudaGraph(GraphStrategy):
    name = "cuda-graph"
    summary = "eager forward replayed from a CUDA graph per length (LRU rolling manager), eager sampling"
    options_type = GraphOptions

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.graphs = RollingGraphs(model.forward, self.options, ctx)
        self.graphs.start_background()

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor([input_ids], dtype=torch.long)  # [1, S] on the host
        return self.graphs.run(ids, len(input_ids))
