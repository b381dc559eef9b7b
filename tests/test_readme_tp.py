"""The README's tensor-parallel sections say what the points say: a ✗ whose tokens agree is named as a logit
difference, one whose tokens differ as such; a target is met only by the measured value."""
from __future__ import annotations

import pandas as pd

from bench.reporting.readme_tp import mismatch_text, verdict

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
    assert verdict(True, wrong).startswith("not met: its points fail the correctness check")
    errored = points([["jit+cuda", 10, "error", None, None, None, None, None, None, "OOM"]])
    assert verdict(True, errored).startswith("not met")
