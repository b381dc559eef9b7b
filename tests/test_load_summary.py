"""load_summary.csv from the raw rows alone: the contract's columns, percentiles with intervals, throughput
and goodput over the level's window, capacity at the objective; table.md's section and plots/load.png."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from bench.reporting.load_summary import COLUMNS
from bench.reporting.report import write_report
from tests.conftest import REPO, write_load_run

CONTRACT = ["strategy", "batching", "mode", "level", "requests", "ttft_p50_ms", "ttft_p99_ms", "queue_p50_ms",
            "throughput_rps", "correct", "saturated"]
N = 100


def ttfts(center_ms: float, seed: int) -> np.ndarray:
    return center_ms * np.random.default_rng(seed).lognormal(0.0, 0.1, N)


LEVELS = {
    ("baseline", "batch1", "concurrency", 1): (ttfts(20, 1), "ok", 0),
    ("baseline", "batch1", "concurrency", 2): (ttfts(40, 2), "ok", 0),
    ("baseline", "batch1", "concurrency", 4): (ttfts(80, 3), "ok", 0),  # p99 beyond the 50 ms objective
    ("jit+cuda", "batch16", "concurrency", 1): (ttfts(5, 4), "ok", 0),
    ("jit+cuda", "batch16", "concurrency", 2): (ttfts(6, 5), "ok", 1),  # one answer not the baseline's
    ("jit+cuda", "batch16", "concurrency", 4): (ttfts(8, 6), "ok", 0),
    ("jit+cuda", "batch16", "rate", 100.0): (ttfts(7, 7), "ok", 0),
    ("jit+cuda", "batch16", "rate", 400.0): (ttfts(30, 8), "saturated", 0),
}


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "run"
    write_load_run(folder, LEVELS)
    write_report(folder)
    return folder


def test_the_summary_has_the_contract_columns_first_and_a_row_per_level(run_dir):
    df = pd.read_csv(run_dir / "load_summary.csv")
    assert list(df.columns[:len(CONTRACT)]) == CONTRACT and list(df.columns) == COLUMNS
    assert len(df) == len(LEVELS) and (df.requests == N).all()  # the warm-up left out of the statistics
    row = df[(df.strategy == "baseline") & (df.level == 2)].iloc[0]
    ms = LEVELS[("baseline", "batch1", "concurrency", 2)][0]
    assert row.ttft_p50_ms == pytest.approx(np.percentile(ms, 50), abs=1e-4)
    assert row.ttft_p99_ms == pytest.approx(np.percentile(ms, 99), abs=1e-4)
    assert row.ttft_p50_ci_low_ms < row.ttft_p50_ms < row.ttft_p50_ci_high_ms
    assert row.ttft_p90_ci_low_ms < row.ttft_p90_ms < row.ttft_p90_ci_high_ms
    assert row.server_ttft_p50_ms == pytest.approx(0.8 * row.ttft_p50_ms, rel=1e-3)
    assert row.queue_p50_ms == pytest.approx(0.1 * row.ttft_p50_ms, rel=1e-3)


def test_throughput_and_goodput_count_the_timed_requests_over_their_window(run_dir):
    df = pd.read_csv(run_dir / "load_summary.csv")
    row = df[(df.strategy == "baseline") & (df.level == 4)].iloc[0]
    ms = LEVELS[("baseline", "batch1", "concurrency", 4)][0]
    window_s = ((N - 1) * 10 + ms[-1]) / 1000  # sent 10 ms apart; the last answer closes the window
    assert row.throughput_rps == pytest.approx(N / window_s, rel=1e-4)
    assert row.goodput_rps == pytest.approx((ms <= 50).sum() / window_s, rel=1e-4)
    prompt_tokens = sum(8 if k % 2 else 24 for k in range(N))
    assert row.prompt_tokens_per_s == pytest.approx(prompt_tokens / window_s, rel=1e-4)
    assert row.batch_size_mean == pytest.approx(np.mean([1 + k % 4 for k in range(N)]))


def test_capacity_is_the_highest_level_meeting_the_objective_correct_and_unsaturated(run_dir):
    df = pd.read_csv(run_dir / "load_summary.csv").set_index(["strategy", "mode", "level"])
    assert df.loc[("baseline", "concurrency", 2), "capacity_level"] == 2  # 4 clients: p99 over 50 ms
    assert not df.loc[("baseline", "concurrency", 4), "meets_slo"]
    assert not df.loc[("jit+cuda", "concurrency", 2), "correct"]  # a mismatch: never capacity
    assert df.loc[("jit+cuda", "concurrency", 1), "capacity_level"] == 4
    assert df.loc[("jit+cuda", "rate", 400.0), "saturated"]
    assert df.loc[("jit+cuda", "rate", 100.0), "capacity_level"] == 100  # the saturated 400 does not count
    assert df.loc[("jit+cuda", "rate", 100.0), "capacity_rps"] == df.loc[("jit+cuda", "rate", 100.0), "throughput_rps"]


def test_the_table_has_a_load_section_and_the_plot_is_drawn(run_dir):
    table = (run_dir / "table.md").read_text()
    assert "## Under load" in table and "### jit+cuda, batch16" in table and "### Capacity" in table
    assert "✗ MISMATCH" in table and "saturated" in table and "![TTFT against throughput](plots/load.png)" in table
    assert (run_dir / "plots" / "load.png").stat().st_size > 10_000


def test_the_report_rebuilds_the_load_files_byte_for_byte_from_the_raw_rows(run_dir):
    names = ["load_summary.csv", "table.md", "plots/load.png"]
    written = {name: (run_dir / name).read_bytes() for name in names}
    for name in names:
        (run_dir / name).unlink()
    write_report(run_dir)
    for name in names:
        assert (run_dir / name).read_bytes() == written[name], name


def test_a_run_without_load_has_no_load_files(tmp_path, run_dir):
    import json
    data = json.loads((run_dir / "run.json").read_text())
    del data["load"]
    (run_dir / "run.json").write_text(json.dumps(data))
    write_report(run_dir)
    assert not (run_dir / "load_summary.csv").exists() and not (run_dir / "plots" / "load.png").exists()
    assert "Under load" not in (run_dir / "table.md").read_text()


def test_the_load_report_and_compare_import_neither_torch_nor_strategies():
    code = ("import sys, bench.reporting.report, bench.reporting.load_compare\n"
            "loaded = [m for m in sys.modules if m == 'torch' or m.startswith('strategies')]\n"
            "assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)
