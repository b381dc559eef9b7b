"""The hardware floor of a first token from a model's shape and the GPU's measured ceilings.
Pure arithmetic (no torch), so the report can compute it without loading a framework."""
from __future__ import annotations


def floor_ms(shape: dict, ceilings: dict, n: int) -> float:
    """max(bytes of weights read / bandwidth, FLOPs / matmul rate) for an n-token prompt, in ms.
    body = params - embedding - lm_head (a tied lm_head is the embedding table, counted once).
    Weights read: body + lm_head (also when tied: the lm_head reads the whole table) + the n
    embedding rows gathered. FLOPs ~ 2 x body x n + 2 x lm_head x 1 (only the last position's
    logits are computed) + 2 x n^2 x hidden x layers (causal attention). Under tensor parallel
    (ceilings["tensor_parallel"] = N): per-GPU bytes and FLOPs, plus the all-reduces where they were
    timed inside a CUDA graph (ceilings["allreduce_method"] = "graph"). Timed eagerly, one call at a
    time (runs before it was recorded), an all-reduce waits for the last rank's launch: that bounds
    its cost from above, not below, so a floor leaves it out (per-GPU bytes and FLOPs only)."""
    # run.json from before lm_head_params was recorded: its presets all had an untied lm_head
    # the size of the embedding table
    lm_head = shape.get("lm_head_params", shape["embedding_params"])
    untied_lm_head = 0 if shape.get("tied_embeddings", False) else lm_head
    body = shape["params"] - shape["embedding_params"] - untied_lm_head
    rows_read = n * shape["hidden_size"]
    # tensor parallel over N GPUs: each holds 1/N of the body (the split Linears; its norms, whole on
    # every rank, are negligible) and the whole embedding and lm_head, runs 1/N of the body's and
    # attention's FLOPs and all of lm_head's, and waits for 2 all-reduces a layer (after o_proj and
    # after down_proj), measured on the run's GPUs
    ranks = ceilings.get("tensor_parallel", 1)
    bytes_read = (body / ranks + lm_head + rows_read) * shape["bytes_per_param"]  # the run's dtype, set by the worker
    flops = (2 * body * n + 2 * n * n * shape["hidden_size"] * shape["layers"]) / ranks + 2 * lm_head
    compute_ms = 1e3 * max(bytes_read / ceilings["copy_bytes_per_s"], flops / ceilings["matmul_flops_per_s"])
    if ranks == 1 or ceilings.get("allreduce_method") != "graph":
        return compute_ms
    allreduce = ceilings["allreduce_ms"].get(str(n))
    if allreduce is None:  # a length whose all-reduce was not measured has no floor
        return float("nan")
    return compute_ms + 2 * shape["layers"] * allreduce
