"""One tensor-parallel rank: its shard of the model, the strategy set up on it, then commands in lock-step.

Started by bench.parallel.target through bench.parallel.launch, never by hand:

    launch(serve_rank, world_size, args=(job.to_dict(), commands, replies), backend="gloo" or "nccl")

Rank 0 reads each command (a tuple: name, then arguments) from the `commands` queue and broadcasts
it; every rank runs it on its own shard (the forwards meet in their all-reduces) and rank 0 puts the
answer on `replies`. "close" ends the loop. A rank's exception ends the launch (launch reports it).
"""
from __future__ import annotations

import gc

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh

from bench.jobs.job import Job
from bench.measuring.clocks import GB, sync
from bench.models.build import hf_config
from bench.models.dtypes import TORCH_DTYPES
from bench.parallel.sharded_build import build_sharded_model
from bench.targets.base import Started
from bench.targets.inprocess import timed_answer
from bench.targets.loading import Loaded, error_text, load_strategy, recover

CLOSE = "close"


def rank_device(job: Job, rank: int) -> torch.device:
    """cuda:rank (launch set it current for nccl) or the CPU (gloo)."""
    return torch.device("cuda", rank) if torch.device(job.device).type == "cuda" else torch.device("cpu")


def serve_rank(rank: int, world_size: int, job_dict: dict, commands, replies) -> str:
    """Build this rank's shard, set the strategy up, then answer commands until "close"."""
    job = Job.from_dict(job_dict)
    device = rank_device(job, rank)
    model_cfg = job.config.model
    mesh = init_device_mesh(device.type, (world_size,))
    with torch.inference_mode():
        loaded = load_strategy(job, device, build=lambda: build_sharded_model(
            hf_config(model_cfg), mesh, model_cfg.seed, TORCH_DTYPES[model_cfg.dtype], model_cfg.attn_implementation))
        if rank == 0:
            replies.put(started(loaded, world_size))
        while True:
            command = receive(rank, commands)
            if command[0] == CLOSE:
                return CLOSE
            answer = run_command(loaded, device, command)
            if rank == 0:
                replies.put(answer)


def started(loaded: Loaded, world_size: int) -> Started:
    """What the target's start() returns: rank 0's facts, its shard's bytes (per GPU)."""
    prepared = {n: p if isinstance(p, tuple) else error_text(p) for n, p in loaded.prepared.items()}
    facts = {**loaded.facts(), "transport": "inprocess", "tensor_parallel": world_size}
    return Started(facts, loaded.mem_weights_gb, prepared)


def receive(rank: int, commands) -> tuple:
    """Rank 0's next command, on every rank."""
    box = [commands.get() if rank == 0 else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def run_command(loaded: Loaded, device: torch.device, command: tuple):
    """One command on this rank; the value rank 0 sends back."""
    name, *args = command
    strategy = loaded.strategy
    if name == "first_token":
        dist.barrier()  # every rank leaves together, so rank 0's clock does not count a peer's lag
        gc.disable()  # as the sweep's timed loop does in one process: a collection on any rank is noise
        try:
            return timed_answer(strategy, args[0])
        finally:
            gc.enable()
    if name == "reseed":
        torch.manual_seed(args[0])  # every rank samples the same token from the same logits
        return None
    if name == "begin_point":
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        return None
    if name == "end_point":
        return max_over_ranks(point_memory(loaded, device))
    if name == "notes":
        return list(strategy.notes)
    if name == "recover":
        recover(device)
        return None
    if name == "stats":
        sync(device)
        return strategy.stats()
    raise ValueError(f"unknown tensor-parallel command {name!r}")


def point_memory(loaded: Loaded, device: torch.device) -> dict:
    """This rank's memory fields of a point (GPU only)."""
    if device.type != "cuda":
        return {}
    return {"mem_peak_gb": torch.cuda.max_memory_allocated(device) / GB,
            "mem_reserved_gb": torch.cuda.memory_reserved(device) / GB,
            "mem_graphs_gb": loaded.strategy.graph_memory_bytes() / GB}


def max_over_ranks(memory: dict) -> dict:
    """Per key, the largest value any rank reports: the per-GPU figure the busiest GPU needs."""
    every = [None] * dist.get_world_size()
    dist.all_gather_object(every, memory)
    return {key: max(m[key] for m in every) for key in memory}
