"""Statistics against numpy on known data."""
from __future__ import annotations

import numpy as np
import pytest

from bench.reporting.stats import stability, summarize


def test_summary_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.gamma(4.0, 2.0, size=300)  # n - 1 = 299: every percentile falls between two samples
    s = summarize(x)
    assert s.n == 300
    assert s.mean == pytest.approx(x.mean())
    assert (s.p50, s.p90, s.p99) == pytest.approx(tuple(np.percentile(x, [50, 90, 99], method="linear")))
    assert (s.min, s.max) == (x.min(), x.max())
    assert s.std == pytest.approx(x.std(ddof=1))


@pytest.mark.parametrize("method", ["lower", "higher", "nearest", "midpoint"])
def test_the_data_tell_linear_interpolation_from_other_methods(method):
    x = np.random.default_rng(1).gamma(4.0, 2.0, size=300)
    assert summarize(x).p90 != pytest.approx(np.percentile(x, 90, method=method))


def test_known_percentiles():
    # [0, 10, 20, 40]: positions 1.5, 2.7, 2.97 -> 15, 20 + 0.7 x 20, 20 + 0.97 x 20
    # (lower 10/20/20, higher and nearest 20/40/40, midpoint 15/30/30)
    s = summarize([40.0, 0.0, 20.0, 10.0])
    assert (s.p50, s.p90, s.p99) == pytest.approx((15.0, 34.0, 39.4))
    s = summarize(range(1, 101))  # 1..100
    assert (s.p50, s.p90, s.p99) == pytest.approx((50.5, 90.1, 99.01))


def test_single_sample_and_empty():
    assert summarize([3.0]).std == 0.0
    with pytest.raises(ValueError):
        summarize([])


def test_stable_data_has_no_warning():
    assert list(stability(summarize([10.0, 10.1, 9.9] * 40)).warnings) == []


def test_unstable_data_warns_on_std_and_max():
    w = " ".join(stability(summarize([10.0] * 150 + [40.0] * 10)).warnings)
    assert "std is" in w and "max is" in w


def test_small_n_warns_that_p99_is_the_max():
    assert any("p99" in w for w in stability(summarize([1.0, 1.0, 1.0])).warnings)
