"""How many near ties a point may show before they are a finding, predicted from the baseline's values alone.

A greedy answer other than the baseline's is accepted, one request at a time, as a near tie where the
baseline's logit of it lies within the tolerance of the baseline's top (bench.judging.token_rule). Alone,
that lets through a strategy that returns some other token of that band on every request: over a socket
no logits show its error, and in bfloat16 the band holds 7-10 tokens on random weights
(bench.judging.top_answer). The bound: where the band of a request holds c tokens, an honest strategy's
rounding errors are alike on each of them (the same kernels round values of nearly the same size), so the
baseline's top, whose value is the largest, is the likeliest of the c to come out first, with chance at
least 1/c; another token comes out with chance at most 1 - 1/c (0 where c = 1: no near tie is possible
there; 1 where the band fills the TOP_K kept ids). Each request asks a prompt of its own, so these are
independent trials: an honest strategy's near ties are at most a sum of Bernoulli trials with those chances,
and a point with more near ties than that sum exceeds with probability FALSE_FLAG is flagged, and fails.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bench.judging.top_answer import TOP_K, TopAnswer

# how rarely an honest strategy is flagged, at most: 1 - 1/c is its chance only where every token of the
# band ties exactly with the top; real bands spread over the tolerance, so real false flags are far rarer.
# A run judges ~50 points (9 lengths x 6 strategies): 1 in 1000 keeps a false flag out of ~20 runs in 20
FALSE_FLAG = 1e-3
# probability mass of each tail of the distribution that is dropped as it is built: a million times below
# FALSE_FLAG, so no limit moves by more than a request
NEGLIGIBLE = 1e-9


def tie_chance(answer: TopAnswer, tol: float) -> float:
    """The most often an honest strategy returns a token other than the baseline's on this request (greedy)."""
    band = answer.band(tol)
    if band >= TOP_K:
        return 1.0  # the band may go on beyond the kept ids: nothing bounds it
    return 1.0 - 1.0 / band if band > 1 else 0.0


def near_ties_limit(chances: Iterable[float]) -> int:
    """The most near ties an honest strategy shows, but at a FALSE_FLAG rate, over requests with these chances:
    the least L with P(X > L) <= FALSE_FLAG, X the number of successes of independent trials (Poisson binomial).
    The distribution is built one trial at a time in numpy over a window of counts, both tails cut where they
    hold under NEGLIGIBLE (neither can move a FALSE_FLAG quantile): 20,000 requests take 0.4 s on 2 cores."""
    low, spread = 0, np.ones(1)  # spread[j]: the probability of low + j near ties so far
    for p in chances:
        if p > 0:
            spread = np.append(spread * (1 - p), 0.0) + np.insert(spread * p, 0, 0.0)
            kept = np.flatnonzero((np.cumsum(spread) > NEGLIGIBLE) & (np.cumsum(spread[::-1])[::-1] > NEGLIGIBLE))
            low, spread = low + int(kept[0]), spread[kept[0]:kept[-1] + 1]
    above = np.append(np.cumsum(spread[::-1])[::-1][1:], 0.0)  # above[j]: P(X > low + j)
    return low + int(np.argmax(above <= FALSE_FLAG))
