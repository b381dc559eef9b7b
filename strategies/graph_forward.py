"""One CUDA graph of an HF causal-LM forward at one (padded) sequence length.

What makes the graph correct (see DESIGN.md):
- `use_cache=False`, so no DynamicCache is built inside the graph;
- only the last real position's logits: `logits_to_keep` is a device index tensor written
  before each replay (a Python int would be frozen into the graph at capture);
- right padding to the graph's length keeps causal logits exact, since real tokens never
  attend to later (pad) positions;
- warm-up on a side stream before capture, one shared memory pool for all graphs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

WARMUP_CALLS = 3  # DESIGN.md: 2-3 calls on a side stream settle cuBLAS/allocator state before capture


@dataclass
class CapturedForward:
    graph: torch.cuda.CUDAGraph
    input_ids: torch.Tensor  # [1, S] static input, S = the graph's length
    last_index: torch.Tensor  # [1] position of the last real token, written before replay
    logits: torch.Tensor  # [1, 1, V] static output of the last real position
    bytes_held: int  # device memory the capture took (pool growth + static buffers)

    def replay(self) -> torch.Tensor:
        self.graph.replay()
        return self.logits


def forward_last_logits(forward: Callable, input_ids: torch.Tensor, last_index: torch.Tensor) -> torch.Tensor:
    """The HF forward reduced to what a first token needs: [1, 1, V] logits at last_index."""
    return forward(input_ids=input_ids, use_cache=False, logits_to_keep=last_index).logits


def capture_forward(forward: Callable, seq_len: int, device: torch.device, pool, side: torch.cuda.Stream,
                    fill_token: int) -> CapturedForward:
    """Warm up on the `side` stream and capture `forward` at length seq_len into `pool`.
    Reuse one side stream for every capture: cuBLAS keeps a workspace per stream it has seen."""
    # empty_cache around the capture returns the warm-up's cached blocks, so the reserved
    # delta is what the graph's private pool and static buffers keep
    torch.cuda.empty_cache()
    before = torch.cuda.memory_reserved(device)
    input_ids = torch.full((1, seq_len), fill_token, dtype=torch.long, device=device)
    last_index = torch.full((1,), seq_len - 1, dtype=torch.long, device=device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(WARMUP_CALLS):
            forward_last_logits(forward, input_ids, last_index)
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    # thread_local: a capture on the background worker must not fail because the main
    # thread touches CUDA (the manager's lock already keeps their GPU work apart)
    with torch.cuda.graph(graph, pool=pool, capture_error_mode="thread_local"):
        logits = forward_last_logits(forward, input_ids, last_index)
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    held = torch.cuda.memory_reserved(device) - before
    return CapturedForward(graph, input_ids, last_index, logits, max(held, 0))


def release_forward(entry: CapturedForward) -> None:
    """Drop a graph; its pool blocks go back to the shared pool for the next capture."""
    entry.graph.reset()
    entry.input_ids = entry.last_index = entry.logits = None
