"""Graph options and the glue between an HF forward, length buckets and the GraphManager."""
from __future__ import annotations

import bisect

import torch

from strategies.base import FirstToken, Strategy, StrategyContext
from strategies.graph_forward import CapturedForward, capture_forward, release_forward
from strategies.graph_manager import GraphManager
from strategies.last_logits import LastLogits
from strategies.option_types import GraphOptions

CUDA_REASON = "needs CUDA graphs; torch.cuda.is_available() is False here"
EXPERT_COUNT_KEYS = ("num_experts", "num_local_experts", "n_routed_experts")  # how HF configs name the expert count
MOE_REASON = ("a mixture-of-experts model ({key}={count}): its forward copies the routing results to the host, "
              "which CUDA graph capture forbids")


def graph_unavailable_reason(device: torch.device) -> str | None:
    return None if device.type == "cuda" and torch.cuda.is_available() else CUDA_REASON


def mixture_of_experts_reason(model_config) -> str | None:
    """Why a graph can't capture this model's forward (more than one routed expert), or None."""
    for config in (model_config, getattr(model_config, "text_config", None)):
        for key in EXPERT_COUNT_KEYS:
            count = getattr(config, key, None)
            if isinstance(count, int) and count > 1:
                return MOE_REASON.format(key=key, count=count)
    return None


class RollingGraphs:
    """CUDA graphs of `forward` per (bucketed) length, in one shared pool, LRU-managed."""

    def __init__(self, forward: LastLogits, options: GraphOptions, ctx: StrategyContext):
        self.forward = forward
        self.options = options
        self.ctx = ctx
        self.pool = torch.cuda.graph_pool_handle()
        self.warmup_stream = torch.cuda.Stream(ctx.device)
        self.manager: GraphManager[CapturedForward] = GraphManager(self._capture, options.max_graphs, release_forward)
        precapture = ctx.lengths if options.precapture is None else options.precapture
        self.precapture_lengths = set(precapture)
        self.greedy_in_graph = options.host_io == "pinned" and ctx.sampling_mode == "greedy"

    def _capture(self, seq_len: int) -> CapturedForward:
        # inference mode is per thread: a background capture must not track gradients either
        # (weights made under inference mode, like fused ones, cannot be saved for backward)
        with torch.inference_mode():
            return capture_forward(self.forward, seq_len, self.ctx.device, self.pool, self.warmup_stream,
                                   self.ctx.pad_token_id, self.options.host_io, self.greedy_in_graph)

    def graph_length(self, prompt_len: int) -> int:
        """The length of the graph that serves a prompt: the next bucket, or the length itself."""
        buckets = self.options.buckets
        if not buckets:
            return prompt_len
        i = bisect.bisect_left(buckets, prompt_len)
        return buckets[i] if i < len(buckets) else prompt_len

    def capture_for(self, prompt_len: int) -> bool:
        if prompt_len not in self.precapture_lengths:
            return False
        return self.manager.capture(self.graph_length(prompt_len))

    def start_background(self) -> None:
        if self.options.background:
            self.manager.start_background(self.graph_length(n) for n in self.options.background)

    def _replay(self, input_ids: list[int]) -> CapturedForward:
        entry = self.manager.get(self.graph_length(len(input_ids)))
        entry.replay(input_ids)
        return entry

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        """Replay the graph that serves this prompt; its [1, 1, V] logits."""
        with self.manager.lock:  # a background capture must not start between load and replay
            return self._replay(input_ids).logits

    def greedy_token(self, input_ids: list[int]) -> FirstToken:
        """Replay and read the token the graph's own argmax copied out (greedy_in_graph only), with the
        graph's static logits it took the argmax of."""
        with self.manager.lock:
            entry = self._replay(input_ids)
            return FirstToken(entry.token(), entry.logits.view(-1))

    def memory_bytes(self) -> int:
        return sum(entry.bytes_held for entry in self.manager.graphs.values())

    def stats(self) -> dict:
        return {**self.manager.counters(), "graph_mem_bytes": self.memory_bytes(),
                "buckets": list(self.options.buckets or [])}

    def close(self) -> None:
        self.manager.clear()


class GraphStrategy(Strategy):
    """A strategy whose forward replays from RollingGraphs (set as self.graphs in setup)."""
    graphs: RollingGraphs

    @classmethod
    def unavailable_reason(cls, device: torch.device) -> str | None:
        return graph_unavailable_reason(device)

    @classmethod
    def refusal_reason(cls, model_config) -> str | None:
        return mixture_of_experts_reason(model_config)

    @classmethod
    def captures(cls, options) -> bool:
        return True

    def capture_for(self, prompt_len: int) -> bool:
        return self.graphs.capture_for(prompt_len)

    def logits(self, input_ids: list[int]) -> torch.Tensor:
        return self.graphs.logits(input_ids)

    def first_token(self, input_ids: list[int]) -> FirstToken:
        if self.graphs.greedy_in_graph:
            return self.graphs.greedy_token(input_ids)
        return super().first_token(input_ids)

    def stats(self) -> dict:
        return self.graphs.stats()

    def graph_memory_bytes(self) -> int:
        return self.graphs.memory_bytes()

    def close(self) -> None:
        self.graphs.close()
