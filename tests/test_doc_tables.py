"""Markdown about runs: numbers rounded once from the summary, the headline's cells from the medians, the
run index newest first with every GPU run and no CPU run."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bench.reporting.doc_tables import agreement_text, ranged, runs_index, ttft_table

REPO = Path(__file__).resolve().parent.parent


def test_ranged_rounds_once_from_the_raw_values():
    assert ranged([1.114, 1.2349]) == "1.11-1.23"  # the committed table's max, not a hand-rounded 1.24
    assert ranged([0.004, 0.001], 2, " ms") == "0.00 ms"


def summary(rows):
    return pd.DataFrame(rows, columns=["strategy", "prompt_len", "status", "ttft_p50_ms", "ttft_p99_ms", "floor_ms"])


def test_the_table_leads_with_the_headline_and_its_ratios_come_from_the_medians():
    df = summary([["jit+cuda", 10, "ok", 6.0, 6.6, 4.5], ["torch-compile", 10, "ok", 7.2, 7.3, 4.5],
                  ["baseline", 10, "ok", 30.0, 40.0, 4.5], ["cuda-graph", 10, "skipped", None, None, 4.5]])
    table = ttft_table(df, "jit+cuda", "torch-compile", ["jit+cuda", "torch-compile", "cuda-graph", "baseline"])
    assert table.splitlines()[0] == ("| Prompt Length | floor | jit+cuda | efficiency (floor / p50) | lead over "
                                     "torch-compile | speed-up over baseline | torch-compile | baseline |")
    assert "| 10 | 4.50 | **6.00** | 0.75 (1.33x) | x1.20 | x5.00 | 7.20 | 30.00 |" in table


def test_a_run_without_the_peer_shows_a_dash_for_the_lead():
    df = summary([["jit+cuda", 10, "ok", 6.0, 6.6, 4.5], ["baseline", 10, "ok", 30.0, 40.0, 4.5]])
    assert "| **6.00** | 0.75 (1.33x) | - | x5.00 |" in ttft_table(df, "jit+cuda", "torch-compile", ["baseline"])


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
