"""Typed records: v2 run.json read as one judged prompt per point; near ties said as such in the tables."""
from __future__ import annotations

import pandas as pd

from bench.reporting.columns import COLUMNS, SUMMARY_COLUMNS
from bench.reporting.records import PointRecord, StrategyRecord
from bench.reporting.summary import build_summary
from bench.reporting.tables import agreement, cold_start_table, comparison_table, strategy_table

V2_POINT = {"strategy": "jit-only", "prompt_len": 10, "status": "ok", "note": "", "cold_ttft_ms": 3.0, "token": 5,
            "matches_baseline": True, "max_abs_logit_diff": 0.01}
V2_NEAR_TIE = {"status": "ok", "setup_ms": 1.0, "ready_s": 2.0, "unseen_len": 30, "unseen_ttft_ms": 4.0,
               "unseen_matches_baseline": True, "unseen_note": "near-tie: argmax differs within tolerance"}


def test_a_v2_point_counts_as_one_judged_prompt():
    p = PointRecord.from_dict(V2_POINT)
    assert (p.prompts_judged, p.prompts_agreed, p.near_ties) == (1, 1, 0)
    tie = PointRecord.from_dict({**V2_POINT, "note": "near-tie: argmax differs within tolerance"})
    assert tie.near_ties == 1
    assert PointRecord.from_dict({**V2_POINT, "matches_baseline": None}).prompts_judged is None


def test_the_cold_start_table_says_near_tie_where_run_json_notes_one():
    run = {"strategies": {"cuda-graph": V2_NEAR_TIE, "jit-only": {**V2_NEAR_TIE, "unseen_note": None},
                          "bad": {**V2_NEAR_TIE, "unseen_matches_baseline": False}}}
    lines = cold_start_table(run).splitlines()
    column = [c.strip(" |") for c in lines[0].split(" | ")].index("Same token as baseline")
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[column].strip(" |") for line in lines[2:]}
    assert rows == {"cuda-graph": "near tie", "jit-only": "yes", "bad": "NO"}


def summary_of(points: list[dict]) -> pd.DataFrame:
    run = {"strategies": {"baseline": {"status": "ok"}, "jit-only": {"status": "ok"}}, "points": points}
    samples = pd.DataFrame([{"strategy": p["strategy"], "prompt_len": p["prompt_len"], "request": 0, "ttft_ns": 10 ** 6,
                             "server_ttft_ns": float("nan")} for p in points])
    return build_summary(run, samples)


def test_tables_show_prompts_agreed_and_near_ties():
    df = summary_of([{**V2_POINT, "strategy": "baseline", "prompts_judged": 8, "prompts_agreed": 8, "near_ties": 0},
                     {**V2_POINT, "prompts_judged": 8, "prompts_agreed": 8, "near_ties": 2}])
    assert list(df.columns) == SUMMARY_COLUMNS
    assert "| 8/8 (2 near ties) |" in strategy_table(df[df.strategy == "jit-only"])
    assert "| 8/8 |" in strategy_table(df[df.strategy == "baseline"])
    assert agreement(8, 7, 1) == "7/8 (1 near tie)"
    comparison = comparison_table(df).splitlines()[-1]
    assert comparison == "| 10 | 1.00 (×1.00) | 1.00 (×1.00) (near tie) |"


def test_every_column_is_named_once():
    assert len(SUMMARY_COLUMNS) == len(set(SUMMARY_COLUMNS)) == len(COLUMNS)
    assert set(StrategyRecord().stored()) == set()  # nothing reported, nothing stored


def test_a_v3_point_has_no_timed_check_and_a_v4_point_keeps_its_own():
    v3 = {**V2_POINT, "prompts_judged": 8, "prompts_agreed": 8, "near_ties": 0}
    p = PointRecord.from_dict(v3)
    assert (p.timed_checked, p.timed_mismatches) == (None, None)  # format 3 did not check timed tokens
    v4 = {**v3, "strategy": "baseline", "timed_checked": 100, "timed_mismatches": 2}
    assert PointRecord.from_dict(v4).timed_mismatches == 2
    df = summary_of([v4, v3])
    assert df.timed_checked.tolist()[0] == 100 and df.timed_checked.isna().tolist()[1]
    assert str(df.timed_mismatches.dtype) == "Int64"  # counts, not floats, in summary.csv
