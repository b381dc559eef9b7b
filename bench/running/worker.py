"""One strategy's sweep, in a process of its own (started by bench.running.runner, not by hand).

Each strategy gets a fresh process, so its compile caches, graphs and memory are gone
before the next strategy starts. Results go back to the runner as JSON lines on a pipe,
one event per measured point, so the runner keeps everything measured before a crash.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Callable

import torch

from bench.config.schema import BASELINE, BenchConfig, parse_config
from bench.models.dtypes import TORCH_DTYPES
from bench.running.loading import Loaded, error_text, load_strategy, recover
from bench.measuring.correctness import compare
from bench.measuring.clocks import GB, last_logits, measure_point, sync, time_request
from bench.models.build import hf_config, resolve_device
from bench.models.prompts import make_prompts
from bench.measuring.roofline import measure_ceilings, model_shape
from strategies.registry import REGISTRY

REFERENCE_FILE = "reference.pt"

Emit = Callable[[dict], None]


def device_info(device: torch.device) -> dict:
    if device.type != "cuda":
        return {"device": str(device)}
    props = torch.cuda.get_device_properties(device)
    return {"device": str(device), "device_name": props.name, "capability": f"{props.major}.{props.minor}",
            "multiprocessors": props.multi_processor_count, "device_memory_gb": props.total_memory / GB}


def load_tokenizer(cfg: BenchConfig):
    if cfg.prompts.text is None:
        return None
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(cfg.model.name_or_path)


def prompts_for(cfg: BenchConfig, config) -> dict[int, list[int]]:
    return make_prompts(cfg.prompts.lengths, cfg.prompts.seed, config, cfg.prompts.text, load_tokenizer(cfg))


class References:
    """The baseline's first-token logits per length, kept in a file for the later workers."""

    def __init__(self, out_dir: Path, is_reference: bool):
        self.path = out_dir / REFERENCE_FILE
        self.is_reference = is_reference
        self.data = {} if is_reference or not self.path.exists() else torch.load(self.path)

    def get(self, n: int | str) -> dict | None:
        return self.data.get(n)

    def put(self, n: int | str, logits: torch.Tensor | None, token: int) -> None:
        self.data[n] = {"logits": logits, "token": token}
        torch.save(self.data, self.path)

    def unseen_record(self, n: int, token: int, ns: int, logits: torch.Tensor | None = None,
                      dtype: torch.dtype | None = None) -> dict:
        """The cold-start probe's record, checked against the baseline's probe: with logits by
        the sweep's rule (tolerance, near-ties), without them (ipc) by the token alone."""
        key = f"unseen-{n}"  # kept apart from the sweep's lengths
        if self.is_reference:
            self.put(key, logits, token)
        reference = self.get(key)
        record = {"unseen_len": n, "unseen_ttft_ms": ns / 1e6, "unseen_matches_baseline": None}
        if reference is None:
            return record
        if logits is None or reference["logits"] is None:
            record["unseen_matches_baseline"] = token == reference["token"]
            return record
        verdict = compare(logits, token, reference["logits"], reference["token"], dtype)
        record["unseen_matches_baseline"] = verdict.matches
        if verdict.note:
            record["unseen_note"] = verdict.note
        return record


def measure_unseen(cfg: BenchConfig, strategy, config, refs: References, dtype: torch.dtype) -> dict:
    """TTFT of a first request at a length nobody prepared (what a new prompt length costs)."""
    n, ids = unseen_prompt(cfg, config)
    torch.manual_seed(cfg.sampling.seed)
    try:
        token, ns = time_request(strategy, ids)
        logits = last_logits(strategy, ids)  # untimed, for the correctness check
    except Exception as exc:
        traceback.print_exc()
        return {"unseen_len": n, "unseen_note": error_text(exc)}
    return refs.unseen_record(n, token, ns, logits, dtype)


def skip_all(cfg: BenchConfig, reason: str, emit: Emit) -> None:
    emit({"event": "strategy", "status": "skipped", "note": reason})
    for n in cfg.prompts.lengths:
        emit({"event": "point", "prompt_len": n, "status": "skipped", "note": reason})


