"""tools/logit_margins.py: a prompt's margin, its rivals within the tolerance, and the summary's counts."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from bench.judging.correctness import tolerance
from tools.logit_margins import Margin, prompt_margin, summary_markdown, within

LAYERS = 30  # SmolLM2-135M's decoder layers


def test_the_margin_is_to_the_runner_up_and_a_rival_within_the_tolerance_is_counted():
    tol = tolerance(torch.float32, torch.tensor([10.0]), LAYERS)
    logits = torch.tensor([10.0, 9.0, 10.0 - tol / 2, 10.0 - 2 * tol])  # [V]
    got = prompt_margin(logits, torch.float32, LAYERS)
    assert got["top_logit"] == 10.0 and got["top2_margin"] == pytest.approx(tol / 2, rel=1e-3)
    assert got["margin_over_tolerance"] == pytest.approx(0.5, rel=1e-3)
    assert got["rivals_within_tolerance"] == 1  # the runner-up; the top itself and the token 2 tol below are not


def test_margin_over_top_is_over_the_top_logit_and_the_tolerance_over_the_largest_magnitude():
    got = prompt_margin(torch.tensor([3.0, 1.0, -20.0]), torch.float32, LAYERS)
    assert got["margin_over_top"] == pytest.approx(2 / 3)
    assert got["tolerance"] == pytest.approx(tolerance(torch.float32, torch.tensor([20.0]), LAYERS))
    assert got["margin_over_bfloat16_tolerance"] == pytest.approx(2 / tolerance(torch.bfloat16, torch.tensor([20.0]), LAYERS))


def test_within_counts_margins_at_most_the_tolerance():
    assert within(pd.Series([0.5, 1.0, 2.0])) == "2/3"


def test_the_summary_counts_each_configs_prompts_and_near_ties():
    def margin(ratio: float) -> Margin:
        return Margin("m", 10, 0, 5.0, 0.5, 0.1, 0.001, 500.0, 0, ratio, ratio)
    ties = pd.DataFrame({"strategy": ["a", "b"], "prompt_len": [10, 10], "near_ties": [2, 1]})
    text = summary_markdown({"m": [margin(0.5), margin(3.0)]}, {"m": ties})
    row = next(line for line in text.splitlines() if line.startswith("| m |"))
    assert row.endswith("| 0/2 | 1/2 | 1/2 | 3 in 2 points (max 2) |") and "| 2 |" in row
    assert "its run counted 3 near ties in 2 points, at most 2 in one." in text
