"""The console at the end of a run: one verdict block (stability first, the fastest correct strategy
per range with its speed-up and interval, ready time, failures, mismatches, skipped strategies once)
and, on request, the per-point table without the skipped rows."""
from __future__ import annotations

import re

import pandas as pd

from bench.reporting.compare import load_run_samples
from bench.reporting.console import console_table, console_verdict
from bench.reporting.report import load_summary
from tests.conftest import CUDA_REASON


def verdict_of(folder) -> list[str]:
    run, df = load_summary(folder)
    return console_verdict(run, df, load_run_samples(folder).samples).splitlines()


def test_the_verdict_opens_with_stability_and_names_each_range_once(sweep):
    lines = verdict_of(sweep)
    assert lines[0] == "sweep (complete)"
    assert lines[1].startswith("stability: 0 of 18 points unstable")
    ranges = [line.strip() for line in lines if line.startswith("  ")]
    assert len(ranges) == 2
    assert ranges[0] == ("10-30 tokens: jit-only x1.98-x2.03 (intervals within x1.95-x2.06) faster than the baseline; "
                         "ready in 21.5 s (15.0 s after a restart); torch-compile not significantly slower at 10, 20")
    assert ranges[1].startswith("40-50 tokens: jit-only fastest, but no significant difference from the baseline "
                                "(x1.00")


def test_every_speedup_is_printed_with_its_interval(sweep, run_dir):
    lines = verdict_of(sweep) + verdict_of(run_dir)  # ranges of several lengths, and one of one length
    ratios = [(line, ratio) for line in lines for ratio in re.finditer(r"x\d+\.\d\d(-x\d+\.\d\d)? ", line)]
    assert {bool(ratio.group(1)) for _, ratio in ratios} == {True, False}
    for line, ratio in ratios:
        assert line[ratio.end():].startswith("(interval"), line


def test_failures_mismatches_and_skipped_strategies_follow_once(sweep):
    lines = verdict_of(sweep)
    text = "\n".join(lines)
    assert "correctness: 12 of 13 measured points agree with the baseline" in lines
    assert "failed: torch-compile @ 30, 40: OOM" in lines
    assert text.count(CUDA_REASON) == 1
    assert lines[-1] == f"skipped: cuda-graph, cuda-graph-2 ({CUDA_REASON})"
    assert sum(line.startswith("MISMATCH: ") for line in lines) == 3


def test_an_unstable_leader_is_said_in_its_range(run_dir):
    lines = verdict_of(run_dir)
    assert lines[1].startswith("stability: 1 of 3 points unstable")
    assert any(line.strip().startswith("10 tokens: jit-only") and line.endswith("; unstable at 10") for line in lines)


def test_the_point_table_prints_counts_as_integers_and_leaves_skipped_rows_out(run_dir):
    df = pd.read_csv(run_dir / "summary.csv", dtype={"n": "Int64"})
    text = console_table(df)
    assert "  100  " in text and "100.00" not in text
    assert "needs a GPU" not in text and len(text.splitlines()) == 4  # header, two baseline rows, one jit-only
    errored = df.assign(status=["ok", "ok", "error", "skipped"], note=["", "", "OOM at 10", "needs a GPU"])
    assert "OOM at 10" in console_table(errored)
