"""All statistics of the harness, in one place: percentiles, stability warnings and bootstrap
confidence intervals (of a percentile, and of the ratio of two medians: a speed-up, a compare).

The intervals are hierarchical where the samples were measured in rounds (measure.rounds): a resample
draws the rounds with replacement, then requests with replacement within each drawn round, so the
drift between rounds widens the interval as much as it moves the median. With one round this is the
plain percentile bootstrap, resample for resample (the same seed gives the same interval)."""
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
METHOD = (f"hierarchical percentile bootstrap, {BOOTSTRAP_RESAMPLES:,} resamples (rounds with replacement, then "
          f"requests with replacement within each drawn round), seed {BOOTSTRAP_SEED}; percentiles by numpy linear "
          "interpolation")


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


@dataclass(frozen=True)
class Layout:
    """Samples grouped by round: values sorted by round, each round's first index and size."""
    values: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray


def layout(samples, rounds=None) -> Layout:
    """The samples grouped by their rounds (one label per sample; None: all in one round)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no samples to bootstrap")
    labels = np.zeros(x.size, dtype=np.int64) if rounds is None else np.asarray(rounds)
    if labels.shape != x.shape:
        raise ValueError(f"{x.size} samples but {labels.size} round labels")
    order = np.argsort(labels, kind="stable")
    _, sizes = np.unique(labels, return_counts=True)
    return Layout(x[order], np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)


def _bootstrap(data: Layout, qs: list[float], rng: np.random.Generator, resamples: int) -> np.ndarray:
    """The qs-th percentiles of `resamples` hierarchical resamples, shape [len(qs), resamples]: each draws as
    many rounds as there are, with replacement, and fills the slots of the i-th round with requests drawn with
    replacement from the i-th drawn round. One draw serves every q; drawn in chunks to bound memory. With one
    round no round is drawn (numpy draws nothing from a range of one), so it is the plain bootstrap."""
    x, count = data.values, data.values.size
    slot_round = np.repeat(np.arange(data.sizes.size), data.sizes)  # [count]: the round each slot belongs to
    rows = max(1, BOOTSTRAP_CHUNK_VALUES // count)
    out = []
    for start in range(0, resamples, rows):
        k = min(rows, resamples - start)
        drawn = rng.integers(0, data.sizes.size, size=(k, data.sizes.size))[:, slot_round]  # [k, count]
        idx = data.starts[drawn] + rng.integers(0, data.sizes[drawn])
        out.append(np.percentile(x[idx], qs, axis=1, method="linear"))
    return np.concatenate(out, axis=1)


def _tails(level: float) -> list[float]:
    if not 0 < level < 1:
        raise ValueError(f"confidence level must lie in (0, 1), got {level}")
    return [100 * (1 - level) / 2, 100 * (1 + level) / 2]


def percentile_cis(samples, qs: list[float], level: float = DEFAULT_LEVEL, resamples: int = BOOTSTRAP_RESAMPLES,
                   seed: int = BOOTSTRAP_SEED, rounds=None) -> list[Interval]:
    """Bootstrap intervals of the qs-th percentiles (0-100) of `samples`, from one set of resamples;
    rounds: each sample's round (None: one round)."""
    resampled = _bootstrap(layout(samples, rounds), list(qs), np.random.default_rng(seed), resamples)
    ends = np.percentile(resampled, _tails(level), axis=1)
    return [Interval(float(low), float(high)) for low, high in ends.T]


def ratio_of_medians(a, b, level: float = DEFAULT_LEVEL, resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = BOOTSTRAP_SEED, rounds_a=None, rounds_b=None) -> RatioEstimate:
    """median(b) / median(a), with a bootstrap interval: a and b resampled independently, each by its rounds
    (None: one round)."""
    return ratio_of_percentiles(a, b, 50, level, resamples, seed, rounds_a, rounds_b)


@dataclass(frozen=True)
class PointSamples:
    """A point's timed requests in ms and the round of each."""
    ms: np.ndarray
    rounds: np.ndarray

    @property
    def size(self) -> int:
        return self.ms.size


def ratio_of_points(a: PointSamples, b: PointSamples, level: float = DEFAULT_LEVEL) -> RatioEstimate:
    """median(b) / median(a) of two points' timed requests, each resampled by its rounds."""
    return ratio_of_medians(a.ms, b.ms, level=level, rounds_a=a.rounds, rounds_b=b.rounds)


def ratio_of_percentiles(a, b, q: float, level: float = DEFAULT_LEVEL, resamples: int = BOOTSTRAP_RESAMPLES,
                         seed: int = BOOTSTRAP_SEED, rounds_a=None, rounds_b=None) -> RatioEstimate:
    """The q-th percentile (0-100) of b over that of a, with a bootstrap interval: a and b resampled
    independently, each by its rounds (None: one round)."""
    la, lb = layout(a, rounds_a), layout(b, rounds_b)
    rng = np.random.default_rng(seed)
    ratios = _bootstrap(lb, [q], rng, resamples)[0] / _bootstrap(la, [q], rng, resamples)[0]
    low, high = np.percentile(ratios, _tails(level))
    estimate = np.percentile(lb.values, q, method="linear") / np.percentile(la.values, q, method="linear")
    return RatioEstimate(float(estimate), float(low), float(high), level)
