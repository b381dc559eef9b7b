"""Statistics against numpy on known data."""
from __future__ import annotations

import numpy as np
import pytest

from bench.reporting.stats import stability_warnings, summarize


def test_summary_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.gamma(4.0, 2.0, size=301)
    s = summarize(x)
    assert s.n == 301
    assert s.mean == pytest.approx(x.mean())
    assert (s.p50, s.p90, s.p99) == pytest.approx(tuple(np.percentile(x, [50, 90, 99])))
    assert (s.min, s.max) == (x.min(), x.max())
    assert s.std == pytest.approx(x.std(ddof=1))


def test_known_percentiles():
    s = summarize(range(1, 101))  # 1..100
    assert s.p50 == pytest.approx(50.5)
    assert s.p90 == pytest.approx(90.1)
    assert s.p99 == pytest.approx(99.01)


def test_single_sample_and_empty():
    assert summarize([3.0]).std == 0.0
    with pytest.raises(ValueError):
        summarize([])


def test_stable_data_has_no_warning():
    assert stability_warnings(summarize([10.0, 10.1, 9.9] * 40)) == []


def test_unstable_data_warns_on_std_and_max():
    w = " ".join(stability_warnings(summarize([10.0] * 150 + [40.0] * 10)))
    assert "std is" in w and "max is" in w


def test_small_n_warns_that_p99_is_the_max():
    assert any("p99" in w for w in stability_warnings(summarize([1.0, 1.0, 1.0])))
