"""`python -m bench serve`: start a generator server for one strategy of a config.

    python -m bench serve --config configs/default.yaml --strategy baseline --socket /tmp/ttft/s.sock
    python -m bench serve --job JOB.json --socket PATH   # a job record written by the ipc target
    python -m bench serve ... --max-batch 16 --max-wait-us 500   # answer waiting requests in batches
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from bench.config.capped_file import open_regular
from bench.config.errors import ConfigError
from bench.config.schema import load_config
from bench.jobs.build import build_job
from bench.jobs.job import Job
from bench.models.build import hf_config
from bench.serving.batching import Batching
from bench.serving.limits import ServerLimits
from bench.serving.server import GeneratorServer
from bench.serving.unix_socket import SocketError, bind_private
from bench.targets.loading import error_text, load_strategy
from strategies.registry import REGISTRY


def job_from_config(config_path: str, strategy: str) -> Job:
    """Validate a config and one of its strategies into a job record, as `run` does."""
    cfg = load_config(config_path)
    if strategy not in cfg.strategy_names():
        raise ConfigError(f"--strategy: {strategy!r} is not in {config_path}; allowed: {', '.join(cfg.strategy_names())}")
    return build_job(cfg, strategy)


def job_from_file(path: str) -> Job:
    """A job record written by the ipc target (trusted: validated by the process that wrote it)."""
    cannot_read = f"--job: cannot read a job record from {path}"
    with open_regular(Path(path), cannot_read) as f:  # a FIFO or a folder is refused, not waited on
        try:
            return Job.from_dict(json.loads(f.read()))
        except (OSError, ValueError, KeyError, TypeError) as exc:  # TypeError: a field missing or unknown
            raise ConfigError(f"{cannot_read} ({exc})") from None


def serve(job: Job, socket_path: str, limits: ServerLimits = ServerLimits(), batching: Batching = Batching()) -> int:
    """Load, prepare, serve until SIGTERM/SIGINT. Socket problems raise ConfigError."""
    strategy = REGISTRY[job.strategy]
    reason = strategy.unavailable_reason(torch.device(job.device)) or strategy.refusal_reason(hf_config(job.config.model))
    if reason:
        raise ConfigError(f"--strategy: {job.strategy} cannot run here: {reason}")
    try:
        listener = bind_private(Path(socket_path), limits.backlog)
    except (SocketError, OSError) as exc:
        raise ConfigError(f"--socket: {exc}") from None
    server = GeneratorServer(listener, limits=limits, batching=batching)
    server.install_signal_handlers()  # a stop during the load still removes the socket file
    try:
        with torch.inference_mode():
            serve_prepared(server, job)
    finally:  # after the request in flight, or a failed load: the socket file goes last
        listener.close()
        Path(socket_path).unlink(missing_ok=True)
    print("server stopped cleanly", file=sys.stderr, flush=True)
    return 0


def serve_prepared(server: GeneratorServer, job: Job) -> None:
    """Load and prepare the strategy, then serve until stopped."""
    loaded = load_strategy(job)
    prepare = {str(n): list(p) if isinstance(p, tuple) else {"error": error_text(p)}
               for n, p in loaded.prepared.items()}
    sampling = job.config.sampling
    server.attach(loaded.strategy, job.model.vocab_size, job.model.max_positions,
                  (sampling.mode, float(sampling.temperature)),
                  {**loaded.facts(), "prepare": prepare, "device": job.device})
    print(f"serving {job.strategy}", file=sys.stderr, flush=True)
    server.serve_forever()
    loaded.strategy.close()
