"""The generator server's batching on the stub strategy (tests/serving_stub.py: token = sum(prompt) % 1000,
one sleep per batch): who joins a batch, how long it waits, every answer its own. The tiny model in
batches: tests/test_server.py."""
from __future__ import annotations

import threading
import time

from bench.serving.batching import Batching
from tests.conftest import TIMEOUT_S, ask, connect


def send_from_threads(path, prompts: list[list[int]], delay_s: float = 0.0) -> list[dict]:
    """Each prompt from a connection of its own, all at once (after delay_s); their answers, in order."""
    answers: list[dict | None] = [None] * len(prompts)

    def one(i):
        with connect(path) as s:
            answers[i] = ask(s, {"type": "inference", "input_tokens": prompts[i]})

    time.sleep(delay_s)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT_S)
    return answers


def test_requests_waiting_during_a_forward_are_answered_by_the_next_one_each_with_its_own_token(serve, socket_path):
    server = serve(job_s=0.5, batching=Batching(max_batch=4))
    answers: list[dict] = []
    first = threading.Thread(target=lambda: answers.extend(send_from_threads(socket_path, [[7]])))
    first.start()
    time.sleep(0.15)  # the first request is in its forward: the next five queue behind it
    later = send_from_threads(socket_path, [[100 + i] for i in range(5)])
    first.join(TIMEOUT_S)
    assert [a["output_tokens"] for a in answers + later] == [[7]] + [[100 + i] for i in range(5)]
    assert server.strategy.batches == [1, 4, 1] and server.strategy.single_calls == 0
    assert sorted(a["batch_size"] for a in later) == [1, 4, 4, 4, 4]
    assert all(a["queue_ms"] > 0 and a["server_ttft_ms"] >= 500 for a in later)
    with connect(socket_path) as s:
        assert ask(s, {"type": "stats"})["batch_sizes"] == {"1": 2, "4": 1}


def inference(prompt: list[int]) -> dict:
    return {"type": "inference", "input_tokens": prompt}


def test_a_batch_waits_for_the_other_senders_up_to_max_wait_and_no_longer(serve, socket_path):
    server = serve(batching=Batching(max_batch=4, max_wait_us=400_000))
    with connect(socket_path) as x:
        assert ask(x, inference([1]))["queue_ms"] < 390  # the only connection that ever sent: no wait
        with connect(socket_path) as y:
            waited = ask(y, inference([2]))  # x may send again: waited for, the whole 0.4 s
            assert waited["output_tokens"] == [2] and waited["batch_size"] == 1 and waited["queue_ms"] >= 400
            pair: list[dict] = []
            first = threading.Thread(target=lambda: pair.append(ask(x, inference([3]))))
            first.start()
            time.sleep(0.1)
            pair.append(ask(y, inference([4])))  # within 0.4 s: one batch, answered once both are in
            first.join(TIMEOUT_S)
            assert sorted(a["output_tokens"][0] for a in pair) == [3, 4] and {a["batch_size"] for a in pair} == {2}
            assert max(a["queue_ms"] for a in pair) < 390
        time.sleep(0.3)  # y's thread sees the hang-up
        assert ask(x, inference([5]))["queue_ms"] < 390  # x is again the only sender
    assert server.strategy.batches == [1, 1, 2, 1]


def test_max_batch_1_runs_every_request_alone_through_first_token(serve, socket_path):
    server = serve(job_s=0.05)
    answers = send_from_threads(socket_path, [[i] for i in range(6)])
    assert [a["output_tokens"] for a in answers] == [[i] for i in range(6)]
    assert server.strategy.batches == [] and server.strategy.single_calls == 6
    assert all(a["batch_size"] == 1 for a in answers)
    with connect(socket_path) as s:
        assert ask(s, {"type": "stats"})["batch_sizes"] == {"1": 6}


def test_8_clients_in_batches_of_4_get_every_answer_once_and_their_own(serve, socket_path):
    server = serve(job_s=0.005, batching=Batching(max_batch=4, max_wait_us=1000))
    failures, counts = [], [0] * 8

    def run_client(c):
        with connect(socket_path) as s:
            for i in range(25):
                prompt = [c * 100 + i]  # every request's answer differs from every other's
                answer = ask(s, {"type": "inference", "input_tokens": prompt})
                counts[c] += 1
                if answer.get("output_tokens") != prompt or not 1 <= answer.get("batch_size", 0) <= 4:
                    failures.append((c, i, answer))

    threads = [threading.Thread(target=run_client, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures and counts == [25] * 8, failures[:3]
    with connect(socket_path) as s:
        stats = ask(s, {"type": "stats"})
    sizes = {int(size): n for size, n in stats["batch_sizes"].items()}
    assert sum(size * n for size, n in sizes.items()) == stats["requests"] == 200  # none lost or run twice
    assert max(sizes) > 1 and sum(server.strategy.batches) == 200


def test_a_strategy_that_loses_an_answer_fails_its_whole_batch_loudly(serve, socket_path):
    server = serve(job_s=0.3, batching=Batching(max_batch=4))
    answer_all = server.strategy.first_tokens
    server.strategy.first_tokens = lambda batch: answer_all(batch)[:-1]  # one answer short
    first: list[dict] = []
    thread = threading.Thread(target=lambda: first.extend(send_from_threads(socket_path, [[1]])))
    thread.start()
    time.sleep(0.1)
    later = send_from_threads(socket_path, [[2], [3]])
    thread.join(TIMEOUT_S)
    assert all(a["status"] == "error" and "answers for a batch of" in a["error"] for a in first + later)
