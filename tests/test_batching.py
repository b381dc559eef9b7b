"""The server's batching settings: validated on construction, one line naming the flag."""
from __future__ import annotations

import pytest

from bench.config.errors import ConfigError
from bench.serving.batching import MAX_WAIT_US, Batching

BAD = [
    ({"max_batch": 0}, "--max-batch: must be an integer of at least 1, got 0"),
    ({"max_batch": -4}, "--max-batch"),
    ({"max_batch": 2.5}, "--max-batch"),
    ({"max_batch": True}, "--max-batch"),
    ({"max_batch": 4, "max_wait_us": -1}, "--max-wait-us: must be an integer of at least 0 and at most 1000000, got -1"),
    ({"max_batch": 4, "max_wait_us": MAX_WAIT_US + 1}, "--max-wait-us"),
    ({"max_batch": 4, "max_wait_us": 0.5}, "--max-wait-us"),
    ({"max_wait_us": 500}, "--max-wait-us: 500 needs --max-batch above 1"),
]


@pytest.mark.parametrize("values,message", BAD, ids=[str(v) for v, _ in BAD])
def test_bad_batching_is_refused_with_one_line_naming_the_flag(values, message):
    with pytest.raises(ConfigError) as info:
        Batching(**values)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_the_default_runs_one_request_at_a_time():
    assert Batching() == Batching(max_batch=1, max_wait_us=0) and not Batching().batched


def test_the_edges_are_allowed():
    assert Batching(max_batch=2).batched
    Batching(max_batch=256, max_wait_us=MAX_WAIT_US)
