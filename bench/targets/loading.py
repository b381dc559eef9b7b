"""Model + strategy, set up and prepared: what a worker and a generator server both start with."""
from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass

import torch

from bench.jobs.job import Job
from bench.measuring.clocks import GB, timed_ms
from bench.models.attention import attention_note
from bench.models.build import build_model, hf_config, parameter_bytes
from bench.models.dtypes import TORCH_DTYPES
from strategies.base import Strategy, StrategyContext
from strategies.registry import REGISTRY


@dataclass
class Loaded:
    strategy: Strategy
    model_build_ms: float
    setup_ms: float
    mem_weights_gb: float
    prepared: dict[int, object]  # length -> (jit_compile_ms | None, graph_capture_ms | None) or the exception
    model_note: str | None = None  # what the build chose that the run should say (bench.models.attention)

    def facts(self) -> dict:
        """The strategy-level record of run.json."""
        notes = [self.model_note, *self.strategy.notes]
        return {"model_build_ms": self.model_build_ms, "setup_ms": self.setup_ms,
                "mem_weights_gb": self.mem_weights_gb, "note": "; ".join(filter(None, notes))}


def error_text(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def recover(device: torch.device) -> None:
    """After a failure (out-of-memory above all), give back what the failed step held."""
    if device.type == "cuda":
        torch.cuda.empty_cache()


Phase = Callable[[str], None]  # told what a start is doing now, for the progress bar


def ignore_phase(text: str) -> None:
    """A Phase for callers that show no progress."""


def prepare_all(strategy: Strategy, lengths, device: torch.device, on_phase: Phase = ignore_phase) -> dict[int, object]:
    """Compile, then capture, every length; largest first, so later, smaller graphs reuse the
    shared pool's blocks. Returns per length (jit_ms | None, capture_ms | None) or the error."""
    prepared: dict[int, object] = {}
    compiles, captures = type(strategy).compiles(strategy.options), type(strategy).captures(strategy.options)
    for n in sorted(lengths, reverse=True):
        try:
            if compiles:
                on_phase(f"compiling at {n} tokens")
            compiled, jit_ms = timed_ms(lambda: strategy.compile_for(n), device)
            if captures:
                on_phase(f"capturing at {n} tokens")
            captured, capture_ms = timed_ms(lambda: strategy.capture_for(n), device)
            prepared[n] = (jit_ms if compiled else None, capture_ms if captured else None)
        except Exception as exc:  # one length's failure must not end the sweep
            prepared[n] = exc
            traceback.print_exc()
            recover(device)
    return prepared


def load_strategy(job: Job, device: torch.device | None = None,
                  build: Callable[[], torch.nn.Module] | None = None, on_phase: Phase = ignore_phase) -> Loaded:
    """Build the model (by `build`, e.g. a tensor-parallel rank's shard; else the whole model on the
    job's device), set the strategy up and prepare every length (call under inference_mode)."""
    cfg, device = job.config, device or torch.device(job.device)
    if build is None:
        config = hf_config(cfg.model)  # the architecture, to build the model from (no weights read)
        build = lambda: build_model(cfg.model, config, device)  # noqa: E731
    on_phase("building the model")
    model, build_ms = timed_ms(build, device)
    ctx = StrategyContext(device=device, dtype=TORCH_DTYPES[cfg.model.dtype], lengths=cfg.prompts.lengths,
                          vocab_size=job.model.vocab_size, pad_token_id=job.model.pad_token_id,
                          sampling_mode=cfg.sampling.mode, temperature=float(cfg.sampling.temperature))
    spec = next(s for s in cfg.strategies if s.name == job.strategy)
    strategy = REGISTRY[job.strategy](spec.options)
    on_phase("setting up")
    _, setup_ms = timed_ms(lambda: strategy.setup(model, ctx), device)
    prepared = prepare_all(strategy, cfg.prompts.lengths, device, on_phase)
    return Loaded(strategy, build_ms, setup_ms, parameter_bytes(model) / GB, prepared,
                  attention_note(cfg.model, model))
