"""The sentences about one GPU run come from its medians and records; a target from docs/sections.yaml is met
only by the measured value, and none counts for a strategy that fails the correctness check."""
from __future__ import annotations

import pandas as pd

from tools.run_prose import claims, headline, met, targets

HEAD, PEER = "jit+cuda", "torch-compile"
GOAL = {"ready_s": 20.0, "restart_ready_s": 10.0, "unseen_ms": 100.0, "floor_ratio": 1.3, "peer_lead": 1.25}


def summary(rows):
    return pd.DataFrame(rows, columns=["strategy", "prompt_len", "status", "ttft_p50_ms", "ttft_p99_ms", "floor_ms"])


TWO_LENGTHS = [[HEAD, 10, "ok", 6.0, 6.6, 4.5], [PEER, 10, "ok", 7.2, 7.3, 4.5],
               ["baseline", 10, "ok", 30.0, 40.0, 4.5], [HEAD, 20, "ok", 8.0, 8.8, 5.0],
               [PEER, 20, "ok", 8.8, 9.0, 5.0], ["baseline", 20, "ok", 32.0, 40.0, 5.0]]


def test_the_claims_come_from_the_medians():
    text = claims(summary(TWO_LENGTHS), HEAD, PEER, [HEAD, PEER])
    assert "`jit+cuda` leads `torch-compile` by x1.10-1.20 at the 2 lengths" in text
    assert "sits 1.33-1.60x above the floor" in text
    assert "ranges over 30.0-32.0 ms" in text and "p99 lies 1-10% above" in text


def test_the_headline_names_the_machine_the_range_and_the_agreement():
    df = summary(TWO_LENGTHS).assign(matches_baseline=True)
    run = {"environment": {"gpu": "NVIDIA H200"}, "started": "2026-12-03T10:00:00+00:00",
           "config": {"model": {"preset": "llama-2-7b", "dtype": "float16"}}}
    text = headline(run, df, HEAD, PEER)
    assert text.startswith("On one NVIDIA H200 (2026-12-03), llama-2-7b shape in float16, batch 1: `jit+cuda` "
                           "answers in 6.00-8.00 ms (median) over 2 prompt lengths (10-20 tokens), x1.10-1.20 ahead of "
                           "`torch-compile`, 1.33-1.60x the roofline floor.")
    assert text.endswith("Every strategy matches the baseline's first token at every length.")


def test_met_says_by_how_much_a_target_was_missed():
    assert met(20.0, 20.0, "s") == "met (20.0 s)"  # the target itself is met
    assert met(112.9, 100.0, "ms") == "missed by 12.9 ms (112.9 ms)"


def run_record(**head):
    return {"strategies": {HEAD: {"ready_s": 18.3, "unseen_ttft_ms": 112.9, **head}}}


def test_the_targets_are_judged_against_the_given_thresholds():
    df = summary(TWO_LENGTHS).assign(matches_baseline=True)
    text = targets(run_record(), df, HEAD, PEER, GOAL)
    assert "ready for all 2 lengths within 20 s of process start (cold compile caches): met (18.3 s)" in text
    assert "an unseen length within 100 ms: missed by 12.9 ms" in text
    assert "median within 1.3x the floor: 0 of 2 lengths" in text
    assert "at least x1.25 ahead of `torch-compile` at every length: missed (x1.10-1.20)" in text
    assert "restart" not in text  # no restart was measured
    looser = targets(run_record(restart_ready_s=9.0, restart_imports_s=4.0), df, HEAD, PEER,
                     {**GOAL, "floor_ratio": 1.6, "peer_lead": 1.1})
    assert "after a restart that finds the compile cache: met (9.0 s), of which the Python imports took 4.0 s" in looser
    assert "median within 1.6x the floor: 2 of 2 lengths" in looser
    assert "ahead of `torch-compile` at every length: met (x1.10-1.20)" in looser


def test_no_target_counts_for_a_strategy_that_fails_the_check():
    df = summary(TWO_LENGTHS).assign(matches_baseline=True)
    df.loc[(df.strategy == HEAD) & (df.prompt_len == 20), "matches_baseline"] = False
    assert targets(run_record(), df, HEAD, PEER, GOAL).endswith(
        "; none of these counts: `jit+cuda` fails the correctness check at some length.")
