"""The sweep's check cannot be fooled: every prompt judged, every request a prompt of its own, every
timed answer judged against the baseline's for the same request, requests seeded."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from bench.jobs.job import RESTART, Job
from bench.judging.references import References, unseen_key
from bench.judging.rule import JudgingRule
from bench.judging.verdicts import judge_request
from bench.running.worker import run_job
from bench.scenarios.events import PointEvent, StrategyEvent
from bench.scenarios.rounds import round_sizes
from bench.targets.base import Target, Timed
from strategies.base import FirstToken
from strategies.baseline import Baseline
from tests.conftest import other_token
from tests.sweep_jobs import PROMPTS, REPEATS, WARMUP, points_of, register, tiny_job

GREEDY, SAMPLED = JudgingRule(torch.float16, 1, False, 0), JudgingRule(torch.float16, 1, True, 0)


def test_the_baseline_judges_every_prompt_and_keeps_its_timed_answers(judged_run):
    _, points = judged_run
    for p in points.values():
        assert p["status"] == "ok" and p["matches_baseline"] is True
        assert (p["prompts_judged"], p["prompts_agreed"], p["near_ties"]) == (PROMPTS, PROMPTS, 0)
        assert p["timed_checked"] is None and p["timed_mismatches"] is None  # it is the reference
    refs = References(judged_run[0], writing=False)
    assert [len(refs.timed_answers(n)) for n in points] == [REPEATS, REPEATS]
    assert all(a.has_values for n in points for a in refs.timed_answers(n).values())
    assert all(p["near_ties_limit"] is None for p in points.values())  # its own reference: nothing to bound


def test_a_correct_strategy_passes_and_every_request_asks_a_prompt_of_its_own(judged_run, monkeypatch):
    asked = []

    class Honest(Baseline):
        name = "honest"

        def first_token(self, input_ids):
            asked.append(tuple(input_ids))
            return super().first_token(input_ids)

    register(monkeypatch, Honest)
    job = tiny_job(judged_run[0], "honest")
    for p in points_of(job).values():
        assert p["matches_baseline"] is True and p["prompts_agreed"] == PROMPTS, p["note"]
        assert (p["timed_checked"], p["timed_mismatches"], p["near_ties"]) == (REPEATS, 0, 0)
        assert p["max_abs_logit_diff"] == 0.0
    per_length = PROMPTS + WARMUP + REPEATS
    rounds = sum(1 for size in round_sizes(REPEATS, job.config.measure.rounds) if size)
    for n in job.config.prompts.lengths:
        requests = [r for r in asked if len(r) == n]
        assert requests[:PROMPTS] == list(job.prompts[n])
        # each one its own; each round's share starts with the last warm-up prompt again, untimed
        assert len(set(requests)) == per_length and len(requests) == per_length + rounds


def test_a_strategy_that_caches_its_answer_per_length_is_flagged(judged_run, monkeypatch):
    class Cached(Baseline):
        """Answers each length with its first answer: right on prompt 0, stale on the others."""
        name = "cached"

        def first_token(self, input_ids):
            cache = self.__dict__.setdefault("answers", {})
            if len(input_ids) not in cache:
                cache[len(input_ids)] = super().first_token(input_ids)
            return cache[len(input_ids)]

    register(monkeypatch, Cached)
    for p in points_of(tiny_job(judged_run[0], "cached")).values():
        assert p["matches_baseline"] is False and p["prompts_agreed"] < PROMPTS
        assert "returned token" in p["note"]


def test_a_wrong_token_on_one_prompt_only_is_flagged(judged_run, monkeypatch):
    job = tiny_job(judged_run[0], "baseline")
    bad = {tuple(ps[3]) for ps in job.prompts.values()}

    class OneWrong(Baseline):
        name = "one-wrong"

        def first_token(self, input_ids):
            answer = super().first_token(input_ids)
            return other_token(answer, self.ctx.vocab_size) if tuple(input_ids) in bad else answer

    register(monkeypatch, OneWrong)
    for p in points_of(tiny_job(judged_run[0], "one-wrong")).values():
        assert p["matches_baseline"] is False and p["prompts_agreed"] == PROMPTS - 1
        assert "prompt 3:" in p["note"]


def test_a_wrong_token_on_some_timed_requests_only_is_flagged(judged_run, monkeypatch):
    judged_and_warm = PROMPTS + WARMUP  # the requests before the timed ones, per length

    class WrongWhenTimed(Baseline):
        name = "wrong-when-timed"

        def first_token(self, input_ids):
            # the order in which each prompt was first asked, per length (a round's untimed request repeats one)
            order = self.__dict__.setdefault("order", {}).setdefault(len(input_ids), {})
            order.setdefault(tuple(input_ids), len(order) + 1)
            answer = super().first_token(input_ids)
            third_timed = order[tuple(input_ids)] == judged_and_warm + 3
            return other_token(answer, self.ctx.vocab_size) if third_timed else answer

    register(monkeypatch, WrongWhenTimed)
    for p in points_of(tiny_job(judged_run[0], "wrong-when-timed")).values():
        assert p["prompts_agreed"] == PROMPTS  # every judged prompt was right
        assert p["matches_baseline"] is False
        assert p["timed_mismatches"] == 1 and "timed request 3: token" in p["note"]


def test_a_memoising_strategy_is_flagged_on_its_timed_requests(judged_run, monkeypatch):
    class Memo(Baseline):
        """Computes the judged prompts, then answers from memory: the cached token for an input it has
        seen, the last token it computed for one it has not (what an input-keyed cache at ~0 ms gives)."""
        name = "memo"

        def first_token(self, input_ids):
            memo = self.__dict__.setdefault("memo", {})
            if sum(len(ids) == len(input_ids) for ids in memo) < PROMPTS:  # this length's judged prompts
                memo[tuple(input_ids)] = super().first_token(input_ids)
                self.last = memo[tuple(input_ids)]
            return memo.get(tuple(input_ids), self.last)

    register(monkeypatch, Memo)
    for p in points_of(tiny_job(judged_run[0], "memo")).values():
        assert p["prompts_agreed"] == PROMPTS and p["timed_checked"] == REPEATS
        assert p["matches_baseline"] is False and p["timed_mismatches"] >= 1, p["note"]
        assert "timed request" in p["note"]


def test_a_strategy_answering_with_the_previous_requests_token_is_flagged(judged_run, monkeypatch):
    class Lagging(Baseline):
        """Right on the judged prompts; then each request returns the token of the one before at its length."""
        name = "lagging"

        def first_token(self, input_ids):
            n = len(input_ids)
            calls, previous = self.__dict__.setdefault("calls", {}), self.__dict__.setdefault("previous", {})
            calls[n] = calls.get(n, 0) + 1
            token = super().first_token(input_ids)
            answer = token if calls[n] <= PROMPTS else previous[n]
            previous[n] = token
            return answer

    register(monkeypatch, Lagging)
    points = points_of(tiny_job(judged_run[0], "lagging"))
    baseline = References(judged_run[0], writing=False)
    for n, p in points.items():
        tokens = [answer.token for answer in baseline.timed_answers(n).values()]
        changes = sum(a != b for a, b in zip(tokens, tokens[1:]))  # a lagging token is wrong where they change
        assert p["prompts_agreed"] == PROMPTS and p["timed_mismatches"] >= changes >= 1, p["note"]
        assert p["matches_baseline"] is False


def test_temperature_sampling_is_checked_exactly_on_every_timed_request(tmp_path, monkeypatch):
    # each request starts from sampling.seed, so the same prompt gives the same sampled token; a
    # strategy that returns the argmax instead of sampling is flagged
    sampling = {"sampling": {"mode": "temperature", "temperature": 5.0}}
    points_of(tiny_job(tmp_path, "baseline", **sampling))

    class Honest(Baseline):
        """Draws one more random number after each token: harmless, because every request is seeded."""
        name = "honest"

        def first_token(self, input_ids):
            token = super().first_token(input_ids)
            torch.rand(1)
            return token

    class Argmax(Baseline):
        name = "argmax"

        def first_token(self, input_ids):
            logits = self.logits(input_ids)
            return FirstToken(int(logits.reshape(-1).argmax()), logits.reshape(-1))

    for cls in (Honest, Argmax):
        register(monkeypatch, cls)
    for p in points_of(tiny_job(tmp_path, "honest", **sampling)).values():
        assert p["matches_baseline"] is True and p["timed_checked"] == REPEATS, p["note"]
    for p in points_of(tiny_job(tmp_path, "argmax", **sampling)).values():
        assert p["matches_baseline"] is False and p["timed_mismatches"] >= 1
        assert "sampled under the same seed" in p["note"]


class Scripted(Target):
    """A target answering with given logits and the token they imply (or a given one)."""
    transport = "test"

    def __init__(self, logits, token=None):
        self.values, self.token = logits, token

    def start(self):
        raise NotImplementedError

    def first_token(self, input_ids):
        return Timed(int(self.values.argmax()) if self.token is None else self.token, 1000, logits=self.values)

    def stats(self):
        return {}

    def close(self):
        pass


def test_the_unseen_probe_uses_the_near_tie_rule_and_references_round_trip(tmp_path):
    reference = torch.zeros(50)
    reference[7], reference[9] = 5.2421875, 5.234375  # one fp16 step apart, as measured at 7B
    key = unseen_key(30)
    writer = References(tmp_path, writing=True)
    _, own = judge_request(Scripted(reference), writer, key, [1], GREEDY, True)
    writer.save()
    assert own.agreed
    refs = References(tmp_path, writing=False)  # read back from reference.pt
    flipped = reference.clone()
    flipped[9] = 5.25  # the strategy's rounding puts the runner-up first
    _, near = judge_request(Scripted(flipped), refs, key, [1], GREEDY, True)
    assert near.agreed and near.near_tie
    _, sampled = judge_request(Scripted(flipped), refs, key, [1], SAMPLED, True)
    assert not sampled.agreed  # temperature: the same token or nothing
    wrong = reference.clone()
    wrong[3] = 9.0
    assert not judge_request(Scripted(wrong), refs, key, [1], GREEDY, True)[1].agreed

    class TokensOnly(Scripted):
        def first_token(self, input_ids):
            return dataclasses.replace(super().first_token(input_ids), logits=None)

    assert judge_request(TokensOnly(reference, 7), refs, key, [1], GREEDY, True)[1].agreed
    over_a_socket = judge_request(TokensOnly(reference, 9), refs, key, [1], GREEDY, True)[1]
    assert over_a_socket.agreed and over_a_socket.near_tie  # decided on the baseline's values
    assert not judge_request(TokensOnly(reference, 3), refs, key, [1], GREEDY, True)[1].agreed


def test_the_job_record_round_trips_through_json(tmp_path):
    job = tiny_job(tmp_path, "baseline", prompts={"lengths": [8, 24], "per_length": 3})
    job = dataclasses.replace(job, config=dataclasses.replace(job.config, out_override=str(tmp_path)))
    again = Job.from_dict(json.loads(json.dumps(job.to_dict())))
    assert again == job
    assert [len(ps) for ps in again.prompts.values()] == [3, 3] and again.unseen_len == 16


def test_the_sweep_judges_by_the_models_depth(judged_run, monkeypatch):
    """A difference of twice the unscaled limit fails a model of the calibrated depth and passes one three
    times as deep, on the judged prompts and the unseen-length probe, whose difference is kept."""
    from bench.judging.correctness import CALIBRATED_LAYERS, tolerance

    class Rounded(Baseline):
        name = "rounded"

        def logits(self, input_ids):
            out = super().logits(input_ids).clone()
            last = out.reshape(-1, out.shape[-1])[-1]
            last[last.argmin()] -= 2 * tolerance(torch.float32, last.float(), 1)  # far below the top: same token
            return out

    register(monkeypatch, Rounded)
    job = tiny_job(judged_run[0], "rounded")
    assert job.model.layers == 2  # the tiny preset's
    for layers, agreed in ((CALIBRATED_LAYERS, 0), (3 * CALIBRATED_LAYERS, PROMPTS)):
        deep = dataclasses.replace(job, model=dataclasses.replace(job.model, layers=layers))
        events = []
        run_job(deep, events.append)
        for p in (e.point for e in events if isinstance(e, PointEvent)):
            assert p.prompts_agreed == agreed, p.note
        # the unseen-length probe, judged by the same rule
        unseen = next(e.record for e in events if isinstance(e, StrategyEvent) and e.record.unseen_len is not None)
        assert unseen.unseen_matches_baseline is bool(agreed) and unseen.unseen_max_abs_logit_diff > 0


def test_every_judgement_of_a_run_gets_the_models_layer_count(judged_run, monkeypatch, tmp_path):
    """Judged prompts (and their near-tie chances), timed requests, the unseen probe, a restart and the one-device
    reference pass all judge with the job's layer count (a path passing another count would judge a deep model
    by the wrong limit)."""
    import bench.judging.token_rule as token_rule
    import bench.judging.verdicts as judging
    from bench.parallel.one_gpu_references import write_one_gpu_references

    seen = []
    real_compare, real_tolerance, real_of_top = judging.compare, judging.tolerance, token_rule.tolerance_of_top

    def compare(*args, layers, **kwargs):
        seen.append(("compare", layers))
        return real_compare(*args, layers=layers, **kwargs)

    def tolerance(dtype, reference, layers):
        seen.append(("prompt's tie chance", layers))
        return real_tolerance(dtype, reference, layers)

    def tolerance_of_top(dtype, top, layers):
        seen.append(("timed", layers))
        return real_of_top(dtype, top, layers)

    monkeypatch.setattr(judging, "compare", compare)
    monkeypatch.setattr(judging, "tolerance", tolerance)
    monkeypatch.setattr(token_rule, "tolerance_of_top", tolerance_of_top)
    deep = 3 * 32
    job = tiny_job(judged_run[0], "baseline")
    judged = {tuple(ids) for ps in job.prompts.values() for ids in ps} | {tuple(job.unseen_prompt)}

    class TimedWrong(Baseline):
        """Right on every judged prompt, wrong on the timed requests: each one is judged on the baseline's values."""
        name = "timed-wrong"

        def first_token(self, input_ids):
            answer = super().first_token(input_ids)
            return answer if tuple(input_ids) in judged else other_token(answer, self.ctx.vocab_size)

    register(monkeypatch, TimedWrong)
    job = tiny_job(judged_run[0], "timed-wrong")
    job = dataclasses.replace(job, model=dataclasses.replace(job.model, layers=deep))
    points_of(job)
    run_job(job.for_scenario(RESTART), lambda event: None)
    write_one_gpu_references(dataclasses.replace(job.for_strategy("baseline"), run_folder=tmp_path))
    assert {kind for kind, _ in seen} == {"compare", "prompt's tie chance", "timed"}
    assert {layers for _, layers in seen} == {deep}


def test_timed_requests_go_round_major_so_each_length_spans_the_measuring_time(judged_run, monkeypatch):
    asked = []

    class Recording(Baseline):
        name = "recording"

        def first_token(self, input_ids):
            asked.append(len(input_ids))
            return super().first_token(input_ids)

    register(monkeypatch, Recording)
    points = points_of(tiny_job(judged_run[0], "recording", measure={"warmup": WARMUP, "repeats": 5, "rounds": 2}))
    before = PROMPTS + WARMUP  # judged prompts and warm-up, per length, before the first round
    assert asked[:2 * before] == [8] * before + [24] * before
    # 5 requests over 2 rounds: 3 then 2 of each length, each share after one untimed request
    assert asked[2 * before:2 * before + 14] == [8] * 4 + [24] * 4 + [8] * 3 + [24] * 3
    for p in points.values():
        assert p["sample_rounds"] == [0, 0, 0, 1, 1] and p["timed_checked"] == 5 and p["matches_baseline"] is True
