"""The tensor-parallel part of the roofline: one GPU's ceilings plus the all-reduce of one activation at
each prompt length, measured over the run's GPUs (bench/measuring/floor.py adds them to the floor)."""
from __future__ import annotations

import torch

from bench.measuring.roofline import WARMUP, measure_ceilings, median_ms
from bench.parallel.launch import launch


def allreduce_ms(rank: int, world_size: int, hidden_size: int, lengths: list[int], dtype_name: str) -> dict:
    """{"ms": {str(n): median ms of one all-reduce of an [n, hidden] activation}, "method": "graph" or
    "eager"} over the run's GPUs (run on every rank by bench.parallel.launch with nccl; rank 0's answer
    comes back). "graph": timed as the graph strategies run them, ALLREDUCES_PER_GRAPH back to back in
    one CUDA graph, so no launch gap counts; "eager" (where capture fails): one call at a time, whose
    time includes the wait for the last rank's launch, an upper bound of the in-graph cost."""
    import torch.distributed as dist

    device = torch.device("cuda", rank)
    dtype = getattr(torch, dtype_name)
    activations = {n: torch.randn(n, hidden_size, dtype=dtype, device=device) for n in lengths}
    try:
        in_graph, captured = {str(n): graph_allreduce_ms(x) for n, x in activations.items()}, 1
    except RuntimeError:  # a NCCL or driver that cannot capture collectives
        in_graph, captured = {}, 0
    torch.cuda.synchronize(device)
    agreed = torch.tensor([captured], device=device)
    dist.all_reduce(agreed, op=dist.ReduceOp.MIN)  # one rank that could not capture sends every rank to eager
    if agreed.item():
        return {"ms": in_graph, "method": "graph"}
    return {"ms": {str(n): median_ms(lambda x=x: dist.all_reduce(x)) for n, x in activations.items()},
            "method": "eager"}


ALLREDUCES_PER_GRAPH = 64  # a 7B Llama's forward makes 64 (two a layer): the same back-to-back rhythm


def graph_allreduce_ms(activation: torch.Tensor) -> float:
    """Device ms of one all-reduce of `activation` inside a CUDA graph of ALLREDUCES_PER_GRAPH of them."""
    import torch.distributed as dist

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # the communicator and its buffers are set up before the capture
        for _ in range(WARMUP):
            dist.all_reduce(activation)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(ALLREDUCES_PER_GRAPH):
            dist.all_reduce(activation)
    return median_ms(graph.replay) / ALLREDUCES_PER_GRAPH


def measure_tp_ceilings(device: torch.device, dtype: torch.dtype, world_size: int, hidden_size: int,
                        lengths: list[int]) -> dict:
    """One GPU's ceilings plus the all-reduce of one activation at each length over world_size GPUs."""
    ceilings = measure_ceilings(device, dtype)
    ceilings["tensor_parallel"] = world_size
    measured = launch(allreduce_ms, world_size, backend="nccl",
                      args=(hidden_size, list(lengths), str(dtype).removeprefix("torch.")))
    ceilings["allreduce_ms"], ceilings["allreduce_method"] = measured["ms"], measured["method"]
    return ceilings
