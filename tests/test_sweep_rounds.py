"""A round of one length comes after the other lengths' requests: what a strategy keeps per length and let go
meanwhile (a graph its LRU evicted) is prepared again before the timer, never inside a timed request."""
from __future__ import annotations

import time

import torch

from bench.judging.references import References
from bench.judging.rule import JudgingRule
from bench.judging.timed_check import TimedJudge
from bench.scenarios.sweep import OpenPoint, time_round
from bench.targets.base import Target, Timed

RECAPTURE_S = 0.05  # what a graph capture costs here: far above a fake request's microseconds


class OneGraphTarget(Target):
    """Keeps one length prepared (an LRU of one graph): a request at another length pays RECAPTURE_S."""
    transport = "inprocess"

    def __init__(self):
        self.prepared = None

    def first_token(self, input_ids) -> Timed:
        start = time.perf_counter_ns()
        if self.prepared != len(input_ids):
            time.sleep(RECAPTURE_S)
            self.prepared = len(input_ids)
        return Timed(input_ids[0], time.perf_counter_ns() - start)

    def start(self):
        raise AssertionError("time_round never starts a target")

    def stats(self) -> dict:
        return {}

    def close(self) -> None:
        pass


def open_point(n: int, tmp_path, warmup: int = 2) -> OpenPoint:
    pool = [[i] * n for i in range(1, 20)]
    judge = TimedJudge(References(tmp_path, writing=False), n, JudgingRule(torch.float32, 1, False, 0), False)
    return OpenPoint({"prompt_len": n}, [], pool, pool, warmup, 0, judge)


def test_a_round_prepares_its_length_again_before_timing(tmp_path):
    target = OneGraphTarget()
    short, long = open_point(8, tmp_path), open_point(24, tmp_path)
    for r in range(2):  # round-major: each round serves both lengths
        for point in (short, long):
            assert time_round(target, point, r, 3) is point
    for point in (short, long):
        assert len(point.timed) == 6 and point.rounds == [0, 0, 0, 1, 1, 1]
        assert max(t.ns for t in point.timed) < RECAPTURE_S * 1e9, [t.ns for t in point.timed]
