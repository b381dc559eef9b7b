"""What a load level sends: as many requests as asked, seeded prompts the baseline answered, and arrivals
at the asked rate and burstiness."""
from __future__ import annotations

import numpy as np

from bench.scenarios.load_plan import NS_PER_S, arrival_offsets_ns, level_rng, plan_requests

CHOICES = {8: [(i, (i,) * 8) for i in range(1, 6)], 24: [(i, (i,) * 24) for i in range(1, 11)]}


def test_a_level_plans_the_requests_asked_from_the_baselines_prompts():
    plan = plan_requests(CHOICES, 500, level_rng(0, "concurrency", 4))
    assert len(plan) == 500
    for r in plan:
        assert (r.prompt_index, r.ids) in CHOICES[r.prompt_len]
    assert {r.prompt_len for r in plan} == {8, 24}  # both lengths drawn
    assert {r.prompt_index for r in plan if r.prompt_len == 24} == set(range(1, 11))  # every prompt reachable


def test_the_plan_depends_on_seed_mode_and_level_alone():
    same = [plan_requests(CHOICES, 50, level_rng(0, "rate", 100.0)) for _ in range(2)]
    assert same[0] == same[1]  # every strategy and batching setting is sent the same requests
    others = [plan_requests(CHOICES, 50, level_rng(*key)) for key in ((1, "rate", 100.0), (0, "rate", 200.0),
                                                                      (0, "concurrency", 100.0))]
    assert all(o != same[0] for o in others)


def test_arrivals_come_at_the_asked_rate_and_burstiness():
    for burstiness in (1.0, 0.25):
        offsets = arrival_offsets_ns(20_000, 100.0, burstiness, level_rng(0, "rate", 100.0))
        gaps = np.diff(offsets) / NS_PER_S
        assert offsets[0] == 0 and len(offsets) == 20_000 and (gaps >= 0).all()
        assert abs(gaps.mean() - 0.01) < 0.0005  # 1 / rate
        # a gamma of shape k has a coefficient of variation of 1 / sqrt(k): 1 for Poisson, 2 at 0.25
        assert abs(gaps.std() / gaps.mean() - burstiness ** -0.5) < 0.1
