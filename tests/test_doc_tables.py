"""Markdown about runs: numbers rounded once from the summary, the headline's cells from the medians, the
run index newest first with every GPU run and no CPU run."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.reporting.doc_tables import agreement_text, leads, ranged, runs_index, ttft_table
from bench.reporting.stats import RatioEstimate

REPO = Path(__file__).resolve().parent.parent


def test_ranged_rounds_once_from_the_raw_values():
    assert ranged([1.114, 1.2349]) == "1.11-1.23"  # the committed table's max, not a hand-rounded 1.24
    assert ranged([0.004, 0.001], 2, " ms") == "0.00 ms"


def summary(rows):
    """A summary frame: strategy, length, status, p50, p99, floor, unstable, speed-up with its interval."""
    df = pd.DataFrame(rows, columns=["strategy", "prompt_len", "status", "ttft_p50_ms", "ttft_p99_ms", "floor_ms",
                                     "unstable"])
    base = df[df.strategy == "baseline"].set_index("prompt_len").ttft_p50_ms
    df["speedup_vs_baseline"] = df.prompt_len.map(base) / df.ttft_p50_ms
    return df.assign(speedup_ci_low=df.speedup_vs_baseline * 0.9, speedup_ci_high=df.speedup_vs_baseline * 1.1,
                     rounds=10)


LEAD = {10: RatioEstimate(1.2, 1.15, 1.25, 0.95)}


def test_the_table_leads_with_the_headline_and_its_ratios_carry_their_intervals():
    df = summary([["jit+cuda", 10, "ok", 6.0, 6.6, 4.5, False], ["torch-compile", 10, "ok", 7.2, 7.3, 4.5, False],
                  ["baseline", 10, "ok", 30.0, 40.0, 4.5, False],
                  ["cuda-graph", 10, "skipped", None, None, 4.5, False]])
    table = ttft_table(df, "jit+cuda", "torch-compile", ["jit+cuda", "torch-compile", "cuda-graph", "baseline"], LEAD)
    assert table.splitlines()[0] == ("| Prompt Length | floor | jit+cuda | efficiency (floor / p50) | lead over "
                                     "torch-compile | speed-up over baseline | torch-compile | baseline |")
    assert "| 10 | 4.50 | **6.00** | 0.75 (1.33x) | x1.20 (1.15-1.25) | x5.00 (4.50-5.50) | 7.20 | 30.00 |" in table
    assert "left out" not in table


def test_a_run_without_the_peer_shows_a_dash_for_the_lead():
    df = summary([["jit+cuda", 10, "ok", 6.0, 6.6, 4.5, False], ["baseline", 10, "ok", 30.0, 40.0, 4.5, False]])
    assert "| **6.00** | 0.75 (1.33x) | - | x5.00 (4.50-5.50) |" in ttft_table(df, "jit+cuda", "torch-compile",
                                                                              ["baseline"], {})


def test_a_strategy_without_a_point_at_a_length_shows_a_dash_there():
    df = summary([["jit+cuda", 10, "ok", 6.0, 6.6, 4.5, False], ["jit+cuda", 20, "ok", 7.0, 7.7, 4.5, False],
                  ["torch-compile", 10, "ok", 7.2, 7.3, 4.5, False], ["baseline", 10, "ok", 30.0, 40.0, 4.5, False],
                  ["baseline", 20, "ok", 31.0, 40.0, 4.5, False]])  # torch-compile ended before 20 tokens
    table = ttft_table(df, "jit+cuda", "torch-compile", ["torch-compile", "baseline"], LEAD)
    assert "| 20 | 4.50 | **7.00** | 0.64 (1.56x) | - | x4.43 (3.99-4.87) | - | 31.00 |" in table
    assert "nan" not in table


def test_a_speedup_over_an_unstable_baseline_is_left_out_and_said_so():
    df = summary([["jit+cuda", 10, "ok", 6.0, 6.6, 4.5, False], ["baseline", 10, "ok", 30.0, 40.0, 4.5, False],
                  ["jit+cuda", 20, "ok", 7.0, 7.7, 4.5, False], ["baseline", 20, "ok", 31.0, 90.0, 4.5, True]])
    table = ttft_table(df, "jit+cuda", "torch-compile", ["baseline"], {})
    assert "| 10 | 4.50 | **6.00** | 0.75 (1.33x) | - | x5.00 (4.50-5.50) |" in table
    assert "| 20 | 4.50 | **7.00** | 0.64 (1.56x) | - | - |" in table
    assert "left out at 20 tokens, where the baseline's point was unstable" in table


def test_the_lead_is_the_ratio_of_medians_with_the_interval_compare_gives():
    lead = leads(REPO / "results" / "h100-llama2-7b", "jit+cuda", "torch-compile")
    assert sorted(lead) == [10, 50, 100, 150, 200, 250, 300, 350, 400]
    assert lead[10].ratio == pytest.approx(6.46 / 5.87, abs=0.005)  # the medians in docs/results.md
    assert lead[10].low < lead[10].ratio < lead[10].high


def test_agreement_counts_every_point_not_shown_to_match(medians):
    df = medians([("baseline", 10, 1.0), ("jit+cuda", 10, 0.5)])
    assert agreement_text(df).startswith("Every strategy matches")
    df["matches_baseline"] = [True, None]  # unknown is not a match
    assert agreement_text(df).startswith("1 of 2 measured points do not match")


def test_the_index_lists_every_gpu_run_newest_first_and_no_cpu_run():
    table = runs_index(REPO / "results", "../results/")
    rows = table.splitlines()[2:]
    started = [row.split(" | ")[0].lstrip("| ") for row in rows]
    assert started == sorted(started, reverse=True)
    assert "`h100-llama2-7b`](../results/h100-llama2-7b/table.md)" in table
    assert "`default`" not in table  # the CPU run
    assert "| NVIDIA H100 80GB HBM3 x 4 | llama-2-70b | 5 | 20 | complete |" in table
    runs = [json.loads(p.read_text()) for p in (REPO / "results").glob("*/run.json")]
    assert len(rows) == sum(1 for run in runs if run["environment"].get("gpu"))


def test_a_run_measured_in_one_round_says_what_its_intervals_cannot_cover():
    df = summary([["jit+cuda", 10, "ok", 6.0, 6.6, 4.5, False], ["baseline", 10, "ok", 30.0, 40.0, 4.5, False]])
    assert "one round" not in ttft_table(df, "jit+cuda", "torch-compile", ["baseline"], {})
    table = ttft_table(df.assign(rounds=1), "jit+cuda", "torch-compile", ["baseline"], {})
    assert "measured in one round, so they cover the noise among its requests, not the drift" in table
