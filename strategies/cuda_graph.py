"""cuda-graph: the eager HF forward captured in CUDA graphs by the rolling manager; eager sampling."""
from __future__ import annotations

import torch

from strategies.base import Strategy, StrategyContext, register
from strategies.rolling_graphs import GraphOptions, RollingGraphs, graph_unavailable_reason
from strategies.token_ops import sample_next_token


@register
class CudaGraph(Strategy):
    name = "cuda-graph"
    summary = "eager forward replayed from a CUDA graph per length (LRU rolling manager), eager sampling"
    options_type = GraphOptions

    @classmethod
    def unavailable_reason(cls, device: torch.device) -> str | None:
        return graph_unavailable_reason(device)

    def setup(self, model: torch.nn.Module, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.graphs = RollingGraphs(model.forward, self.options, ctx)
        self.graphs.start_background()

    def capture_for(self, prompt_len: int) -> bool:
        return self.graphs.capture_for(prompt_len)

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        ids = torch.tensor([input_ids], dtype=torch.long)  # [1, S] on the host
        return self.graphs.run(ids, len(input_ids))

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        return sample_next_token(logits, self.ctx.temperature, self.ctx.sampling_mode == "temperature")

    def stats(self) -> dict:
        return self.graphs.stats()

    def graph_memory_bytes(self) -> int:
        return self.graphs.memory_bytes()

    def close(self) -> None:
        self.graphs.close()
