"""Statistics against numpy on known data."""
from __future__ import annotations

import numpy as np
import pytest

from bench.reporting.stats import percentile_cis, ratio_of_medians, stability, summarize


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


def plain_bootstrap_ci(x: np.ndarray, q: float, seed: int = 0) -> tuple[float, float]:
    """Today's bootstrap written out: n draws with replacement per resample, the middle 95% of the q-th
    percentiles (2,000 resamples, chunked as stats draws them: 100 samples fit one chunk)."""
    idx = np.random.default_rng(seed).integers(0, x.size, size=(2000, x.size))
    low, high = np.percentile(np.percentile(x[idx], q, axis=1, method="linear"), [2.5, 97.5])
    return float(low), float(high)


def drifting_rounds(seed: int, rounds: int = 10, per_round: int = 10, drift: float = 0.15, noise: float = 0.05):
    """Samples of a host-bound TTFT whose level moves from round to round (the load changes) by `drift`
    (log-normal sigma) around 10 ms, with `noise` within a round; and each sample's round."""
    rng = np.random.default_rng(seed)
    levels = 10.0 * rng.lognormal(0.0, drift, rounds)
    x = np.concatenate([level * rng.lognormal(0.0, noise, per_round) for level in levels])
    return x, np.repeat(np.arange(rounds), per_round)


def test_one_round_is_the_plain_bootstrap_resample_for_resample():
    x = np.random.default_rng(1).gamma(4.0, 2.0, size=100)
    (ci,) = percentile_cis(x, [50], rounds=np.zeros(x.size, dtype=int))
    assert (ci.low, ci.high) == plain_bootstrap_ci(x, 50)
    assert percentile_cis(x, [50, 99]) == percentile_cis(x, [50, 99], rounds=[7] * x.size)  # a label is a label


def test_drift_between_rounds_widens_the_interval_of_the_median():
    x, rounds = drifting_rounds(seed=3)
    (flat,) = percentile_cis(x, [50])
    (nested,) = percentile_cis(x, [50], rounds=rounds)
    assert nested.high - nested.low > 2 * (flat.high - flat.low)


def test_the_interval_of_the_median_covers_the_middle_level_despite_drift():
    # each trial's rounds drift around 10 ms: the nested interval should hold 10 ms in most trials, where
    # the one that ignores rounds is confidently wrong in many
    trials = [drifting_rounds(seed=100 + t) for t in range(60)]
    nested = [percentile_cis(x, [50], rounds=r)[0] for x, r in trials]
    flat = [percentile_cis(x, [50])[0] for x, _ in trials]
    assert sum(ci.low <= 10.0 <= ci.high for ci in nested) >= 50
    assert sum(ci.low <= 10.0 <= ci.high for ci in flat) <= 40


def test_a_repeated_run_with_drift_compares_as_no_difference():
    nested, flat = [], []
    for t in range(40):
        (a, rounds_a), (b, rounds_b) = drifting_rounds(seed=2 * t), drifting_rounds(seed=2 * t + 1)
        nested.append(ratio_of_medians(a, b, rounds_a=rounds_a, rounds_b=rounds_b).verdict)
        flat.append(ratio_of_medians(a, b).verdict)
    assert nested.count("no significant difference") >= 36
    assert flat.count("no significant difference") <= 30  # the drift fools the bootstrap that ignores rounds


def test_round_labels_must_match_the_samples():
    with pytest.raises(ValueError, match="3 samples but 2 round labels"):
        percentile_cis([1.0, 2.0, 3.0], [50], rounds=[0, 1])
