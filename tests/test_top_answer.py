"""A request's answer reduced to the baseline's TOP_K best logits, their ids and its largest |logit|."""
from __future__ import annotations

import torch

from bench.judging.top_answer import TOP_K, top_answer


def test_the_answer_keeps_the_best_logits_in_order_and_the_largest_magnitude():
    logits = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    logits[3] = -40.0  # the largest |logit| may be a negative one: the tolerance scales with it
    answer = top_answer(logits, 7)
    assert answer.token == 7 and answer.has_values and answer.max_abs == 40.0
    values, ids = logits.topk(TOP_K)
    assert torch.equal(answer.top_values, values) and torch.equal(answer.top_ids.long(), ids)
    assert answer.logit_of(int(ids[5])) == float(values[5]) and answer.logit_of(3) is None  # not kept


def test_the_band_counts_the_kept_ids_within_the_tolerance_of_the_top():
    logits = torch.zeros(100)
    logits[[4, 8, 9]] = torch.tensor([5.0, 4.95, 4.8])
    answer = top_answer(logits, 4)
    assert (answer.band(0.0), answer.band(0.06), answer.band(0.15), answer.band(0.3)) == (1, 2, 2, 3)


def test_a_small_vocabulary_is_kept_whole_and_no_logits_keep_the_token_alone():
    assert len(top_answer(torch.arange(5.0), 4).top_ids) == 5
    alone = top_answer(None, 9)
    assert alone.token == 9 and not alone.has_values
