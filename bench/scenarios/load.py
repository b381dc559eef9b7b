"""The load scenario: one strategy in a generator server with one batching setting, driven by many
clients at once (closed loop: load.concurrency) and by timed arrivals (open loop: load.rates).

Per level: the requests are drawn (load_plan.py) and serialised, then sent (bench/serving/load_client.py);
every answer's token is judged against the baseline's single-request token for the same prompt, so
a strategy that batches or queues its way to another answer fails that level. A level stopped by
its bound is saturated, and the higher levels of its mode are not run. Each level is one event
carrying every request it sent.
"""
from __future__ import annotations

import dataclasses
import time

from bench.config.load import LoadConfig
from bench.jobs.job import LOAD, Job
from bench.jobs.requests import request_pool
from bench.judging.near_tie_bound import near_ties_limit
from bench.judging.references import References
from bench.judging.rule import JudgingRule, rule_of
from bench.judging.timed_check import named
from bench.judging.token_rule import judge_token
from bench.reporting.load_records import LoadLevelRecord, LoadRow, LoadRunRecord
from bench.scenarios.base import Scenario
from bench.scenarios.events import Emit, LoadLevelEvent, LoadRunEvent, PhaseEvent
from bench.scenarios.load_plan import PlannedRequest, arrival_offsets_ns, level_rng, plan_requests
from bench.serving.load_client import LevelResult, closed_loop, inference_frame, open_loop
from bench.targets.base import Target

NS_PER_MS = 1_000_000


class LoadScenario(Scenario):
    name = LOAD

    def make_target(self, job: Job, emit: Emit) -> Target:
        """Always a generator server, whatever the sweep's transport: load is what a server sees."""
        from bench.serving.ipc_target import IpcTarget
        return IpcTarget(job, server_flags=server_flags(job))

    def imported(self, seconds: float) -> LoadRunEvent:
        return LoadRunEvent(LoadRunRecord(imports_s=seconds))

    def skip(self, job: Job, reason: str, emit: Emit) -> None:
        emit(LoadRunEvent(LoadRunRecord(status="skipped", note=reason)))

    def run(self, job: Job, target: Target, emit: Emit, started: float) -> None:
        load, rule = job.config.load, rule_of(job)
        refs = References(job.run_folder, writing=False)
        choices = prompt_choices(job, refs)  # before the server starts: a missing reference is found at once
        target.start()
        emit(LoadRunEvent(LoadRunRecord(ready_s=time.time() - started)))
        saturated: dict[str, float] = {}  # mode -> its first saturated level
        for mode, level in load.levels():
            planned = load.warmup + load.requests
            if mode in saturated:
                emit(LoadLevelEvent(LoadLevelRecord(mode, level, "not-run", planned,
                                                    note=f"not run: {mode} {saturated[mode]:g} saturated"), ()))
                continue
            emit(PhaseEvent(f"{mode} {level:g}"))
            plan = plan_requests(choices, planned, level_rng(load.seed, mode, level))
            result = send(target.socket_path, plan, load, mode, level)
            record, rows = judged_level(plan, result, load.warmup, refs, rule, mode, level)
            emit(LoadLevelEvent(record, rows))
            if record.status == "error":
                raise RuntimeError(f"{mode} {level:g}: {record.note}")
            if record.status == "saturated":
                saturated[mode] = level
        emit(LoadRunEvent(LoadRunRecord(status="ok", stats=target.stats())))


def server_flags(job: Job) -> tuple[str, ...]:
    """The generator server's flags for this load run: a connection per request in flight, plus the
    target's own; the batching flags only where the setting batches (max_batch 1 is the server's default)."""
    flags = ("--max-connections", str(job.config.load.max_in_flight + 1))
    batching = job.batching
    if batching is not None and batching.max_batch > 1:
        flags += ("--max-batch", str(batching.max_batch), "--max-wait-us", str(batching.max_wait_us))
    return flags


def prompt_choices(job: Job, refs: References) -> dict[int, list[tuple[int, tuple[int, ...]]]]:
    """Per load length, the sweep's timed requests the baseline answered: (request index, its prompt)."""
    cfg = job.config
    choices = {}
    for n in cfg.load.lengths or cfg.prompts.lengths:
        expected = refs.timed_answers(n)
        if not expected:
            raise RuntimeError(f"no baseline tokens of timed requests at length {n} (did the baseline's sweep "
                               "measure it?): load answers could not be judged")
        _, pool = request_pool(job, n, [list(p) for p in job.prompts[n]])
        choices[n] = [(i, tuple(pool[i % len(pool)])) for i in sorted(expected)]
    return choices


