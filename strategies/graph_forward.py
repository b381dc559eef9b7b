"""One CUDA graph of a first-token forward at one (padded) sequence length and a number of rows:
one row for the single-request path, more for a batch of prompts (rows past the batch's prompts
are fillers: they keep earlier prompts, and their outputs are never read).

What makes the graph correct (see DESIGN.md):
- the forward computes only the last real position's logits, at an index read from device
  memory written before each replay (a Python int would be frozen into the graph at capture);
- right padding to the graph's length keeps causal logits exact, since real tokens never
  attend to later (pad) positions;
- warm-up on a side stream before capture, one shared memory pool for all graphs.

Host I/O (`host_io`):
- "pinned": the prompts and the last indices go into a pinned host buffer that the graph itself
  copies to the device, and with greedy sampling the graph also takes each row's argmax and copies
  the tokens into pinned host memory: a request is a buffer write, one replay, one wait;
- "pageable": the ids are copied from a pageable tensor before the replay and the token is
  sampled after it (the design document's path, kept to measure what the pinned path saves).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from strategies.last_logits import LastLogits

WARMUP_CALLS = 3  # DESIGN.md: 2-3 calls on a side stream settle cuBLAS/allocator state before capture


@dataclass
class CapturedForward:
    graph: torch.cuda.CUDAGraph
    rows: int  # R: 1 on the single-request path
    seq_len: int  # S
    # [R * S + R]: the rows' ids one after the other, then each row's last real position. With R = 1
    # the ids are a contiguous [1, S] as compile_at made them: a compiled forward's guards still hold
    device_input: torch.Tensor
    host_input: torch.Tensor | None  # pinned, the same layout, copied into device_input by the graph
    logits: torch.Tensor  # [R, 1, V] static output, each row's at its last real position (any strides)
    host_token: torch.Tensor | None  # pinned [R]: the greedy tokens, copied out by the graph
    done: torch.cuda.Event  # recorded after each replay
    bytes_held: int  # device memory the capture took (pool growth + static buffers)

    def __post_init__(self):
        # numpy views of the pinned buffers: element access without a torch op per request
        self.host_input_np = None if self.host_input is None else self.host_input.numpy()
        self.host_token_np = None if self.host_token is None else self.host_token.numpy()

    def replay(self, prompts: list[list[int]]) -> None:
        """Load up to R prompts (each len <= S) into the first rows and replay. Positions past a prompt
        keep stale ids, which causal attention keeps out of its logits; rows past the prompts keep
        earlier prompts (valid ids and indices), whose outputs nobody reads."""
        ids_end = self.rows * self.seq_len
        if self.host_input is None:
            for row, input_ids in enumerate(prompts):
                start, n = row * self.seq_len, len(input_ids)
                self.device_input[start:start + n].copy_(torch.tensor(input_ids, dtype=torch.long))  # pageable: synchronous
                self.device_input[ids_end + row].fill_(n - 1)
        else:
            self.done.synchronize()  # the previous replay has read the pinned buffer
            for row, input_ids in enumerate(prompts):
                start, n = row * self.seq_len, len(input_ids)
                self.host_input_np[start:start + n] = input_ids
                self.host_input_np[ids_end + row] = n - 1
        self.graph.replay()
        self.done.record()

    def token(self) -> int:
        """The greedy token of the last replay's first row (only when captured with the argmax)."""
        self.done.synchronize()
        return int(self.host_token_np[0])

    def tokens(self, count: int) -> list[int]:
        """The greedy tokens of the last replay's first `count` rows (only when captured with the argmax)."""
        self.done.synchronize()
        return self.host_token_np[:count].tolist()


def _forward(forward: LastLogits, device_input: torch.Tensor, rows: int, seq_len: int) -> torch.Tensor:
    ids_end = rows * seq_len
    return forward(device_input[:ids_end].view(rows, seq_len), device_input[ids_end:])


def capture_forward(forward: LastLogits, rows: int, seq_len: int, device: torch.device, pool,
                    side: torch.cuda.Stream, fill_token: int, host_io: str, greedy_in_graph: bool) -> CapturedForward:
    """Warm up on the `side` stream and capture `forward` for `rows` prompts of length seq_len into `pool`.
    Reuse one side stream for every capture: cuBLAS keeps a workspace per stream it has seen."""
    pinned = host_io == "pinned"
    # empty_cache around the capture returns the warm-up's cached blocks, so the reserved
    # delta is what the graph's private pool and static buffers keep
    torch.cuda.empty_cache()
    before = torch.cuda.memory_reserved(device)
    device_input = torch.full((rows * seq_len + rows,), fill_token, dtype=torch.long, device=device)
    device_input[rows * seq_len:] = seq_len - 1
    host_input = device_input.cpu().pin_memory() if pinned else None
    host_token = torch.zeros(rows, dtype=torch.long).pin_memory() if pinned and greedy_in_graph else None
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(WARMUP_CALLS):
            _forward(forward, device_input, rows, seq_len)
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    # thread_local: a capture on the background worker must not fail because the main
    # thread touches CUDA (the manager's lock already keeps their GPU work apart)
    with torch.cuda.graph(graph, pool=pool, capture_error_mode="thread_local"):
        if pinned:
            device_input.copy_(host_input, non_blocking=True)
        logits = _forward(forward, device_input, rows, seq_len)
        if host_token is not None:
            host_token.copy_(logits[:, -1].argmax(-1), non_blocking=True)  # [R, 1, V] -> [R]
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    held = torch.cuda.memory_reserved(device) - before
    return CapturedForward(graph, rows, seq_len, device_input, host_input, logits, host_token, torch.cuda.Event(),
                           max(held, 0))


def release_forward(entry: CapturedForward) -> None:
    """Drop a graph; its pool blocks go back to the shared pool for the next capture."""
    entry.graph.reset()
    entry.device_input = entry.host_input = entry.logits = entry.host_token = None
    entry.host_input_np = entry.host_token_np = None
