"""The README's tensor-parallel sections say what the points say: a ✗ whose tokens agree is named as a logit
difference, one whose tokens differ as such; a target is met only by the measured value."""
from __future__ import annotations

import pandas as pd

from bench.reporting.readme_tp import (LARGE_PEER_TARGET, cell, interrupted_text, mismatch_text, peer_lead_text,
                                       shown, slowest_ready_text, verdict)

COLUMNS = ["strategy", "prompt_len", "status", "matches_baseline", "timed_mismatches", "timed_checked",
           "prompts_judged", "near_ties", "max_abs_logit_diff", "note"]


def points(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def test_a_mismatch_is_named_for_what_differed():
    logits_only = points([["jit+cuda", 10, "ok", False, 0, 20, 8, 3, 0.38, "prompt 4: max |logit diff| 0.38"],
                          ["cuda-graph", 10, "ok", True, 0, 20, 8, 0, 0.12, ""]])
    text = mismatch_text(logits_only)
    assert "`jit+cuda`: no token mismatched" in text and "up to 0.38" in text and "cuda-graph" not in text
    timed = points([["jit+cuda", 10, "ok", False, 2, 20, 8, 0, 0.05, "timed request 3: token 5 != baseline's 7"]])
    assert "its tokens differ" in mismatch_text(timed)
    judged = points([["jit+cuda", 10, "ok", False, 0, 20, 8, 0, 0.05, "prompt 1: returned token 5 != baseline's 7"]])
    assert "its tokens differ" in mismatch_text(judged)
    assert mismatch_text(points([["jit+cuda", 10, "ok", True, 0, 20, 8, 0, 0.05, ""]])) == ""


def test_a_target_is_never_met_by_a_strategy_that_fails_the_check():
    good = points([["jit+cuda", 10, "ok", True, 0, 20, 8, 0, 0.05, ""]])
    assert verdict(True, good) == "met" and verdict(False, good) == "missed"
    wrong = points([["jit+cuda", 10, "ok", True, 0, 20, 8, 0, 0.05, ""],
                    ["jit+cuda", 100, "ok", False, 0, 20, 8, 0, 0.38, ""]])
    assert verdict(True, wrong).startswith("not met: not every one of its points was measured and agrees")
    errored = points([["jit+cuda", 10, "error", None, None, None, None, None, None, "OOM"]])
    assert verdict(True, errored).startswith("not met")


def timed(rows) -> pd.DataFrame:
    """(strategy, length, p50 ms) rows, every one ok and matching."""
    return pd.DataFrame([{"strategy": s, "prompt_len": n, "status": "ok", "matches_baseline": True, "ttft_p50_ms": ms,
                          "note": ""}
                         for s, n, ms in rows])


def test_the_peer_lead_counts_only_where_the_peer_was_measured_at_every_length():
    complete, stopped = {"status": "complete"}, {"status": "interrupted"}
    both = timed([("jit+cuda", 10, 10.0), ("jit+cuda", 100, 20.0), ("torch-compile", 10, 12.0),
                  ("torch-compile", 100, 23.0)])
    assert peer_lead_text(complete, both, LARGE_PEER_TARGET) == "met (x1.15 at the least)"
    slower = timed([("jit+cuda", 10, 10.0), ("torch-compile", 10, 10.5)])
    assert peer_lead_text(complete, slower, LARGE_PEER_TARGET).startswith("missed (x1.05")
    part = timed([("jit+cuda", 10, 10.0), ("jit+cuda", 100, 20.0), ("torch-compile", 10, 12.0)])
    assert (peer_lead_text(stopped, part, LARGE_PEER_TARGET)
            == "not met: both measured at 1 of 2 lengths (x1.20 at the least there)")
    assert peer_lead_text(stopped, part, None) == ("its median TTFT over `jit+cuda`'s x1.20-x1.20 at the 1 of 2 "
                                                 "lengths where both were measured (above 1: behind)")
    assert peer_lead_text(complete, both, None) == ("its median TTFT over `jit+cuda`'s x1.15-x1.20 at every length "
                                                 "(above 1: behind)")
    never = timed([("jit+cuda", 10, 10.0)])
    assert peer_lead_text(stopped, never, LARGE_PEER_TARGET).startswith("not measured: the run stopped before it")
    assert peer_lead_text(complete, never, LARGE_PEER_TARGET) == "not measured: it is not among the run's strategies"
    failed = pd.concat([never, pd.DataFrame([{"strategy": "torch-compile", "prompt_len": 10, "status": "error",
                                              "note": "CUDA out of memory"}])])
    assert (peer_lead_text(complete, failed, LARGE_PEER_TARGET)
            == "not measured: none of its points was measured (CUDA out of memory)")


def test_an_interrupted_run_names_only_the_strategies_it_measured():
    df = pd.concat([timed([("baseline", 10, 900.0), ("jit+cuda", 10, 10.0)]),
                    pd.DataFrame([{"strategy": "jit-only", "prompt_len": 10, "status": "error"}])])
    text = interrupted_text({"status": "interrupted", "strategies": {"baseline": {}, "jit+cuda": {}, "jit-only": {},
                                                                     "torch-compile": {}}}, df)
    assert "`baseline`, `jit+cuda`)" in text and "jit-only" not in text and "torch-compile" not in text
    assert interrupted_text({"status": "complete", "strategies": {}}, df) == ""


def test_the_slowest_strategy_to_get_ready_is_held_against_one_device_command():
    run = {"strategies": {"jit+cuda": {"ready_s": 39.3}, "torch-compile": {"ready_s": 400.5},
                          "jit-only": {"ready_s": None}}}
    assert slowest_ready_text(run).startswith("The slowest to get ready, `torch-compile`, took 400.5 s, under the")
    run["strategies"]["jit-only"]["ready_s"] = 600.0  # the limit itself still fits
    assert slowest_ready_text(run).startswith("The slowest to get ready, `jit-only`, took 600.0 s, under the")
    run["strategies"]["jit-only"]["ready_s"] = 601.0
    assert slowest_ready_text(run).endswith("took 601.0 s, over the 10-minute device command in which a strategy "
                                            "must get ready and be measured (`--resume` keeps finished strategies "
                                            "only): it cannot finish under that limit.")
    assert slowest_ready_text({"strategies": {"baseline": {}}}) == "No strategy got ready."


def test_the_peer_lead_is_judged_against_the_given_target_where_both_were_measured():
    complete = {"status": "complete"}
    both = timed([("jit+cuda", 10, 10.0), ("jit+cuda", 100, 20.0), ("torch-compile", 10, 12.0),
                  ("torch-compile", 100, 23.0)])
    assert peer_lead_text(complete, both, 1.15) == "met (x1.15 at the least)"  # the target itself is met
    assert peer_lead_text(complete, both, 1.16) == "missed (x1.15 at the least)"
    ahead = timed([("jit+cuda", 10, 10.0), ("torch-compile", 10, 8.0)])
    assert peer_lead_text(complete, ahead, None) == ("its median TTFT over `jit+cuda`'s x0.80-x0.80 at every length "
                                                     "(above 1: behind)")
    headline_short = timed([("jit+cuda", 10, 10.0), ("torch-compile", 10, 12.0), ("torch-compile", 100, 24.0)])
    assert (peer_lead_text(complete, headline_short, LARGE_PEER_TARGET)
            == "not met: both measured at 1 of 2 lengths (x1.20 at the least there)")
    wrong = both.copy()
    wrong.loc[wrong.strategy == "torch-compile", "matches_baseline"] = [True, False]
    assert peer_lead_text(complete, wrong, LARGE_PEER_TARGET).startswith("not counted: its points fail the correctness")
    assert peer_lead_text(complete, wrong, None).startswith("not counted")


def test_a_table_cell_marks_a_failed_check_and_shows_a_missing_point_as_a_dash():
    df = timed([("jit+cuda", 10, 3.6449), ("cuda-graph", 10, 6.62)])
    df.loc[df.strategy == "cuda-graph", "matches_baseline"] = False
    assert cell(df, "jit+cuda", 10) == "3.64"
    assert cell(df, "cuda-graph", 10) == "6.62 ✗"
    assert cell(df, "jit+cuda", 100) == "-"
    errored = pd.DataFrame([{"strategy": "jit+cuda", "prompt_len": 10, "status": "error", "matches_baseline": None,
                             "ttft_p50_ms": None, "note": "OOM"}])
    assert cell(errored, "jit+cuda", 10) == "-"


def test_only_a_commit_is_abbreviated_in_the_environment_sentence():
    assert shown("git_commit", "0ded0c9515baffa104d12f40793140435aea8ea6") == "0ded0c9"
    assert shown("gpu", "NVIDIA H100 80GB HBM3") == "NVIDIA H100 80GB HBM3"
