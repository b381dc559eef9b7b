"""An answer judged against the baseline's answer to the same request, on the baseline's values alone: a
token alone (judge_token, over a socket) or with the logits its timed call computed (judge_answer)."""
from __future__ import annotations

import torch

from bench.judging.references import References
from bench.judging.rule import JudgingRule
from bench.judging.token_rule import judge_answer, judge_token
from bench.judging.top_answer import top_answer
from tests.conftest import two_tops

GREEDY, SAMPLED = JudgingRule(torch.float16, 1, False, 0), JudgingRule(torch.float16, 1, True, 0)
TOL = 32 * 2 ** -10 * 5.25  # float16's tolerance for a top logit of 5.25: 0.164


def refs_with(tmp_path, *baseline_logits) -> References:
    """References whose timed requests 2, 3, ... at 24 tokens the baseline answered from these logits."""
    writer = References(tmp_path, writing=True)
    writer.put_timed(24, 2, [top_answer(x, int(x.argmax())) for x in baseline_logits])
    writer.save()
    return References(tmp_path, writing=False)


def test_a_token_alone_is_a_near_tie_only_within_the_tolerance_of_the_baselines_top(tmp_path):
    refs = refs_with(tmp_path, two_tops(7, 9, 0.01), two_tops(7, 9, 0.5))
    same = judge_token(refs, 24, 2, 7, GREEDY)
    assert same.agreed and not same.near_tie and same.note == "" and same.tie_chance == 0.5
    near = judge_token(refs, 24, 2, 9, GREEDY)
    assert near.agreed and near.near_tie and near.note.startswith("near tie: token 9 != baseline's 7")
    far = judge_token(refs, 24, 3, 9, GREEDY)
    assert not far.agreed and not far.near_tie and "0.5 below its top" in far.note and far.tie_chance == 0.0
    outside = judge_token(refs, 24, 2, 45, GREEDY)
    assert not outside.agreed and "not among the baseline's 32 best" in outside.note


def test_sampled_tokens_and_tokens_without_the_baselines_values_must_be_equal(tmp_path):
    refs = refs_with(tmp_path, two_tops(7, 9, 0.001))
    assert judge_token(refs, 24, 2, 7, SAMPLED).agreed
    assert "sampled under the same seed" in judge_token(refs, 24, 2, 9, SAMPLED).note
    (tmp_path / "old").mkdir()
    old = References(tmp_path / "old", writing=True)
    old.put_timed(24, 2, [top_answer(None, 7)])  # the baseline's logits stayed in its server
    old.save()
    old = References(tmp_path / "old", writing=False)
    assert judge_token(old, 24, 2, 7, GREEDY).agreed
    assert "logits were not kept" in judge_token(old, 24, 2, 9, GREEDY).note


def test_a_request_without_a_baseline_answer_is_not_judged(tmp_path):
    verdict = judge_token(refs_with(tmp_path, two_tops(7, 9, 1.0)), 24, 5, 7, GREEDY)
    assert not verdict.judged and not verdict.agreed and "no baseline answer for request 5" in verdict.note


def test_the_calls_own_logits_must_give_its_token_and_agree_on_the_baselines_best_ids():
    baseline = top_answer(two_tops(7, 9, 0.01), 7)
    assert judge_answer(baseline, 7, two_tops(7, 9, 0.02), GREEDY).agreed
    assert judge_answer(baseline, 9, two_tops(9, 7, 0.005), GREEDY).near_tie  # its argmax, within tolerance
    not_its_own = judge_answer(baseline, 7, two_tops(9, 7, 0.005), GREEDY)  # the baseline's token, not its argmax
    assert not not_its_own.agreed and "not the argmax of the logits its call computed" in not_its_own.note
    off = two_tops(7, 9, 0.01)
    off[9] -= 2 * TOL  # far from the baseline's on one of its best ids, though the token is right
    assert "on the baseline's 32 best ids" in judge_answer(baseline, 7, off, GREEDY).note


def test_a_strategys_logits_raising_its_token_to_the_top_make_no_near_tie():
    # what re-judging a mismatch on the strategy's own logits accepted: its token first there, the baseline's
    # within tolerance of it; on the baseline's values the two are 0.5 apart
    baseline = top_answer(two_tops(7, 9, 0.5), 7)
    doctored = two_tops(9, 7, 0.001)
    verdict = judge_answer(baseline, 9, doctored, GREEDY)
    assert not verdict.agreed and not verdict.near_tie and "0.5 below its top" in verdict.note


def test_sampled_the_calls_logits_must_still_agree_with_the_baselines_values():
    baseline = top_answer(two_tops(7, 9, 0.01), 7)
    assert judge_answer(baseline, 7, two_tops(7, 9, 0.02), SAMPLED).agreed
    shifted = two_tops(7, 9, 0.01)
    shifted[7] += 1.0  # the same token drawn, from logits the baseline never computed
    wrong = judge_answer(baseline, 7, shifted, SAMPLED)
    assert not wrong.agreed and "max |logit diff| on the baseline's 32 best ids" in wrong.note
