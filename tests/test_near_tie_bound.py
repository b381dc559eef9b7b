"""The near-tie bound: an honest strategy returns another token of a request's tolerance band of c tokens at
most 1 - 1/c of the time; a point's near ties beyond the 1-in-1000 tail of those trials are flagged."""
from __future__ import annotations

import math

import pytest
import torch

from bench.judging.near_tie_bound import FALSE_FLAG, near_ties_limit, tie_chance
from bench.judging.top_answer import TOP_K, top_answer


def band_of(c: int, tol: float = 0.1) -> float:
    """tie_chance of an answer whose c best logits lie within tol / 2 of the top and the rest far below."""
    logits = torch.zeros(1000)
    logits[:c] = 10.0 - torch.linspace(0, tol / 2, c)
    return tie_chance(top_answer(logits, 0), tol)


def test_the_chance_is_one_minus_one_over_the_band():
    assert band_of(1) == 0.0  # alone within the tolerance: no near tie is possible
    assert band_of(2) == 0.5
    assert band_of(7) == pytest.approx(6 / 7)
    assert band_of(TOP_K) == 1.0  # the band fills the kept ids: it may go on beyond them


def binomial_limit(m: int, p: float) -> int:
    """The least L with P(Binomial(m, p) > L) <= FALSE_FLAG, summed from the closed form."""
    for limit in range(m + 1):
        if sum(math.comb(m, j) * p ** j * (1 - p) ** (m - j) for j in range(limit + 1, m + 1)) <= FALSE_FLAG:
            return limit
    return m


@pytest.mark.parametrize("m,p", [(10, 0.5), (110, 0.5), (118, 6 / 7), (40, 0.1), (3, 0.5)])
def test_the_limit_is_the_binomial_tail_where_the_chances_are_equal(m, p):
    assert near_ties_limit([p] * m) == binomial_limit(m, p)


def test_requests_that_cannot_tie_add_nothing_and_certain_ones_add_one_each():
    assert near_ties_limit([]) == 0 and near_ties_limit([0.0] * 50) == 0
    assert near_ties_limit([1.0] * 5 + [0.0] * 50) == 5
    assert near_ties_limit([0.5]) == 1  # one near tie alone is never flagged
    assert near_ties_limit([0.5] * 10) == 9  # all ten: 1 in 1024


def test_the_largest_points_are_bounded_in_seconds():
    import time
    start = time.perf_counter()
    limit = near_ties_limit([0.5] * 20_000)  # quadratic in pure Python this took ~17 s; 100,000 ~7 minutes
    assert time.perf_counter() - start < 10, "the bound's time grew: a loaded machine stays well under 10 s"
    assert 10_000 < limit < 10_300  # the mean plus ~3 standard deviations (71 requests)
