"""All statistics of the harness, in one place: percentiles, stability warnings and bootstrap
confidence intervals (of a percentile, and of the ratio of two runs' medians)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# below this many samples a "p99" is just the maximum (numpy's linear interpolation between
# the two largest order statistics needs n >= 100 to sit strictly below the max)
P99_MIN_SAMPLES = 100
# pyperf's rules for an unstable benchmark
UNSTABLE_STD_RATIO = 0.10
UNSTABLE_MINMAX_RATIO = 0.50

# Percentile bootstrap: resample with replacement, recompute the statistic, take the middle
# `level` of the resampled statistics as the interval. 2,000 resamples: Efron & Tibshirani advise
# >= 1,000 for percentile intervals; at 2,000 the 2.5% tail holds 50 resamples, so an endpoint
# moves by a few percent of the interval's width between seeds.
BOOTSTRAP_RESAMPLES = 2000
# fixed, so the same samples always give the same interval and reports regenerate byte for byte
BOOTSTRAP_SEED = 0
DEFAULT_LEVEL = 0.95
# resampled values held at once (8 bytes each: 32 MB), so 100,000 samples x 2,000 resamples fit
BOOTSTRAP_CHUNK_VALUES = 4_000_000
METHOD = (f"percentile bootstrap, {BOOTSTRAP_RESAMPLES:,} resamples with replacement, seed {BOOTSTRAP_SEED}; "
          "percentiles by numpy linear interpolation")


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    p50: float
    p90: float
    p99: float
    min: float
    max: float
    std: float


@dataclass(frozen=True)
class Stability:
    """pyperf's verdict on a point: `unstable` when a rule fired; `warnings` says which (and small n)."""
    unstable: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class RatioEstimate:
    """A percentile of b over the same percentile of a (the median unless said), with its bootstrap interval."""
    ratio: float
    low: float
    high: float
    level: float

    @property
    def verdict(self) -> str:
        """'slower' or 'faster' when the interval excludes 1, else 'no significant difference'."""
        if self.low > 1:
            return "slower"
        if self.high < 1:
            return "faster"
        return "no significant difference"


def summarize(samples) -> Summary:
    """Mean, percentiles (numpy linear interpolation), min, max and sample std of `samples`."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no samples to summarize")
    p50, p90, p99 = np.percentile(x, [50, 90, 99], method="linear")
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return Summary(int(x.size), float(x.mean()), float(p50), float(p90), float(p99),
                   float(x.min()), float(x.max()), std)


def stability(s: Summary) -> Stability:
    """pyperf's rules: std >= 10% of the mean, min or max >= 50% away from the mean; and small n."""
    rules = []
    if s.mean > 0 and s.std >= UNSTABLE_STD_RATIO * s.mean:
        rules.append(f"unstable: std is {s.std / s.mean:.0%} of the mean")
    if s.mean > 0 and s.min <= (1 - UNSTABLE_MINMAX_RATIO) * s.mean:
        rules.append(f"unstable: min is {1 - s.min / s.mean:.0%} below the mean")
    if s.mean > 0 and s.max >= (1 + UNSTABLE_MINMAX_RATIO) * s.mean:
        rules.append(f"unstable: max is {s.max / s.mean - 1:.0%} above the mean")
    small = [f"n={s.n} < {P99_MIN_SAMPLES}: p99 is close to the maximum"] if s.n < P99_MIN_SAMPLES else []
    return Stability(bool(rules), tuple(rules + small))


def _bootstrap(x: np.ndarray, qs: list[float], rng: np.random.Generator, resamples: int) -> np.ndarray:
    """The qs-th percentiles of `resamples` resamples of x, shape [len(qs), resamples]; one draw
    serves every q, and it is drawn in chunks to bound memory."""
    rows = max(1, BOOTSTRAP_CHUNK_VALUES // x.size)
    out = []
    for start in range(0, resamples, rows):
        idx = rng.integers(0, x.size, size=(min(rows, resamples - start), x.size))
        out.append(np.percentile(x[idx], qs, axis=1, method="linear"))
    return np.concatenate(out, axis=1)


def _tails(level: float) -> list[float]:
    if not 0 < level < 1:
        raise ValueError(f"confidence level must lie in (0, 1), got {level}")
    return [100 * (1 - level) / 2, 100 * (1 + level) / 2]


def percentile_cis(samples, qs: list[float], level: float = DEFAULT_LEVEL, resamples: int = BOOTSTRAP_RESAMPLES,
                   seed: int = BOOTSTRAP_SEED) -> list[Interval]:
    """Percentile bootstrap intervals of the qs-th percentiles (0-100) of `samples`, from one set of resamples."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no samples to bootstrap")
    ends = np.percentile(_bootstrap(x, list(qs), np.random.default_rng(seed), resamples), _tails(level), axis=1)
    return [Interval(float(low), float(high)) for low, high in ends.T]


def ratio_of_medians(a, b, level: float = DEFAULT_LEVEL, resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = BOOTSTRAP_SEED) -> RatioEstimate:
    """median(b) / median(a), with a percentile bootstrap interval: a and b resampled independently."""
    return ratio_of_percentiles(a, b, 50, level, resamples, seed)


def ratio_of_percentiles(a, b, q: float, level: float = DEFAULT_LEVEL, resamples: int = BOOTSTRAP_RESAMPLES,
                         seed: int = BOOTSTRAP_SEED) -> RatioEstimate:
    """The q-th percentile (0-100) of b over that of a, with a percentile bootstrap interval: a and b
    resampled independently."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if xa.size == 0 or xb.size == 0:
        raise ValueError("no samples to compare")
    rng = np.random.default_rng(seed)
    ratios = _bootstrap(xb, [q], rng, resamples)[0] / _bootstrap(xa, [q], rng, resamples)[0]
    low, high = np.percentile(ratios, _tails(level))
    estimate = np.percentile(xb, q, method="linear") / np.percentile(xa, q, method="linear")
    return RatioEstimate(float(estimate), float(low), float(high), level)
