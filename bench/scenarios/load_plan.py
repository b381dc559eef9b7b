"""What a load level sends, fixed before it starts: which prompt each request asks and, in open loop,
when it is sent.

Each request asks the prompt of one of the sweep's timed requests (drawn, seeded, from a configured
length, then from that length's timed requests), so the baseline's single-request token for it is in
the references. The draw depends on the load seed, the mode and the level alone: every strategy and
batching setting is sent the same requests.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class PlannedRequest:
    prompt_len: int
    prompt_index: int  # the sweep's timed request at that length whose prompt this is
    ids: tuple[int, ...]


def level_rng(seed: int, mode: str, level: float) -> np.random.Generator:
    """The level's own stream: the same for every strategy and setting, independent of the other levels."""
    return np.random.default_rng([seed, zlib.crc32(f"{mode}:{level:g}".encode())])


def plan_requests(choices: dict[int, list[tuple[int, tuple[int, ...]]]], count: int,
                  rng: np.random.Generator) -> list[PlannedRequest]:
    """`count` requests: each a length drawn uniformly from `choices`, then one of that length's (timed
    request index, prompt) pairs, uniformly."""
    lengths = sorted(choices)
    drawn = rng.integers(0, len(lengths), size=count)
    picks = rng.random(size=count)  # a fraction of the length's list: one draw serves lists of any size
    requests = []
    for k, p in zip(drawn, picks):
        options = choices[lengths[k]]
        index, ids = options[int(p * len(options))]
        requests.append(PlannedRequest(lengths[k], index, ids))
    return requests


def arrival_offsets_ns(count: int, rate: float, burstiness: float, rng: np.random.Generator) -> list[int]:
    """Send times since the level's start, the first at 0: gamma-distributed gaps of shape `burstiness`
    and mean 1 / rate (vLLM's arrivals: shape 1 is a Poisson process, below 1 burstier, above smoother)."""
    gaps = rng.gamma(shape=burstiness, scale=1.0 / (rate * burstiness), size=max(count - 1, 0))
    return [0] + [int(t * NS_PER_S) for t in np.cumsum(gaps)]
