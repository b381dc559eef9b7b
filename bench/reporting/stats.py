"""All statistics of the harness: percentiles and stability warnings, in one place."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# below this many samples a "p99" is just the maximum (numpy's linear interpolation between
# the two largest order statistics needs n >= 100 to sit strictly below the max)
P99_MIN_SAMPLES = 100
# pyperf's rules for an unstable benchmark
UNSTABLE_STD_RATIO = 0.10
UNSTABLE_MINMAX_RATIO = 0.50


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


def summarize(samples) -> Summary:
    """Mean, percentiles (numpy linear interpolation), min, max and sample std of `samples`."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        raise ValueError("no samples to summarize")
    p50, p90, p99 = np.percentile(x, [50, 90, 99], method="linear")
    std = float(x.std(ddof=1)) if x.size > 1 else 0.0
    return Summary(int(x.size), float(x.mean()), float(p50), float(p90), float(p99),
                   float(x.min()), float(x.max()), std)


def stability_warnings(s: Summary) -> list[str]:
    """pyperf's warnings: std >= 10% of the mean, min or max >= 50% away from the mean; small n."""
    warnings = []
    if s.mean > 0 and s.std >= UNSTABLE_STD_RATIO * s.mean:
        warnings.append(f"unstable: std is {s.std / s.mean:.0%} of the mean")
    if s.mean > 0 and s.min <= (1 - UNSTABLE_MINMAX_RATIO) * s.mean:
        warnings.append(f"unstable: min is {1 - s.min / s.mean:.0%} below the mean")
    if s.mean > 0 and s.max >= (1 + UNSTABLE_MINMAX_RATIO) * s.mean:
        warnings.append(f"unstable: max is {s.max / s.mean - 1:.0%} above the mean")
    if s.n < P99_MIN_SAMPLES:
        warnings.append(f"n={s.n} < {P99_MIN_SAMPLES}: p99 is close to the maximum")
    return warnings
