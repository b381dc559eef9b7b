"""The console's load block: capacity at the objective, the median's range, the best throughput, and a
level whose answers disagreed named as a failure."""
from __future__ import annotations

import pandas as pd

from bench.reporting.console_load import load_verdict


def level(strategy, batching, n, p50, rps, correct=True, status="ok", capacity=None, capacity_rps=None):
    return {"strategy": strategy, "batching": batching, "mode": "concurrency", "level": n, "requests": 100,
            "ttft_p50_ms": p50, "throughput_rps": rps, "correct": correct, "status": status,
            "capacity_level": capacity, "capacity_rps": capacity_rps, "note": None}


def test_each_setting_gets_its_capacity_range_and_verdict():
    df = pd.DataFrame([level("jit+cuda", "batch16-wait5000us", 1, 5.5, 180.0, capacity=16, capacity_rps=366.0),
                       level("jit+cuda", "batch16-wait5000us", 16, 42.2, 366.0, capacity=16, capacity_rps=366.0),
                       level("jit+cuda", "batch1", 1, 5.3, 190.0),
                       level("jit+cuda", "batch1", 16, 76.3, 209.0, correct=False)])
    lines = load_verdict(df, 50).splitlines()
    assert "50 ms" in lines[0] and len(lines) == 3
    assert lines[1] == ("  jit+cuda batch16-wait5000us, closed loop: capacity 16 clients at 366.0 requests/s; median "
                        "TTFT 5.50 ms at 1 clients to 42.20 ms at 16; up to 366.0 requests/s; every answer agreed")
    assert "no level meets the objective" in lines[2] and "disagreed at 16 clients: FAILED" in lines[2]


def test_a_setting_with_no_level_measured_says_why():
    df = pd.DataFrame([{**level("baseline", "batch1", 1, None, None, status="error"), "requests": 0,
                        "note": "the server never became ready"}])
    assert "no level measured (the server never became ready)" in load_verdict(df, 50)
