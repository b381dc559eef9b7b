"""How a length's timed requests are spread over the rounds of a strategy's measurement.

Round-major order: in each round every length gets its share of timed requests, so each length's
samples span the strategy's whole measuring time and drift (load, clocks, heat) shows as a spread
between rounds instead of as a difference between lengths. The statistics resample rounds, then
requests within them (bench.reporting.stats).
"""
from __future__ import annotations


def round_sizes(repeats: int, rounds: int) -> list[int]:
    """Timed requests per round: repeats split as evenly as they go; where they do not divide, the first
    `repeats % rounds` rounds get one more, and with fewer requests than rounds the first `repeats`
    rounds get one each (the rest none)."""
    each, extra = divmod(repeats, rounds)
    return [each + (r < extra) for r in range(rounds)]

