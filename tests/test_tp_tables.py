"""Tensor-parallel tables: a cell marks a failed check and shows a missing point as a dash, never nan."""
from __future__ import annotations

import pandas as pd

from bench.reporting.tp_tables import cell, floor_table


def test_a_table_cell_marks_a_failed_check_and_shows_a_missing_point_as_a_dash(medians):
    df = medians([("jit+cuda", 10, 3.6449), ("cuda-graph", 10, 6.62)])
    df.loc[df.strategy == "cuda-graph", "matches_baseline"] = False
    assert cell(df, "jit+cuda", 10) == "3.64"
    assert cell(df, "cuda-graph", 10) == "6.62 ✗"
    assert cell(df, "jit+cuda", 100) == "-"
    errored = pd.DataFrame([{"strategy": "jit+cuda", "prompt_len": 10, "status": "error", "matches_baseline": None,
                             "ttft_p50_ms": None, "note": "OOM"}])
    assert cell(errored, "jit+cuda", 10) == "-"


def test_the_floor_table_keeps_the_given_order_and_only_measured_strategies(medians):
    df = medians([("baseline", 10, 900.0), ("jit+cuda", 10, 18.0), ("jit+cuda", 100, 21.0)])
    df["floor_ms"] = 15.0
    table = floor_table(df, "jit+cuda", ["jit+cuda", "torch-compile", "baseline"])
    assert table.splitlines()[0] == "| Prompt Length | TP floor | jit+cuda | baseline |"
    assert "| 100 | 15.00 | 21.00 | - |" in table
