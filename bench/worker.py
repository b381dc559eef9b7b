"""One strategy's sweep, in a process of its own (started by bench.runner, not by hand).

Each strategy gets a fresh process, so its compile caches, graphs and memory are gone
before the next strategy starts. Results go back to the runner as JSON lines on a pipe,
one event per measured point, so the runner keeps everything measured before a crash.
"""
from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Callable

import torch

from bench.config import BASELINE, BenchConfig, parse_config
from bench.measure import GB, measure_point, sync, timed_ms
from bench.models import DTYPES, build_model, hf_config, parameter_bytes, resolve_device, text_config
from bench.prompts import make_prompts, pad_token_id
from strategies import REGISTRY, Strategy, StrategyContext

REFERENCE_FILE = "reference.pt"

Emit = Callable[[dict], None]


def device_info(device: torch.device) -> dict:
    if device.type != "cuda":
        return {"device": str(device)}
    props = torch.cuda.get_device_properties(device)
    return {"device": str(device), "device_name": props.name, "capability": f"{props.major}.{props.minor}",
            "multiprocessors": props.multi_processor_count, "device_memory_gb": props.total_memory / GB}


def error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def load_tokenizer(cfg: BenchConfig):
    if cfg.prompts.text is None:
        return None
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(cfg.model.name_or_path)


def prepare_all(strategy: Strategy, lengths, device: torch.device) -> dict[int, object]:
    """Compile, then capture, every length; largest first, so later, smaller graphs reuse the
    shared pool's blocks. Returns per length (jit_ms | None, capture_ms | None) or the error."""
    prepared: dict[int, object] = {}
    for n in sorted(lengths, reverse=True):
        try:
            compiled, jit_ms = timed_ms(lambda: strategy.compile_for(n), device)
            captured, capture_ms = timed_ms(lambda: strategy.capture_for(n), device)
            prepared[n] = (jit_ms if compiled else None, capture_ms if captured else None)
        except Exception as exc:  # one length's failure must not end the sweep
            prepared[n] = exc
            traceback.print_exc()
            recover(device)
    return prepared


def recover(device: torch.device) -> None:
    """After a failure (out-of-memory above all), give back what the failed step held."""
    if device.type == "cuda":
        torch.cuda.empty_cache()


def sweep(cfg: BenchConfig, name: str, out_dir: Path, emit: Emit) -> None:
    device = resolve_device(cfg.model.device)
    emit({"event": "device", **device_info(device)})
    lengths = cfg.prompts.lengths
    reason = REGISTRY[name].unavailable_reason(device)
    if reason:
        emit({"event": "strategy", "status": "skipped", "note": reason})
        for n in lengths:
            emit({"event": "point", "prompt_len": n, "status": "skipped", "note": reason})
        return
    config = hf_config(cfg.model)
    model, build_ms = timed_ms(lambda: build_model(cfg.model, config, device), device)
    dtype = DTYPES[cfg.model.dtype]
    prompts = make_prompts(lengths, cfg.prompts.seed, config, cfg.prompts.text, load_tokenizer(cfg))
    is_reference = name == BASELINE
    reference_path = out_dir / REFERENCE_FILE
    reference = {} if is_reference or not reference_path.exists() else torch.load(reference_path)
    ctx = StrategyContext(device=device, dtype=dtype, lengths=lengths, vocab_size=text_config(config).vocab_size,
                          pad_token_id=pad_token_id(config), sampling_mode=cfg.sampling.mode,
                          temperature=float(cfg.sampling.temperature))
    spec = next(s for s in cfg.strategies if s.name == name)
    strategy = REGISTRY[name](spec.options)
    weights_gb = parameter_bytes(model) / GB
    with torch.inference_mode():
        _, setup_ms = timed_ms(lambda: strategy.setup(model, ctx), device)
        emit({"event": "strategy", "status": "ok", "note": "; ".join(strategy.notes),
              "model_build_ms": build_ms, "setup_ms": setup_ms, "mem_weights_gb": weights_gb})
        prepared = prepare_all(strategy, lengths, device)
        for n in lengths:
            point = {"event": "point", "prompt_len": n, "mem_weights_gb": weights_gb}
            if isinstance(prepared[n], Exception):
                emit({**point, "status": "error", "note": f"prepare failed: {error_text(prepared[n])}"})
                continue
            point["jit_compile_ms"], point["graph_capture_ms"] = prepared[n]
            try:
                result = measure_point(strategy, prompts[n], cfg.measure.warmup, cfg.measure.repeats, device,
                                       dtype, cfg.sampling.seed, reference.get(n), is_reference)
            except Exception as exc:
                traceback.print_exc()
                recover(device)
                emit({**point, "status": "error", "note": error_text(exc)})
                continue
            if is_reference:
                reference[n] = {"logits": result.logits, "token": result.token}
                torch.save(reference, reference_path)
            notes = [result.note] + strategy.notes
            emit({**point, "status": "ok", "note": "; ".join(x for x in notes if x),
                  "cold_ttft_ms": result.cold_ttft_ms, "samples_ns": result.samples_ns,
                  "mem_peak_gb": result.mem_peak_gb, "mem_reserved_gb": result.mem_reserved_gb,
                  "mem_graphs_gb": strategy.graph_memory_bytes() / GB if device.type == "cuda" else None,
                  "token": result.token, "matches_baseline": result.matches_baseline,
                  "max_abs_logit_diff": result.max_abs_logit_diff})
        sync(device)
        emit({"event": "stats", "stats": strategy.stats()})
        strategy.close()


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
