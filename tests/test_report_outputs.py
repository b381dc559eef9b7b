"""The report's outputs: intervals in summary.csv and summary.json, the tables' Average and Total
rows, the console's rows and warnings, and plots (fixed colours, none without data, byte-identical)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bench.reporting.console import console_table, console_warnings
from bench.reporting.plots import color, plot_title
from bench.reporting.records import PointRecord
from bench.reporting.report import write_report
from bench.reporting.results_io import RunRecord
from bench.reporting.stats import percentile_cis

ENV = {"cpu": "Test CPU", "torch": "2.13", "transformers": "5.17", "python": "3.11", "git_commit": "abc"}


@pytest.fixture
def run_dir(tmp_path):
    rng = np.random.default_rng(0)
    record = RunRecord.start(tmp_path / "r", "r", {"name": "r", "model": {"preset": "tiny-llama", "dtype": "float32"},
                                                   "tags": {"driver": "new"}}, ENV)
    for n, scale in ((10, 1.0), (20, 2.0)):
        ms = 10 * scale * rng.lognormal(0, 0.05, 100)
        record.add_point("baseline", PointRecord(prompt_len=n, status="ok", jit_compile_ms=100.0 * scale,
                                                 samples_ns=tuple(int(v * 1e6) for v in ms)))
    noisy = [1.0] * 95 + [9.0] * 5  # max 9x the mean: unstable
    record.add_point("jit-only", PointRecord(prompt_len=10, status="ok", jit_compile_ms=50.0,
                                             samples_ns=tuple(int(v * 1e6) for v in noisy)))
    record.add_point("jit-only", PointRecord(prompt_len=20, status="skipped", note="needs a GPU"))
    record.finish("complete")
    write_report(tmp_path / "r")
    return tmp_path / "r"


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


def test_console_prints_counts_as_integers_and_reasons_and_flags_from_the_unstable_column(run_dir):
    df = pd.read_csv(run_dir / "summary.csv", dtype={"n": "Int64"})
    text = console_table(df)
    assert "  100  " in text and "100.00" not in text
    assert "needs a GPU" in text
    assert [w.split(":")[0] for w in console_warnings(df)] == ["warning"]
    assert "jit-only @ 10" in console_warnings(df)[0]
    assert console_warnings(df.assign(unstable=False)) == []  # read from the column, not the note's words


def test_a_cpu_run_writes_no_memory_plot_and_says_why(run_dir):
    assert not (run_dir / "plots" / "memory.png").exists()
    assert "memory.png (no point measured GPU memory" in (run_dir / "table.md").read_text()
    assert (run_dir / "plots" / "ttft.png").exists()


def test_plots_regenerate_byte_identical(run_dir):
    before = {p.name: p.read_bytes() for p in (run_dir / "plots").iterdir()}
    write_report(run_dir)
    assert {p.name: p.read_bytes() for p in (run_dir / "plots").iterdir()} == before


def test_a_strategy_keeps_its_colour_and_the_title_names_device_model_dtype_and_n(run_dir):
    assert color("jit+cuda") == color("jit+cuda") != color("cuda-graph")
    assert color("my-new-strategy") == color("my-new-strategy")
    df = pd.read_csv(run_dir / "summary.csv")
    run = json.loads((run_dir / "run.json").read_text())
    assert plot_title(run, df) == "r: Test CPU, tiny-llama, float32, n=100"


def test_a_stale_plot_without_data_is_removed_on_regeneration(run_dir):
    (run_dir / "plots" / "memory.png").write_bytes(b"from an earlier report")
    write_report(run_dir)
    assert not (run_dir / "plots" / "memory.png").exists()
