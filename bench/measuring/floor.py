"""The hardware floor of a first token from a model's shape and the GPU's measured ceilings.
Pure arithmetic (no torch), so the report can compute it without loading a framework."""
from __future__ import annotations


def floor_ms(shape: dict, ceilings: dict, n: int) -> float:
    """max(bytes of weights read / bandwidth, FLOPs / matmul rate) for an n-token prompt, in ms.
    Weights read: all but the embedding table (only n of its rows are gathered).
    FLOPs ~ 2 x non-embedding params x n + 2 x n^2 x hidden x layers (causal attention)."""
    weights = shape["params"] - shape["embedding_params"]
    bytes_read = weights * shape["bytes_per_param"]  # the run's dtype, set by the worker
    flops = 2 * weights * n + 2 * n * n * shape["hidden_size"] * shape["layers"]
    return 1e3 * max(bytes_read / ceilings["copy_bytes_per_s"], flops / ceilings["matmul_flops_per_s"])
