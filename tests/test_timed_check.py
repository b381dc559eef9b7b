"""Timed tokens against the baseline's for the same request: a near tie only when the token is the
strategy's own top and the baseline's lies within tolerance of it, noted; sampled tokens exact; no
logits (ipc) means every difference counts."""
from __future__ import annotations

import torch

from bench.judging.references import References, timed_key
from bench.judging.rule import JudgingRule
from bench.judging.timed_check import NAMED, TimedCheck, check_timed
from bench.judging.verdicts import PromptVerdict, tally
from bench.targets.base import Target, Timed

FIRST = 2  # the warm-up requests before the first timed one
BASELINE_TOKENS = [7, 7, 7]
GREEDY, SAMPLED = JudgingRule(torch.float16, 1, False, 0), JudgingRule(torch.float16, 1, True, 0)


class Scripted(Target):
    """A target whose logits for prompt [k] are logits_by_prompt[k] (its tokens are given to check_timed)."""
    transport = "test"

    def __init__(self, logits_by_prompt, seeded=True):
        self.logits_by_prompt, self.seeded = logits_by_prompt, seeded

    def start(self):
        raise NotImplementedError

    def first_token(self, input_ids):
        return Timed(int(self.logits_by_prompt[input_ids[0]].argmax()), 1000)

    def logits(self, input_ids):
        return self.logits_by_prompt[input_ids[0]]

    def stats(self):
        return {}

    def close(self):
        pass


def two_tops(first: int, second: int, gap: float) -> torch.Tensor:
    logits = torch.zeros(50)
    logits[first], logits[second] = 5.25, 5.25 - gap  # fp16 tolerance here: 32 eps x 5.25 = 0.164
    return logits


def baseline_refs(folder) -> References:
    writer = References(folder, writing=True)
    assert check_timed(Scripted({}), writer, 24, [[0], [1], [2]], BASELINE_TOKENS, FIRST, GREEDY).checked is None  # the baseline keeps its tokens instead
    writer.save()
    return References(folder, writing=False)


def test_a_near_tie_is_accepted_and_noted_only_within_tolerance_on_the_strategys_top_two(tmp_path):
    refs = baseline_refs(tmp_path)
    target = Scripted({0: two_tops(7, 9, 0.01), 1: two_tops(9, 7, 0.0078), 2: two_tops(9, 7, 0.5)})
    check = check_timed(target, refs, 24, [[0], [1], [2]], [7, 9, 9], FIRST, GREEDY)
    assert (check.checked, check.near_ties, check.mismatches) == (3, 1, 1)
    assert any(n.startswith("timed request 3: near tie: token 9 != baseline's 7") for n in check.notes)
    assert any(n.startswith("timed request 4: token 9 != baseline's 7") for n in check.notes)


def test_a_token_the_strategys_own_logits_do_not_rank_first_is_a_mismatch(tmp_path):
    # a timed path that answers otherwise than its logits path (another, cheaper forward) is caught even
    # where the token lies within the tolerance of the top
    refs = baseline_refs(tmp_path)
    target = Scripted({k: two_tops(7, 9, 0.01) for k in range(3)})
    check = check_timed(target, refs, 24, [[0], [1], [2]], [9, 9, 9], FIRST, GREEDY)
    assert (check.near_ties, check.mismatches) == (0, 3)


def test_a_tie_that_leaves_out_the_baselines_token_is_a_mismatch(tmp_path):
    refs = baseline_refs(tmp_path)
    target = Scripted({0: two_tops(9, 3, 0.001), 1: two_tops(9, 3, 0.001), 2: two_tops(9, 3, 0.001)})
    check = check_timed(target, refs, 24, [[0], [1], [2]], [9, 9, 9], FIRST, GREEDY)
    assert (check.near_ties, check.mismatches) == (0, 3)


def test_sampled_tokens_must_be_equal_and_unseeded_ones_are_not_compared(tmp_path):
    refs = baseline_refs(tmp_path)
    target = Scripted({k: two_tops(9, 7, 0.001) for k in range(3)})
    check = check_timed(target, refs, 24, [[0], [1], [2]], [7, 9, 7], FIRST, SAMPLED)
    assert (check.checked, check.near_ties, check.mismatches) == (3, 0, 1)
    assert "sampled under the same seed" in check.notes[0]
    unseeded = check_timed(Scripted({}, seeded=False), refs, 24, [[0], [1], [2]], [9, 9, 9], FIRST,
                           SAMPLED)
    assert (unseeded.checked, unseeded.mismatches) == (0, 0)


def test_without_logits_every_difference_is_a_mismatch_that_says_why(tmp_path):
    refs = baseline_refs(tmp_path)

    class TokensOnly(Scripted):
        transport = "ipc"

        def logits(self, input_ids):
            return None

    check = check_timed(TokensOnly({}), refs, 24, [[0], [1], [2]], [9, 7, 7], FIRST, GREEDY)
    assert (check.checked, check.near_ties, check.mismatches) == (3, 0, 1)
    assert "logits are not available over ipc" in check.notes[0]


def test_requests_are_matched_by_index_and_mismatches_named_then_counted(tmp_path):
    refs = baseline_refs(tmp_path)
    wrong = Scripted({k: two_tops(9, 3, 1.0) for k in range(6)})
    # warm-up of 3: requests 3..8, of which 3 and 4 have the baseline's tokens (its requests were 2..4)
    check = check_timed(wrong, refs, 24, [[k] for k in range(6)], [9] * 6, 3, GREEDY)
    assert (check.checked, check.mismatches) == (2, 2)
    (tmp_path / "many").mkdir()
    many = References(tmp_path / "many", writing=True)
    check_timed(wrong, many, 24, [[k] for k in range(6)], [7] * 6, 0, GREEDY)
    many.save()
    flagged = check_timed(wrong, References(tmp_path / "many", writing=False), 24, [[k] for k in range(6)],
                          [9] * 6, 0, GREEDY)
    assert flagged.mismatches == 6 and len(flagged.notes) == NAMED + 1
    assert flagged.notes[-1] == f"{6 - NAMED} more timed requests with a token other than the baseline's"
    assert refs.get_tokens(timed_key(24)) == {2: 7, 3: 7, 4: 7}  # read back from reference.pt


def test_the_points_tally_counts_timed_near_ties_and_fails_on_a_timed_mismatch():
    agreed = [PromptVerdict(judged=True, agreed=True, near_tie=True), PromptVerdict(judged=True, agreed=True)]
    ok = tally(agreed, TimedCheck(5, 2, 0, ("timed request 3: near tie",)))
    assert (ok.near_ties, ok.timed_checked, ok.timed_mismatches, ok.matches_baseline) == (3, 5, 0, True)
    assert ok.notes == ("timed request 3: near tie",)
    assert tally(agreed, TimedCheck(5, 0, 1, ())).matches_baseline is False
    assert tally(agreed, TimedCheck(None, 0, 0, ())).timed_mismatches is None  # the baseline: nothing to check
