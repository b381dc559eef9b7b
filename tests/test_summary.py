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
