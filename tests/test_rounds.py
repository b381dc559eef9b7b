"""How a length's timed requests are spread over the rounds."""
from __future__ import annotations

import pytest

from bench.scenarios.rounds import round_sizes


@pytest.mark.parametrize("repeats, rounds, sizes", [
    (100, 10, [10] * 10),  # the default: ten of each length's requests a round
    (7, 3, [3, 2, 2]),  # uneven: the first rounds take one more
    (3, 5, [1, 1, 1, 0, 0]),  # fewer requests than rounds: one each in the first rounds
    (5, 1, [5]),  # one round: every request at once, as before rounds
])
def test_every_request_lands_in_one_round_and_rounds_differ_by_one_at_most(repeats, rounds, sizes):
    assert round_sizes(repeats, rounds) == sizes
    assert sum(sizes) == repeats and max(sizes) - min(sizes) <= 1
