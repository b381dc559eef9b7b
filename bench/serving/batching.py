"""How the generator server groups waiting requests into one forward (`--max-batch`, `--max-wait-us`).

The GPU thread takes the first waiting request, then every request already queued behind it, then,
while the batch has room, waits up to max_wait_us (counted from taking the first) for more; the batch
runs as one `Strategy.first_tokens` call. It never waits once every connection that has sent an
inference request has its request in the batch: each connection has at most one request in the
server, so nobody else can come, and a single client never pays the wait. The defaults run one
request at a time, as the server always did. Validated before the model loads, like ServerLimits.

Why wait at all: closed-loop clients answered by one batch send their next requests a few hundred
microseconds to a few milliseconds apart; taking only what is queued splits them into small batches.
Measured on one H200 (Llama-2-7B shape, jit+cuda, 100-token prompts, 16 closed-loop clients, 2026-12-03):
max_wait_us 0 -> 279 req/s, 5000 -> 366 req/s (the one-at-a-time server: 209); 1 client 5.3-5.6 ms either way.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.config.errors import ConfigError
from bench.serving.limits import check_int

# a longer wait is more likely a unit slip (ms for us) than a plan: a lone request would pay it in full,
# while one forward of a 7B model takes 5-40 ms
MAX_WAIT_US = 1_000_000


@dataclass(frozen=True)
class Batching:
    """The server's batching, validated on construction (ConfigError naming the flag)."""
    max_batch: int = 1  # requests answered by one forward; 1: one at a time
    max_wait_us: int = 0  # how long to wait for more once a request is taken; 0: only those already queued

    def __post_init__(self):
        check_int("--max-batch", self.max_batch, 1)
        check_int("--max-wait-us", self.max_wait_us, 0, MAX_WAIT_US)
        if self.max_wait_us and self.max_batch == 1:
            raise ConfigError(f"--max-wait-us: {self.max_wait_us} needs --max-batch above 1 "
                              "(a batch of one request never waits for another)")

    @property
    def batched(self) -> bool:
        """Whether requests are grouped at all (else each runs alone through first_token, as before)."""
        return self.max_batch > 1