def send(socket_path: str, plan: list[PlannedRequest], load: LoadConfig, mode: str, level: float) -> LevelResult:
    """One level's requests through the client, in closed or open loop."""
    frames = [inference_frame(r.ids) for r in plan]  # serialised before the level starts
    if mode == "concurrency":
        return closed_loop(socket_path, frames, int(level), load.max_level_s)
    offsets = arrival_offsets_ns(len(plan), level, load.burstiness, level_rng(load.seed, f"{mode}-arrivals", level))
    return open_loop(socket_path, frames, offsets, load.max_in_flight, load.max_level_s)


def judged_level(plan: list[PlannedRequest], result: LevelResult, warmup: int, refs: References,
                 rule: JudgingRule, mode: str, level: float) -> tuple[LoadLevelRecord, tuple[LoadRow, ...]]:
    """Every request sent as a row, each answer judged against the baseline's token for its prompt."""
    rows, problems = [], []
    errors = mismatches = near_ties = 0
    # per distinct prompt: its tie chance, and whether an answer to it was a near tie. A level draws prompts with
    # replacement, and an honest deterministic server answers a repeated prompt alike: the trials the bound
    # counts are the distinct prompts, not the requests
    tie_chances: dict[tuple[int, int], float] = {}
    tied_prompts: set[tuple[int, int]] = set()
    for k, (request, answer) in enumerate(zip(plan, result.answers)):
        if answer is None:
            continue  # never sent: the level stopped first
        row = LoadRow(request=k, warmup=k < warmup, prompt_len=request.prompt_len,
                      prompt_index=request.prompt_index, sent_ns=answer.sent_ns, ttft_ns=answer.ttft_ns)
        response = answer.response
        if response is None:
            rows.append(row)
            continue
        token = answer_token(response)
        if token is None:
            errors += 1
            problems.append(f"request {k}: the server answered {str(response.get('error', response))[:200]}")
            rows.append(row)
            continue
        verdict = judge_token(refs, request.prompt_len, request.prompt_index, token, rule)
        if not verdict.agreed:
            mismatches += 1
            problems.append(f"request {k} (length {request.prompt_len}, timed request {request.prompt_index}): "
                            f"{verdict.note}")
        near_ties += verdict.near_tie
        prompt = (request.prompt_len, request.prompt_index)
        tie_chances[prompt] = verdict.tie_chance
        if verdict.near_tie:
            tied_prompts.add(prompt)
        rows.append(dataclasses.replace(row, server_ttft_ns=ns(response.get("server_ttft_ms")),
                                        queue_ns=ns(response.get("queue_ms")), batch_size=batch_size(response),
                                        token=token, agreed=verdict.agreed))
    unanswered = result.unanswered
    if unanswered:
        problems.insert(0, f"{unanswered} requests sent were never answered")
    limit = near_ties_limit(tie_chances.values())
    excess = len(tied_prompts) > limit  # each within the rule, together more than an honest server shows
    if excess:
        problems.insert(0, f"near ties on {len(tied_prompts)} of {len(tie_chances)} prompts, more than the {limit} "
                           f"an honest strategy shows at most here")
    status = "error" if unanswered else "saturated" if result.stopped else "ok"
    record = LoadLevelRecord(mode, level, status, planned=len(plan), sent=len(rows), answered=len(rows) - unanswered,
                             errors=errors, mismatches=mismatches, near_ties=near_ties,
                             correct=not (errors or mismatches or unanswered or excess),
                             note="; ".join(filter(None, [result.stopped, *named(problems, "failed requests")])))
    return record, tuple(rows)


def answer_token(response: dict) -> int | None:
    """The first token of a success answer; None for an error answer (or one without a token)."""
    tokens = response.get("output_tokens")
    if response.get("status") != "success" or not isinstance(tokens, list) or not tokens:
        return None
    return tokens[0] if isinstance(tokens[0], int) and not isinstance(tokens[0], bool) else None


def batch_size(response: dict) -> int | None:
    """The size of the batch that answered, where the server says (a batching server does)."""
    size = response.get("batch_size")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def ns(ms) -> int | None:
    """A server's time in ms as integer ns (None stays None)."""
    return None if ms is None else round(ms * NS_PER_MS)
