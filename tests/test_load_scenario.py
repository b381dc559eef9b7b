"""The load scenario against a stub server whose answers the baseline's references agree with: levels send
what they plan, every answer is judged (one wrong prompt fails its levels), a level beyond capacity is
saturated and the higher ones are not run."""
from __future__ import annotations

import dataclasses
import time

import pytest
import torch

from bench.config.load import ServerBatching
from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.jobs.job import LOAD
from bench.jobs.requests import request_pool
from bench.judging.references import References
from bench.judging.top_answer import TopAnswer
from bench.serving.limits import ServerLimits
from bench.reporting.load_records import LoadRunRecord
from bench.scenarios.events import LoadLevelEvent, LoadRunEvent
from bench.scenarios.load import LoadScenario
from bench.targets.base import Started, Target
from tests.conftest import tiny_raw
from tests.serving_stub import VOCAB, StubAnswer, StubStrategy, stub_token

WARMUP, REQUESTS = 3, 30


def load_job(folder, measure=None, **load):
    section = {"concurrency": [1, 3], "requests": REQUESTS, "warmup": WARMUP, **load}
    cfg = parse_config(tiny_raw(load=section, **({"measure": measure} if measure else {})))
    job = build_job(cfg).for_scenario(LOAD, ServerBatching())
    return dataclasses.replace(job, run_folder=folder)


def write_stub_references(job, lengths=None, tied=frozenset()) -> None:
    """The baseline's timed answers as the stub answers them (the stub is a correct strategy): tokens alone,
    as over ipc; with values where `tied` names prompts, where the next token ties with the stub's at the top."""
    refs = References(job.run_folder, writing=True)
    m = job.config.measure
    for n in lengths or job.config.prompts.lengths:
        _, pool = request_pool(job, n, [list(p) for p in job.prompts[n]])
        prompts = [tuple(pool[i % len(pool)]) for i in range(m.warmup, m.warmup + m.repeats)]
        refs.put_timed(n, m.warmup, [tied_answer(p, p in tied) if tied else TopAnswer(stub_token(p)) for p in prompts])
    refs.save()


def tied_answer(prompt, tie: bool) -> TopAnswer:
    """The stub's token on top at 5.0; the next id level with it (`tie`) or 4 below (no near tie in float32)."""
    token = stub_token(prompt)
    ids = torch.tensor([token, (token + 1) % VOCAB, (token + 2) % VOCAB], dtype=torch.int32)
    return TopAnswer(token, ids, torch.tensor([5.0, 5.0 if tie else 1.0, 0.0]), 5.0)


class StubTarget(Target):
    """The serve fixture's stub server, as the load scenario sees an IpcTarget."""
    transport = "ipc"

    def __init__(self, server, socket_path):
        self.server, self.socket_path = server, str(socket_path)

    def start(self) -> Started:
        return Started({}, 0.0, {})

    def first_token(self, input_ids):
        raise AssertionError("the load scenario sends through its own client")

    def stats(self) -> dict:
        return self.server.stats()

    def close(self) -> None:
        pass


def run_load(job, server, socket_path):
    events = []
    LoadScenario().run(job, StubTarget(server, socket_path), events.append, time.time())
    levels = [e for e in events if isinstance(e, LoadLevelEvent)]
    runs = [e.record for e in events if isinstance(e, LoadRunEvent)]
    return levels, runs


def stub_server(serve, job, strategy=None, job_s=0.0):
    return serve(ServerLimits(), job_s, strategy=strategy, vocab=job.model.vocab_size, max_positions=None)


def test_every_level_sends_what_it_plans_and_every_answer_agrees(serve, socket_path, tmp_path):
    job = load_job(tmp_path, rates=[200])
    write_stub_references(job)
    server = stub_server(serve, job)
    levels, runs = run_load(job, server, socket_path)
    assert [(e.level.mode, e.level.level) for e in levels] == [("concurrency", 1), ("concurrency", 3), ("rate", 200)]
    for e in levels:
        assert e.level.status == "ok" and e.level.correct is True, e.level.note
        assert e.level.planned == e.level.sent == e.level.answered == len(e.rows) == WARMUP + REQUESTS
        assert [r.request for r in e.rows] == list(range(WARMUP + REQUESTS))  # each once
        assert sum(r.warmup for r in e.rows) == WARMUP and all(r.agreed for r in e.rows)
    assert server.stats()["requests"] == 3 * (WARMUP + REQUESTS)  # nothing lost, nothing answered twice
    assert runs[0].ready_s >= 0 and runs[-1] == LoadRunRecord(status="ok", stats=runs[-1].stats)


