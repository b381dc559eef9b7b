"""The load client against a stub server (no model): every request sent once and answered once with its
own answer, closed and open loop, and the bounds that stop a level beyond capacity."""
from __future__ import annotations

import time

from bench.serving.limits import ServerLimits
from bench.serving.load_client import closed_loop, inference_frame, open_loop
from bench.scenarios.load_plan import arrival_offsets_ns, level_rng
from tests.serving_stub import VOCAB, stub_token

LIMITS = ServerLimits()
PROMPTS = [[i % VOCAB, (3 * i) % VOCAB, 7] for i in range(200)]  # distinct answers: a mixed-up reply shows
FRAMES = [inference_frame(p) for p in PROMPTS]


def assert_each_answered_once_with_its_own_token(result, server, count):
    sent = [a for a in result.answers if a is not None]
    assert len(sent) == count and result.unanswered == 0
    for prompt, answer in zip(PROMPTS, result.answers):
        if answer is not None:
            assert answer.response["output_tokens"] == [stub_token(prompt)] and answer.ttft_ns > 0
    assert server.stats()["requests"] == count  # the server ran each request once: none lost, none twice


def test_closed_loop_keeps_each_client_to_one_request_in_flight(serve, socket_path):
    server = serve(LIMITS)
    result = closed_loop(str(socket_path), FRAMES, clients=4, max_level_s=60)
    assert result.stopped == ""
    assert_each_answered_once_with_its_own_token(result, server, len(FRAMES))
    assert server.stats()["connections"] == 4  # one connection per client, opened before the level


def test_open_loop_sends_at_the_planned_times(serve, socket_path):
    server = serve(LIMITS)
    offsets = arrival_offsets_ns(len(FRAMES), 400.0, 1.0, level_rng(0, "rate", 400.0))
    result = open_loop(str(socket_path), FRAMES, offsets, max_in_flight=64, max_level_s=60)
    assert result.stopped == ""
    assert_each_answered_once_with_its_own_token(result, server, len(FRAMES))
    lateness = [a.sent_ns - offset for a, offset in zip(result.answers, offsets)]
    assert min(lateness) >= 0  # never early: an arrival is sent at its time or just after
    assert sorted(lateness)[len(lateness) // 2] < 5_000_000  # typically within a few ms (a loaded 2-core host)


def test_the_backlog_bound_stops_an_open_loop_level_beyond_capacity(serve, socket_path):
    server = serve(LIMITS, job_s=0.02)  # 50 requests/s at most
    offsets = [i * 1_000_000 for i in range(len(FRAMES))]  # 1,000 requests/s
    started = time.monotonic()
    result = open_loop(str(socket_path), FRAMES, offsets, max_in_flight=8, max_level_s=60)
    assert time.monotonic() - started < 10  # stopped at once, then the 8 in flight answered: well under 1 s
    assert result.stopped.startswith("backlog: 8 requests in flight")
    sent = sum(a is not None for a in result.answers)
    assert 8 <= sent < 20 and result.answers[-1] is None
    assert_each_answered_once_with_its_own_token(result, server, sent)


def test_the_time_bound_stops_a_closed_loop_level(serve, socket_path):
    server = serve(LIMITS, job_s=0.05)
    started = time.monotonic()
    result = closed_loop(str(socket_path), FRAMES, clients=2, max_level_s=0.5)
    assert time.monotonic() - started < 5
    assert result.stopped.startswith("time bound: 0.5 s passed")
    sent = sum(a is not None for a in result.answers)
    assert 2 <= sent < 40
    assert_each_answered_once_with_its_own_token(result, server, sent)


def test_a_server_that_stops_answering_leaves_its_requests_unanswered_not_waited_for(serve, socket_path):
    serve(LIMITS, job_s=3.0)
    started = time.monotonic()
    result = open_loop(str(socket_path), FRAMES[:4], [0, 0, 0, 0], max_in_flight=8, max_level_s=0.3)
    assert time.monotonic() - started < 2.5  # the level's bound, then as long again for answers: not 12 s
    assert result.unanswered == 4
