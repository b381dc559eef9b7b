"""The TTFT clock times the whole first_token call, and returns its token."""
from __future__ import annotations

import time

from bench.measuring.clocks import time_request

FIRST_TOKEN_S = 0.05  # 50 ms: far above timer resolution and scheduler noise, short for a test


class SleepyStrategy:
    """first_token takes a known time; the token tells which prompt it saw."""

    def first_token(self, input_ids: list[int]) -> int:
        time.sleep(FIRST_TOKEN_S)
        return len(input_ids)  # what first_token returns is handed back as is


def test_ttft_covers_the_whole_first_token_call():
    token, ns = time_request(SleepyStrategy(), [1, 2, 3])
    assert token == 3
    assert FIRST_TOKEN_S * 1e9 <= ns < 20 * FIRST_TOKEN_S * 1e9  # a loaded machine may stretch the sleep


def test_the_timer_waits_for_the_device_of_the_logits_it_returns(monkeypatch):
    import torch

    import bench.measuring.clocks as clocks
    from strategies.base import FirstToken

    waited = []

    def slow_sync(device):  # a device still computing the logits on another stream
        waited.append(device)
        time.sleep(FIRST_TOKEN_S)

    monkeypatch.setattr(clocks, "sync", slow_sync)
    answer, ns = time_request(type("Quick", (), {"first_token": lambda self, ids: FirstToken(7, torch.zeros(4))})(),
                              [1])
    assert answer.token == 7 and waited == [torch.device("cpu")]
    assert ns >= FIRST_TOKEN_S * 1e9  # the wait is inside the timer
