"""A generator server around a stub strategy, torch-free and quick to start, for the server's tests:

    python -m tests.serving_stub SOCKET [--max-connections N] [--stall-timeout S] [--job-s S] [--spare-fds N]

The stub's first token is the sum of the prompt modulo VOCAB, after sleeping --job-s seconds (once per
batch: a batched forward reads the weights once).
--spare-fds lowers RLIMIT_NOFILE to the descriptors open now plus N, so accept can hit EMFILE.
It starts, stops and cleans up like `python -m bench serve`, and prints "serving" once it accepts.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.serving.batching import Batching
from bench.serving.limits import ServerLimits
from bench.serving.server import GeneratorServer
from bench.serving.unix_socket import bind_private

VOCAB = 1000  # any size: the tests compute the stub's answer themselves
MAX_POSITIONS = 64  # small, so a test can exceed it cheaply


@dataclass(frozen=True)
class StubAnswer:
    """What the server reads of a strategy's FirstToken (no logits: the stub loads no torch)."""
    token: int


class StubStrategy:
    """What GeneratorServer uses of a strategy."""

    def __init__(self, job_s: float):
        self.job_s = job_s
        self.single_calls = 0
        self.batches: list[int] = []  # the size of each first_tokens call, in order

    def first_token(self, tokens: list[int]) -> StubAnswer:
        """sum(tokens) % VOCAB, after job_s seconds of pretend work."""
        self.single_calls += 1
        time.sleep(self.job_s)
        return StubAnswer(stub_token(tokens))

    def first_tokens(self, batch: list[list[int]]) -> list[StubAnswer]:
        """Each prompt's stub token, after job_s seconds for the whole batch."""
        self.batches.append(len(batch))
        time.sleep(self.job_s)
        return [StubAnswer(stub_token(tokens)) for tokens in batch]

    def stats(self) -> dict:
        """No counters of its own."""
        return {}

    def graph_memory_bytes(self) -> int:
        """Holds no graphs."""
        return 0


def stub_token(tokens) -> int:
    """The stub's answer to a prompt."""
    return sum(tokens) % VOCAB


def start(listener, limits: ServerLimits, job_s: float = 0.0, sampling=("greedy", 1.0),
          batching: Batching = Batching(), strategy=None, vocab: int = VOCAB,
          max_positions: int = MAX_POSITIONS) -> GeneratorServer:
    """A server with the stub (or `strategy`) attached (not yet serving)."""
    server = GeneratorServer(listener, limits=limits, batching=batching)
    server.attach(strategy or StubStrategy(job_s), vocab, max_positions, sampling, {})
    return server


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("socket")
    p.add_argument("--max-connections", type=int, default=ServerLimits().max_connections)
    p.add_argument("--stall-timeout", type=float, default=ServerLimits().stall_timeout)
    p.add_argument("--job-s", type=float, default=0.0)
    p.add_argument("--spare-fds", type=int)
    args = p.parse_args()
    limits = ServerLimits(stall_timeout=args.stall_timeout, max_connections=args.max_connections)
    path = Path(args.socket)
    listener = bind_private(path, limits.backlog)
    if args.spare_fds is not None:
        in_use = len(os.listdir("/proc/self/fd"))
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + args.spare_fds, hard))
    server = start(listener, limits, args.job_s)
    server.install_signal_handlers()
    print("serving", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        listener.close()
        path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
