"""The run's verdict: unstable points, the fastest correct strategy per range of lengths with its
speed-up and interval, failures and mismatches, skipped strategies once."""
from __future__ import annotations

from bench.reporting.compare import load_run_samples
from bench.reporting.records import PointRecord
from bench.reporting.report import load_summary
from bench.reporting.stats import ratio_of_medians
from bench.reporting.verdict import (BASELINE_FASTEST, FASTER, NO_DIFFERENCE, leads, problems, skipped, stability_line,
                                     unstable_points)
from tests.conftest import CUDA_REASON, baseline_ms, lognormal_ms, ok, record_run


def verdict_inputs(folder):
    run, df = load_summary(folder)
    return run, df, load_run_samples(folder).samples


def test_the_fastest_correct_strategy_leads_each_range_and_a_wrong_faster_one_never_does(sweep):
    run, df, samples = verdict_inputs(sweep)
    found = leads(df, samples)
    assert [(lead.strategy, lead.verdict, lead.lengths) for lead in found] == [
        ("jit-only", FASTER, (10, 20, 30)),  # jit+cuda was faster at 10, and wrong
        ("jit-only", NO_DIFFERENCE, (40, 50)),  # 0.1% faster: inside the interval
    ]
    assert dict(found[0].ties) == {"torch-compile": (10, 20)}  # timed alike where it was measured
    assert found[1].ties == ()


def test_a_speedup_carries_the_bootstrap_interval_of_the_two_points(sweep):
    run, df, samples = verdict_inputs(sweep)
    first, level = leads(df, samples)
    est = ratio_of_medians(samples[("jit-only", 10)], samples[("baseline", 10)])
    assert (first.speedups[0].ratio, first.speedups[0].low, first.speedups[0].high) == (est.ratio, est.low, est.high)
    assert first.speedups[0].low > 1.8
    assert all(s.low <= 1 <= s.high for s in level.speedups)


def test_a_length_without_a_correct_point_ends_the_range(tmp_path):
    points = [("baseline", ok(10, baseline_ms(1))), ("baseline", PointRecord(prompt_len=20, status="error", note="x")),
              ("baseline", ok(30, baseline_ms(3)))]
    points += [("jit-only", ok(n, lognormal_ms(10 + n, 5.0))) for n in (10, 30)]
    points.append(("jit-only", PointRecord(prompt_len=20, status="error", note="no reference")))
    run, df, samples = verdict_inputs(record_run(tmp_path / "r", points))
    assert [(lead.strategy, lead.lengths) for lead in leads(df, samples)] == [("jit-only", (10,)), ("jit-only", (30,))]


def test_where_no_strategy_beats_the_baseline_the_baseline_leads(tmp_path):
    points = [("baseline", ok(10, baseline_ms(1))), ("jit-only", ok(10, baseline_ms(1) * 1.3))]
    run, df, samples = verdict_inputs(record_run(tmp_path / "r", points))
    (lead,) = leads(df, samples)
    assert (lead.strategy, lead.verdict, lead.speedups) == ("baseline", BASELINE_FASTEST, ())


def test_failures_and_mismatches_of_points_probes_and_restarts_are_listed(sweep):
    run, df, _ = verdict_inputs(sweep)
    lines = problems(run, df)
    assert "failed: torch-compile @ 30, 40: OOM" in lines
    assert any(line.startswith("MISMATCH: jit+cuda @ 10: 7/8 prompts agreed; 3 of 100 timed tokens differ")
               for line in lines), lines
    assert "MISMATCH: jit+cuda at the unseen length 15: returned token 5, baseline's 6" in lines
    assert "MISMATCH: torch-compile after a restart: 39/40 prompts agreed" in lines
    assert len(lines) == 4


def test_skipped_strategies_are_named_once_per_reason(sweep):
    run, df, _ = verdict_inputs(sweep)
    assert skipped(run, df) == [f"skipped: cuda-graph, cuda-graph-2 ({CUDA_REASON})"]


def test_the_stability_line_counts_and_names_unstable_points(run_dir):
    run, df = load_summary(run_dir)
    assert [(s, n, sorted(rules)) for s, n, rules in unstable_points(df)] == [("jit-only", 10, ["max", "std"])]
    line = stability_line(df)
    assert line.startswith("1 of 3 points unstable (std >= 10% of the mean, or min/max >= 50% away from it): "
                           "jit-only @ 10 (")
    assert line.endswith("(std up to 125% of the mean, max up to 543% above the mean).")  # mean 1.4, max 9
    assert stability_line(df.assign(unstable=False)).startswith("0 of 3 points unstable")


def test_unjudged_points_are_neither_leaders_nor_mismatches(tmp_path):
    points = [("baseline", ok(10, baseline_ms(1))), ("jit-only", ok(10, lognormal_ms(2, 5.0), matches=None))]
    run, df, samples = verdict_inputs(record_run(tmp_path / "r", points))
    assert [lead.strategy for lead in leads(df, samples)] == ["baseline"]
    assert problems(run, df) == []