def measure_in_process(cfg: BenchConfig, loaded: Loaded, refs: References, emit: Emit) -> None:
    strategy, device = loaded.strategy, loaded.ctx.device
    prompts = prompts_for(cfg, loaded.config)
    for n in cfg.prompts.lengths:
        point = {"event": "point", "prompt_len": n, "mem_weights_gb": loaded.mem_weights_gb}
        if isinstance(loaded.prepared[n], Exception):
            emit({**point, "status": "error", "note": f"prepare failed: {error_text(loaded.prepared[n])}"})
            continue
        point["jit_compile_ms"], point["graph_capture_ms"] = loaded.prepared[n]
        try:
            result = measure_point(strategy, prompts[n], cfg.measure.warmup, cfg.measure.repeats, device,
                                   loaded.ctx.dtype, cfg.sampling.seed, refs.get(n), refs.is_reference)
        except Exception as exc:
            traceback.print_exc()
            recover(device)
            emit({**point, "status": "error", "note": error_text(exc)})
            continue
        if refs.is_reference:
            refs.put(n, result.logits, result.token)
        notes = [result.note] + strategy.notes
        emit({**point, "status": "ok", "note": "; ".join(x for x in notes if x),
              "cold_ttft_ms": result.cold_ttft_ms, "samples_ns": result.samples_ns,
              "mem_peak_gb": result.mem_peak_gb, "mem_reserved_gb": result.mem_reserved_gb,
              "mem_graphs_gb": strategy.graph_memory_bytes() / GB if device.type == "cuda" else None,
              "token": result.token, "matches_baseline": result.matches_baseline,
              "max_abs_logit_diff": result.max_abs_logit_diff})


def roofline_facts(cfg: BenchConfig, device: torch.device) -> dict:
    """The GPU's measured ceilings (before any model takes memory) and the model's shape."""
    config = hf_config(cfg.model)
    shape = {**model_shape(config), "bytes_per_param": TORCH_DTYPES[cfg.model.dtype].itemsize}
    if device.type != "cuda":
        return {"model": shape, "note": "roofline: the ceilings are measured on CUDA GPUs only"}
    return {"model": shape, "ceilings": measure_ceilings(device, TORCH_DTYPES[cfg.model.dtype])}


def unseen_prompt(cfg: BenchConfig, config) -> tuple[int, list[int]]:
    """A prompt at a length nobody prepared: the configured one, or the midpoint of the two shortest."""
    n = cfg.measure.unseen_length
    if n is None:
        lengths = sorted(cfg.prompts.lengths)
        n = (lengths[0] + lengths[1]) // 2 if len(lengths) > 1 else lengths[0] + 1
        while n in lengths:
            n += 1
    return n, make_prompts([n], cfg.prompts.seed, config, cfg.prompts.text, load_tokenizer(cfg))[n]


def sweep(cfg: BenchConfig, name: str, out_dir: Path, emit: Emit) -> None:
    """Measure one strategy at every length of `cfg`, emitting events as results come."""
    device = resolve_device(cfg.model.device)
    emit({"event": "device", **device_info(device)})
    reason = REGISTRY[name].unavailable_reason(device)
    if reason:
        skip_all(cfg, reason, emit)
        return
    if name == BASELINE:
        emit({"event": "roofline", **roofline_facts(cfg, device)})
    refs = References(out_dir, name == BASELINE)
    if cfg.transport == "ipc":
        from bench.running.ipc_sweep import measure_over_ipc
        measure_over_ipc(cfg, name, refs, emit)
        return
    with torch.inference_mode():
        loaded = load_strategy(cfg, name, device)
        emit({"event": "ready", "time": time.time()})
        emit({"event": "strategy", "status": "ok", **loaded.facts()})
        measure_in_process(cfg, loaded, refs, emit)
        emit({"event": "strategy", **measure_unseen(cfg, loaded.strategy, loaded.config, refs, loaded.ctx.dtype)})
        sync(device)
        emit({"event": "stats", "stats": loaded.strategy.stats()})
        loaded.strategy.close()


def main() -> int:
    """Read {"config": raw, "strategy": name, "out_dir": path, "result_fd": fd} on stdin."""
    job = json.loads(sys.stdin.read())
    out = os.fdopen(job["result_fd"], "w", buffering=1)

    def emit(event: dict) -> None:
        out.write(json.dumps(event) + "\n")

    cfg = parse_config(job["config"])
    try:
        sweep(cfg, job["strategy"], Path(job["out_dir"]), emit)
    except Exception as exc:
        traceback.print_exc()
        emit({"event": "fatal", "note": error_text(exc)})
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
