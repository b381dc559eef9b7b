"""The summary's speed-up: baseline p50 over the strategy's p50, at the same length."""
from __future__ import annotations

import pandas as pd
import pytest

from bench.reporting.summary import build_summary

MS = 1_000_000  # ns


def test_a_strategy_twice_as_fast_has_speedup_two():
    run = {"strategies": {"baseline": {}, "fast": {}},
           "points": [{"strategy": name, "prompt_len": 10, "status": "ok"} for name in ("baseline", "fast")]}
    samples = pd.DataFrame({"strategy": ["baseline"] * 3 + ["fast"] * 3, "prompt_len": [10] * 6,
                            "ttft_ns": [19 * MS, 20 * MS, 21 * MS, 9 * MS, 10 * MS, 11 * MS]})
    df = build_summary(run, samples).set_index("strategy")
    assert df.loc["baseline", "ttft_p50_ms"] == pytest.approx(20.0)
    assert df.loc["fast", "ttft_p50_ms"] == pytest.approx(10.0)
    assert df.loc["fast", "speedup_vs_baseline"] == pytest.approx(2.0)
    assert df.loc["baseline", "speedup_vs_baseline"] == pytest.approx(1.0)


def drifting_run(rounds_of) -> tuple[dict, pd.DataFrame]:
    """A baseline at 20 ms and a strategy at 10 ms whose level moves by +-20% from round to round, five rounds
    of ten requests each; `rounds_of(i)` is the round label of request i (as recorded, or not)."""
    run = {"strategies": {"baseline": {}, "fast": {}},
           "points": [{"strategy": name, "prompt_len": 10, "status": "ok"} for name in ("baseline", "fast")]}
    levels = [1.0, 1.2, 0.8, 1.1, 0.9]
    fast = [int(10 * MS * levels[i // 10] * (1 + 0.01 * (i % 10))) for i in range(50)]
    base = [int(20 * MS * (1 + 0.01 * (i % 10))) for i in range(50)]
    samples = pd.DataFrame({"strategy": ["baseline"] * 50 + ["fast"] * 50, "prompt_len": [10] * 100,
                            "ttft_ns": base + fast, "round": [rounds_of(i) for i in range(50)] * 2})
    return run, samples


def test_the_speedup_carries_an_interval_that_widens_with_the_drift_between_rounds():
    nested = build_summary(*drifting_run(lambda i: i // 10)).set_index("strategy")
    one_round = build_summary(*drifting_run(lambda i: 0)).set_index("strategy")
    assert nested.loc["fast", "rounds"] == 5 and one_round.loc["fast", "rounds"] == 1
    for df in (nested, one_round):
        low, high = df.loc["fast", ["speedup_ci_low", "speedup_ci_high"]]
        assert low < df.loc["fast", "speedup_vs_baseline"] < high
        assert pd.isna(df.loc["baseline", "speedup_ci_low"])  # 1 by definition
    width = {name: df.loc["fast", "speedup_ci_high"] - df.loc["fast", "speedup_ci_low"]
             for name, df in (("nested", nested), ("one round", one_round))}
    assert width["nested"] > 2 * width["one round"]
    p50 = {name: df.loc["fast", "ttft_p50_ci_high_ms"] - df.loc["fast", "ttft_p50_ci_low_ms"]
           for name, df in (("nested", nested), ("one round", one_round))}
    assert p50["nested"] > 2 * p50["one round"]
