"""The tensor-parallel sections say what the points say: a ✗ whose tokens agree is named as a logit difference,
one whose tokens differ as such; a target is met only by the measured value, and never by a strategy that fails
the correctness check."""
from __future__ import annotations

import pandas as pd

from tools.tp_prose import interrupted_text, mismatch_text, peer_lead_text, shown, slowest_ready_text, verdict

COLUMNS = ["strategy", "prompt_len", "status", "matches_baseline", "timed_mismatches", "timed_checked",
           "prompts_judged", "near_ties", "max_abs_logit_diff", "note"]
HEAD, PEER = "jit+cuda", "torch-compile"
PEER_TARGET = 1.10  # the 70B section's target in docs/sections.yaml
LIMIT_S = 600  # the GPU machine's command limit in docs/sections.yaml


def points(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def lead(run, df, target):
    return peer_lead_text(run, df, HEAD, PEER, target)


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
    assert verdict(True, good, HEAD) == "met" and verdict(False, good, HEAD) == "missed"
    wrong = points([["jit+cuda", 10, "ok", True, 0, 20, 8, 0, 0.05, ""],
                    ["jit+cuda", 100, "ok", False, 0, 20, 8, 0, 0.38, ""]])
    assert verdict(True, wrong, HEAD).startswith("not met: not every one of its points was measured and agrees")
    errored = points([["jit+cuda", 10, "error", None, None, None, None, None, None, "OOM"]])
    assert verdict(True, errored, HEAD).startswith("not met")


def test_the_peer_lead_counts_only_where_the_peer_was_measured_at_every_length(medians):
    complete, stopped = {"status": "complete"}, {"status": "interrupted"}
    both = medians([(HEAD, 10, 10.0), (HEAD, 100, 20.0), (PEER, 10, 12.0), (PEER, 100, 23.0)])
    assert lead(complete, both, PEER_TARGET) == "met (x1.15 at the least)"
    slower = medians([(HEAD, 10, 10.0), (PEER, 10, 10.5)])
    assert lead(complete, slower, PEER_TARGET).startswith("missed (x1.05")
    part = medians([(HEAD, 10, 10.0), (HEAD, 100, 20.0), (PEER, 10, 12.0)])
    assert lead(stopped, part, PEER_TARGET) == "not met: both measured at 1 of 2 lengths (x1.20 at the least there)"
    assert lead(stopped, part, None) == ("its median TTFT over `jit+cuda`'s x1.20-x1.20 at the 1 of 2 lengths where "
                                         "both were measured (above 1: behind)")
    assert lead(complete, both, None) == ("its median TTFT over `jit+cuda`'s x1.15-x1.20 at every length "
                                          "(above 1: behind)")
    never = medians([(HEAD, 10, 10.0)])
    assert lead(stopped, never, PEER_TARGET).startswith("not measured: the run stopped before it")
    assert lead(complete, never, PEER_TARGET) == "not measured: it is not among the run's strategies"
    failed = pd.concat([never, pd.DataFrame([{"strategy": PEER, "prompt_len": 10, "status": "error",
                                              "note": "CUDA out of memory"}])])
    assert lead(complete, failed, PEER_TARGET) == "not measured: none of its points was measured (CUDA out of memory)"


def test_the_peer_lead_is_judged_against_the_given_target_where_both_were_measured(medians):
    complete = {"status": "complete"}
    both = medians([(HEAD, 10, 10.0), (HEAD, 100, 20.0), (PEER, 10, 12.0), (PEER, 100, 23.0)])
    assert lead(complete, both, 1.15) == "met (x1.15 at the least)"  # the target itself is met
    assert lead(complete, both, 1.16) == "missed (x1.15 at the least)"
    ahead = medians([(HEAD, 10, 10.0), (PEER, 10, 8.0)])
    assert lead(complete, ahead, None) == ("its median TTFT over `jit+cuda`'s x0.80-x0.80 at every length "
                                           "(above 1: behind)")
    headline_short = medians([(HEAD, 10, 10.0), (PEER, 10, 12.0), (PEER, 100, 24.0)])
    assert lead(complete, headline_short, PEER_TARGET) == ("not met: both measured at 1 of 2 lengths (x1.20 at the "
                                                          "least there)")
    wrong = both.copy()
    wrong.loc[wrong.strategy == PEER, "matches_baseline"] = [True, False]
    assert lead(complete, wrong, PEER_TARGET).startswith("not counted: its points fail the correctness")
    assert lead(complete, wrong, None).startswith("not counted")


def test_an_interrupted_run_names_only_the_strategies_it_measured(medians):
    df = pd.concat([medians([("baseline", 10, 900.0), (HEAD, 10, 10.0)]),
                    pd.DataFrame([{"strategy": "jit-only", "prompt_len": 10, "status": "error"}])])
    run = {"status": "interrupted", "strategies": {"baseline": {}, HEAD: {}, "jit-only": {}, PEER: {}}}
    text = interrupted_text(run, df, LIMIT_S)
    assert text.startswith(" (stopped by the device's 10-minute command limit")
    assert "`baseline`, `jit+cuda`)" in text and "jit-only" not in text and "torch-compile" not in text
    assert interrupted_text({"status": "complete", "strategies": {}}, df, LIMIT_S) == ""


def test_the_slowest_strategy_to_get_ready_is_held_against_one_device_command():
    run = {"strategies": {HEAD: {"ready_s": 39.3}, PEER: {"ready_s": 400.5}, "jit-only": {"ready_s": None}}}
    assert slowest_ready_text(run, LIMIT_S).startswith("The slowest to get ready, `torch-compile`, took 400.5 s, "
                                                       "under the 10-minute")
    run["strategies"]["jit-only"]["ready_s"] = 600.0  # the limit itself still fits
    assert slowest_ready_text(run, LIMIT_S).startswith("The slowest to get ready, `jit-only`, took 600.0 s, under the")
    run["strategies"]["jit-only"]["ready_s"] = 601.0
    assert slowest_ready_text(run, LIMIT_S).endswith(
        "took 601.0 s, over the 10-minute device command in which a strategy must get ready and be measured "
        "(`--resume` keeps finished strategies only): it cannot finish under that limit.")
    assert slowest_ready_text(run, 1200).startswith("The slowest to get ready, `jit-only`, took 601.0 s, under the "
                                                    "20-minute")
    assert slowest_ready_text({"strategies": {"baseline": {}}}, LIMIT_S) == "No strategy got ready."


def test_only_a_commit_is_abbreviated_in_the_environment_sentence():
    assert shown("git_commit", "0ded0c9515baffa104d12f40793140435aea8ea6") == "0ded0c9"
    assert shown("gpu", "NVIDIA H100 80GB HBM3") == "NVIDIA H100 80GB HBM3"
