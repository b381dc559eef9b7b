"""Graph options and the glue between an HF forward, length buckets and the GraphManager.

The single-request path keys a graph by its (bucketed) length. A length without its graph is served
by the shortest longer graph held (right padding keeps its logits exact, as with buckets) and
captured afterwards (GraphManager: by the background worker when `background` names lengths, else by
its next request); only when no longer graph is held is it captured inside its request.

A batch of prompts replays a graph keyed by BatchKey: its rows, the batch's size rounded up to a
power of two (a batch of 3 runs in the 4-row graph, its fourth row a filler whose output is
dropped), and the length bucket of its longest prompt. Both kinds share one LRU, one pool and one
lock; a new batch key is captured inside the request that needs it, and its capture count and time
show in stats().
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable

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


@dataclass(frozen=True, order=True)
class BatchKey:
    """The graph a batch replays: `rows` prompts (a power of two) of up to `length` tokens."""
    rows: int
    length: int

    def __str__(self) -> str:
        return f"{self.rows}x{self.length}"


def batch_rows(prompts: int) -> int:
    """The rows of the graph that serves a batch of `prompts`: the next power of two, so that a few
    graphs serve every batch size and at most half a graph's rows are fillers."""
    return 1 << (prompts - 1).bit_length()


def shortest_fitting(held: Iterable, prompt_len: int) -> int | None:
    """The shortest single-prompt graph length among the held keys that a prompt of prompt_len fits in, or None."""
    return min((key for key in held if isinstance(key, int) and key >= prompt_len), default=None)


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
        self.manager: GraphManager[CapturedForward] = GraphManager(self._capture, options.max_graphs, release_forward,
                                                                   defer_to_background=bool(options.background))
        precapture = ctx.lengths if options.precapture is None else options.precapture
        self.precapture_lengths = set(precapture)
        self.greedy_in_graph = options.host_io == "pinned" and ctx.sampling_mode == "greedy"

    def _capture(self, key: int | BatchKey) -> CapturedForward:
        rows, seq_len = (1, key) if isinstance(key, int) else (key.rows, key.length)
        # inference mode is per thread: a background capture must not track gradients either
        # (weights made under inference mode, like fused ones, cannot be saved for backward)
        with torch.inference_mode():
            return capture_forward(self.forward, rows, seq_len, self.ctx.device, self.pool, self.warmup_stream,
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
        n = len(input_ids)
        entry = self.manager.get(self.graph_length(n), stand_in=lambda held: shortest_fitting(held, n))
        entry.replay([input_ids])
        return entry

    def batch_key(self, batch: list[list[int]]) -> BatchKey:
        """The graph that serves a batch: its size's rows, its longest prompt's length bucket."""
        return BatchKey(batch_rows(len(batch)), self.graph_length(max(map(len, batch))))

    def replay_batch(self, batch: list[list[int]]) -> CapturedForward:
        """Replay the graph that serves this batch (the caller holds manager.lock until it has read the
        outputs); the batch's prompts are its first rows."""
        entry = self.manager.get(self.batch_key(batch))
        entry.replay(batch)
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
        with self.manager.lock:  # not while the background worker adds a graph
            return sum(entry.bytes_held for entry in self.manager.graphs.values())

    def stats(self) -> dict:
        with self.manager.lock:  # between captures: counters of one moment
            batch_keys = [key for key in self.manager.capture_count if isinstance(key, BatchKey)]
            return {**self.manager.counters(), "graph_mem_bytes": self.memory_bytes(),
                    "buckets": list(self.options.buckets or []),
                    # the cold cost of batching: graphs captured for new (rows, length) keys, paid by the
                    # requests that needed them
                    "batch_graph_captures": sum(self.manager.capture_count[key] for key in batch_keys),
                    "batch_graph_capture_ms": round(sum(self.manager.capture_ms[key] for key in batch_keys), 3)}

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
        with self.graphs.manager.lock:  # sampled and read before a background capture (a deferred one) starts
            return super().first_token(input_ids)

    def first_tokens(self, batch: list[list[int]]) -> list[FirstToken]:
        """One replay of the graph that serves the batch; a batch of one takes the single-request path
        (its graph per length). Greedy in graph: the graph's own argmax per row, read in one wait."""
        if len(batch) == 1:
            return [self.first_token(batch[0])]
        with self.graphs.manager.lock:  # no other replay may overwrite the outputs before they are read
            entry = self.graphs.replay_batch(batch)
            logits = entry.logits[:len(batch), -1]  # [B, V]; filler rows dropped
            if not self.graphs.greedy_in_graph:
                return self.answers_of_rows(logits)
            return [FirstToken(token, logits[row]) for row, token in enumerate(entry.tokens(len(batch)))]

    def stats(self) -> dict:
        return self.graphs.stats()

    def graph_memory_bytes(self) -> int:
        return self.graphs.memory_bytes()

    def close(self) -> None:
        self.graphs.close()
