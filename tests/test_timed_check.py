"""Timed requests judged one at a time against the baseline's answer to the same request: the baseline keeps
its answers, every other strategy's are judged as they come and let go of their logits; a point's tally
counts near ties, fails on a mismatch and on more near ties than the baseline's values allow."""
from __future__ import annotations

import pytest
import torch

from bench.judging.references import References
from bench.judging.rule import JudgingRule
from bench.judging.timed_check import NAMED, TimedCheck, TimedJudge
from bench.judging.verdicts import PromptVerdict, tally
from bench.targets.base import Timed
from tests.conftest import two_tops

FIRST = 2  # the warm-up requests before the first timed one
GREEDY, SAMPLED = JudgingRule(torch.float16, 1, False, 0), JudgingRule(torch.float16, 1, True, 0)


def answered(logits: torch.Tensor, token: int | None = None, with_logits: bool = True) -> Timed:
    """A request's Timed: the token (its argmax unless given) with the logits of its call, or without them."""
    return Timed(int(logits.argmax()) if token is None else token, 1000, logits=logits if with_logits else None)


def baseline_refs(folder, tops=((7, 9, 0.01), (7, 9, 0.01), (7, 9, 0.5))) -> References:
    """The baseline's answers to requests FIRST, FIRST + 1, ... at 24 tokens, from logits with these two tops."""
    writer = References(folder, writing=True)
    keeper = TimedJudge(writer, 24, GREEDY, True)
    for j, top in enumerate(tops):
        assert keeper.take(FIRST + j, answered(two_tops(*top))).logits is None
    assert keeper.result().checked is None  # the baseline keeps its answers instead
    writer.save()
    return References(folder, writing=False)


def judge_all(refs, answers, first=FIRST, rule=GREEDY, comparable=True) -> TimedCheck:
    judge = TimedJudge(refs, 24, rule, comparable)
    for j, timed in enumerate(answers):
        assert judge.take(first + j, timed).logits is None  # no [V] logits outlive their request
    return judge.result()


def test_near_ties_and_mismatches_are_decided_on_the_baselines_values_and_named(tmp_path):
    refs = baseline_refs(tmp_path)
    check = judge_all(refs, [answered(two_tops(7, 9, 0.02)), answered(two_tops(9, 7, 0.005)),
                             answered(two_tops(9, 7, 0.005))])
    assert (check.checked, check.near_ties, check.mismatches) == (3, 1, 1)
    assert check.notes[0].startswith("timed request 4: token 9 != baseline's 7 (the baseline's logit of it is 0.5")
    assert check.notes[1].startswith("timed request 3: near tie: token 9 != baseline's 7")
    assert check.tie_chances == (0.5, 0.5, 0.0)


def test_over_a_socket_a_token_alone_is_judged_by_the_same_rule(tmp_path):
    refs = baseline_refs(tmp_path)
    check = judge_all(refs, [answered(two_tops(9, 7, 0.005), with_logits=False)] * 3)
    assert (check.checked, check.near_ties, check.mismatches) == (3, 2, 1)


def test_the_baseline_must_take_its_requests_in_order(tmp_path):
    keeper = TimedJudge(References(tmp_path, writing=True), 24, GREEDY, True)
    keeper.take(3, answered(two_tops(7, 9, 1.0)))
    keeper.take(2, answered(two_tops(7, 9, 1.0)))
    with pytest.raises(ValueError, match="in order"):
        keeper.result()


def test_sampled_tokens_must_be_equal_and_unseeded_ones_are_not_compared(tmp_path):
    refs = baseline_refs(tmp_path)
    check = judge_all(refs, [answered(two_tops(7, 9, 0.001)), answered(two_tops(9, 7, 0.001), 9),
                             answered(two_tops(7, 9, 0.5))], rule=SAMPLED)  # each call's values the baseline's
    assert (check.checked, check.near_ties, check.mismatches) == (3, 0, 1)
    assert "sampled under the same seed" in check.notes[0]
    unseeded = judge_all(refs, [answered(two_tops(9, 7, 0.1))] * 3, rule=SAMPLED, comparable=False)
    assert (unseeded.checked, unseeded.mismatches) == (0, 0)


def test_requests_are_matched_by_index_and_mismatches_named_then_counted(tmp_path):
    refs = baseline_refs(tmp_path)
    wrong = [answered(two_tops(9, 3, 1.0))] * 6
    # warm-up of 3: requests 3..8, of which 3 and 4 have the baseline's answers (its requests were 2..4)
    check = judge_all(refs, wrong, first=3)
    assert (check.checked, check.mismatches) == (2, 2)
    (tmp_path / "many").mkdir()
    many = baseline_refs(tmp_path / "many", tops=[(7, 9, 1.0)] * 6)
    flagged = judge_all(many, wrong)
    assert flagged.mismatches == 6 and len(flagged.notes) == NAMED + 1
    assert flagged.notes[-1] == f"{6 - NAMED} more timed requests that disagree with the baseline's"


def test_the_points_tally_counts_timed_near_ties_and_fails_on_a_timed_mismatch():
    agreed = [PromptVerdict(judged=True, agreed=True, near_tie=True, tie_chance=0.5),
              PromptVerdict(judged=True, agreed=True)]
    ok = tally(agreed, TimedCheck(5, 2, 0, ("timed request 3: near tie",), (0.5,) * 5), sampled=False)
    assert (ok.near_ties, ok.timed_checked, ok.timed_mismatches, ok.matches_baseline) == (3, 5, 0, True)
    assert ok.notes == ("timed request 3: near tie",) and ok.near_ties_limit == 6
    assert tally(agreed, TimedCheck(5, 0, 1, ()), sampled=False).matches_baseline is False
    baseline = tally(agreed, TimedCheck(None, 0, 0, ()), sampled=False)
    assert baseline.timed_mismatches is None and baseline.near_ties_limit is None  # nothing to check


def test_more_near_ties_than_the_baselines_values_allow_fail_the_point():
    prompts = [PromptVerdict(judged=True, agreed=True)] * 8  # bands of one token: no near tie possible
    # every one of 20 requests whose band holds two tokens came out the other way: 1 in a million
    timed = TimedCheck(20, 20, 0, (), (0.5,) * 20)
    flagged = tally(prompts, timed, sampled=False)
    assert flagged.matches_baseline is False and flagged.near_ties_limit < 20
    assert f"20 near ties where the baseline's values allow an honest strategy {flagged.near_ties_limit}" in \
        flagged.notes[-1]
    assert tally(prompts, TimedCheck(20, 8, 0, (), (0.5,) * 20), sampled=False).matches_baseline is True
