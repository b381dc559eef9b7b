"""The report's outputs: intervals in summary.csv and summary.json, the tables' Average and Total rows
(the run_dir fixture of conftest.py: a tiny reported run)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from bench.reporting.stats import percentile_cis


def test_summary_csv_carries_the_bootstrap_intervals_of_p50_and_p99(run_dir):
    df = pd.read_csv(run_dir / "summary.csv")
    samples = pd.read_csv(run_dir / "samples.csv")
    ms = samples[(samples.strategy == "baseline") & (samples.prompt_len == 10)].ttft_ns / 1e6
    row = df[(df.strategy == "baseline") & (df.prompt_len == 10)].iloc[0]
    p50, p99 = percentile_cis(ms, [50, 99])
    assert (row.ttft_p50_ci_low_ms, row.ttft_p50_ci_high_ms) == pytest.approx((p50.low, p50.high), abs=1e-4)
    assert (row.ttft_p99_ci_low_ms, row.ttft_p99_ci_high_ms) == pytest.approx((p99.low, p99.high), abs=1e-4)
    assert row.ttft_p50_ci_low_ms < row.ttft_p50_ms < row.ttft_p50_ci_high_ms
    assert percentile_cis(ms, [50])[0] == p50  # the shared draw gives each percentile the interval it has alone


def test_summary_json_has_the_csv_numbers_the_metadata_and_tags(run_dir):
    data = json.loads((run_dir / "summary.json").read_text())
    csv = pd.read_csv(run_dir / "summary.csv")
    assert [r["ttft_p50_ci_high_ms"] for r in data["rows"]][:2] == pytest.approx(list(csv.ttft_p50_ci_high_ms[:2]))
    assert data["run"]["environment"]["cpu"] == "Test CPU" and data["tags"] == {"driver": "new"}
    assert "2,000 resamples" in data["confidence_intervals"]["method"]
    assert data["rows"][3]["ttft_p50_ms"] is None  # the skipped row: null, not NaN


def test_average_row_means_p50_and_memory_only_and_total_sums_compile(run_dir):
    table = (run_dir / "table.md").read_text()
    baseline = table[table.index("## baseline"):table.index("## jit-only")]
    average = next(line for line in baseline.splitlines() if line.startswith("| **Average**")).split("|")
    total = next(line for line in baseline.splitlines() if line.startswith("| **Total**")).split("|")
    assert average[4].strip() == ""  # no mean of p99
    assert total[6].strip() == "**300.0**"  # 100 + 200 ms of compile
    assert "Tags: driver=new." in table
