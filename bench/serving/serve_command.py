"""`python -m bench serve`: start a generator server for one strategy of a config."""
from __future__ import annotations

import sys
from pathlib import Path

import torch

from bench.config.schema import load_config
from bench.running.loading import load_strategy
from bench.models.build import check_lengths, hf_config, max_positions, resolve_device, text_config
from bench.serving.protocol import MAX_MESSAGE_BYTES
from bench.serving.server import STALL_TIMEOUT_S, GeneratorServer
from bench.serving.unix_socket import SocketError, bind_private
from strategies.registry import REGISTRY
from bench.config.errors import ConfigError


def serve(config_path: str, strategy: str, socket_path: str, max_message: int = MAX_MESSAGE_BYTES,
          stall_timeout: float = STALL_TIMEOUT_S) -> int:
    """Load, prepare, serve until SIGTERM/SIGINT. Config and socket problems raise ConfigError."""
    cfg = load_config(config_path)
    if strategy not in cfg.strategy_names():
        raise ConfigError(f"--strategy: {strategy!r} is not in {config_path}; allowed: {', '.join(cfg.strategy_names())}")
    config = hf_config(cfg.model)
    check_lengths(cfg.prompts.lengths, config, cfg.measure.unseen_length)
    device = resolve_device(cfg.model.device)
    reason = REGISTRY[strategy].unavailable_reason(device)
    if reason:
        raise ConfigError(f"--strategy: {strategy} cannot run here: {reason}")
    try:
        listener = bind_private(Path(socket_path))
    except (SocketError, OSError) as exc:
        raise ConfigError(f"--socket: {exc}") from None
    server = GeneratorServer(listener, max_message, stall_timeout)
    server.install_signal_handlers()  # a stop during the load still removes the socket file
    try:
        with torch.inference_mode():
            serve_prepared(server, cfg, strategy, device, config)
    finally:  # after the request in flight, or a failed load: the socket file goes last
        listener.close()
        Path(socket_path).unlink(missing_ok=True)
    print("server stopped cleanly", file=sys.stderr, flush=True)
    return 0


def serve_prepared(server: GeneratorServer, cfg, strategy: str, device, config) -> None:
    """Load and prepare the strategy, then serve until stopped."""
    loaded = load_strategy(cfg, strategy, device)
    prepare = {str(n): list(p) if isinstance(p, tuple) else {"error": str(p)} for n, p in loaded.prepared.items()}
    server.attach(loaded.strategy, text_config(config).vocab_size, max_positions(config),
                  (cfg.sampling.mode, float(cfg.sampling.temperature)),
                  {**loaded.facts(), "prepare": prepare, "device": str(device)})
    print(f"serving {strategy}", file=sys.stderr, flush=True)
    server.serve_forever()
    loaded.strategy.close()