def test_a_wrong_token_for_one_prompt_fails_every_level_that_asked_it(serve, socket_path, tmp_path):
    job = load_job(tmp_path)
    write_stub_references(job)
    _, pool = request_pool(job, 8, [list(p) for p in job.prompts[8]])
    wrong = tuple(pool[job.config.measure.warmup])  # the first timed request's prompt at length 8

    class WrongOnce(StubStrategy):
        def first_token(self, tokens):
            answer = super().first_token(tokens)
            return StubAnswer(answer.token + 1) if tuple(tokens) == wrong else answer

    levels, _ = run_load(job, stub_server(serve, job, WrongOnce(0.0)), socket_path)
    for e in levels:
        asked = [r for r in e.rows if r.prompt_len == 8 and r.prompt_index == job.config.measure.warmup]
        assert asked, "the test's prompt is drawn at every level"
        assert e.level.correct is False and e.level.mismatches == len(asked)
        assert [r.agreed for r in asked] == [False] * len(asked) and sum(not r.agreed for r in e.rows) == len(asked)
        assert f"(length 8, timed request {job.config.measure.warmup}): token" in e.level.note


class OffByOne(StubStrategy):
    """Answers the next token to the prompts in `tied`."""

    def __init__(self, tied):
        super().__init__(0.0)
        self.tied = tied

    def first_token(self, tokens):
        answer = super().first_token(tokens)
        return StubAnswer(answer.token + 1) if tuple(tokens) in self.tied else answer


def test_a_near_tie_the_judge_accepts_is_counted_and_agrees(serve, socket_path, tmp_path):
    job = load_job(tmp_path, concurrency=[2])
    _, pool = request_pool(job, 8, [list(p) for p in job.prompts[8]])
    tied = {tuple(pool[job.config.measure.warmup])}
    write_stub_references(job, tied=tied)
    levels, _ = run_load(job, stub_server(serve, job, OffByOne(tied)), socket_path)
    asked = [r for r in levels[0].rows if r.prompt_len == 8 and r.prompt_index == job.config.measure.warmup]
    assert levels[0].level.correct is True and levels[0].level.near_ties == len(asked) > 0


def test_near_ties_on_every_answer_fail_the_level(serve, socket_path, tmp_path):
    # 2 x 40 timed prompts to draw from: the level's 33 answers ask ~25 distinct ones, each tied (chance 1/2),
    # where an honest server ties on at most ~21
    job = load_job(tmp_path, measure={"warmup": 1, "repeats": 40}, concurrency=[2])
    every = {tuple(p) for n in job.config.prompts.lengths
             for p in request_pool(job, n, [list(q) for q in job.prompts[n]])[1]}
    write_stub_references(job, tied=every)  # each answer alone is a near tie; all of them are not chance
    levels, _ = run_load(job, stub_server(serve, job, OffByOne(every)), socket_path)
    level = levels[0].level
    assert level.correct is False and level.mismatches == 0 and level.near_ties == level.answered
    assert "near ties on" in level.note and "more than the" in level.note


def test_a_level_beyond_capacity_is_saturated_and_the_higher_ones_are_not_run(serve, socket_path, tmp_path):
    job = load_job(tmp_path, concurrency=[1], rates=[10, 2000, 5000], max_in_flight=4)
    write_stub_references(job)
    levels, runs = run_load(job, stub_server(serve, job, job_s=0.02), socket_path)  # 50 requests/s at most
    status = {e.level.level: e.level.status for e in levels if e.level.mode == "rate"}
    assert status == {10: "ok", 2000: "saturated", 5000: "not-run"}
    saturated = next(e for e in levels if e.level.level == 2000)
    assert "backlog: 4 requests in flight" in saturated.level.note and saturated.level.correct is True
    assert 4 <= saturated.level.sent == len(saturated.rows) < saturated.level.planned
    assert next(e for e in levels if e.level.level == 5000).rows == ()
    assert runs[-1].status == "ok"


def test_an_error_answer_fails_its_level(serve, socket_path, tmp_path):
    job = load_job(tmp_path, concurrency=[2])

    class Failing(StubStrategy):
        def first_token(self, tokens):
            if len(tokens) == 24:
                raise RuntimeError("no kernel for 24 tokens")
            return super().first_token(tokens)

    write_stub_references(job)
    levels, _ = run_load(job, stub_server(serve, job, Failing(0.0)), socket_path)
    level = levels[0].level
    assert level.correct is False and level.errors == sum(r.prompt_len == 24 for r in levels[0].rows) > 0
    assert "no kernel for 24 tokens" in level.note


def test_a_length_without_the_baselines_tokens_stops_before_the_server_is_asked(serve, socket_path, tmp_path):
    job = load_job(tmp_path)
    write_stub_references(job, lengths=[8])
    server = stub_server(serve, job)
    with pytest.raises(RuntimeError, match="no baseline tokens of timed requests at length 24"):
        run_load(job, server, socket_path)
    assert server.stats()["requests"] == 0
