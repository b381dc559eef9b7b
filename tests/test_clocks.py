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
