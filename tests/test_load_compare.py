"""compare covers load results: per load level measured in both runs, the p50 and p99 ratios with intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.reporting.compare import load_run_samples
from bench.reporting.load_compare import compare_load
from tests.conftest import write_load_run

N = 200


def ttfts(seed: int, scale: float = 1.0) -> np.ndarray:
    return 10.0 * scale * np.random.default_rng(seed).lognormal(0.0, 0.1, N)


def runs(tmp_path, scale: float):
    a = write_load_run(tmp_path / "a", {("jit+cuda", "batch16", "concurrency", 8): (ttfts(1), "ok", 0),
                                        ("jit+cuda", "batch1", "concurrency", 8): (ttfts(2), "ok", 0)})
    b = write_load_run(tmp_path / "b", {("jit+cuda", "batch16", "concurrency", 8): (ttfts(3, scale), "ok", 0),
                                        ("jit+cuda", "batch16", "rate", 100.0): (ttfts(4), "ok", 0)})
    return [load_run_samples(r.out_dir) for r in (a, b)]


def test_a_level_in_both_runs_gets_p50_and_p99_ratios_with_intervals(tmp_path):
    df = compare_load(runs(tmp_path, 2.0), 0.95)
    assert len(df) == 1  # only the level measured in both
    row = df.iloc[0]
    assert (row.strategy, row.batching, row["mode"], row.level, row.n_reference, row.n_run) == (
        "jit+cuda", "batch16", "concurrency", 8.0, N, N)
    for q in ("p50", "p99"):
        assert row[f"{q}_verdict"] == "slower" and 1 < row[f"{q}_ci_low"] < row[f"{q}_ratio"] < row[f"{q}_ci_high"]
    assert row.p50_ratio == pytest.approx(2.0, rel=0.05)
    a, b = ttfts(1), ttfts(3, 2.0)
    assert row.p99_ratio == pytest.approx(np.percentile(b, 99) / np.percentile(a, 99), rel=1e-6)  # ns rounding
    expected = (np.percentile(a, 99), np.percentile(b, 99))
    assert (row.p99_reference_ms, row.p99_run_ms) == pytest.approx(expected, rel=1e-6)


def test_the_compare_command_shows_and_writes_the_load_comparison(tmp_path, capsys):
    runs(tmp_path, 1.0)
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "## Under load" in out and "| jit+cuda | batch16 | concurrency | 8 |" in out
    assert "## Under load" in (tmp_path / "cmp" / "compare.md").read_text()
    assert len(pd.read_csv(tmp_path / "cmp" / "compare_load.csv")) == 1


def test_the_compare_command_refuses_load_rows_that_do_not_check_out(tmp_path, capsys):
    runs(tmp_path, 1.0)
    path = tmp_path / "b" / "load_samples.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))  # a row lost
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "rows, its level sent" in capsys.readouterr().err
