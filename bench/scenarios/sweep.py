"""The sweep: one strategy through one target, every length in rounds, then the unseen-length probe.

Per length, before any timing: the cold request (prompt 0), every prompt judged against the
baseline's reference, then the warm-up. Then the timed requests in measure.rounds rounds, round-major
(bench.scenarios.rounds): each round asks every length for its share, so each length's samples span the
strategy's whole measuring time. Each timed request asks a prompt of its own (made before timing
starts, so no cache of an input can help) and is judged against the baseline's answer to the same
request right after its timer stops, on the logits that very call computed (bench.judging.timed_check).
Every request is seeded with sampling.seed first, outside the timer, so sampling is reproducible.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

import torch

from bench.jobs.job import SWEEP, Job
from bench.jobs.requests import request_pool
from bench.judging.reference_check import reference_identity
from bench.judging.references import References, prompt_key, unseen_key
from bench.judging.rule import rule_of
from bench.judging.timed_check import TimedJudge
from bench.judging.verdicts import PromptVerdict, judge_request, tally
from bench.measuring.clocks import gc_paused
from bench.measuring.roofline import measure_ceilings, model_shape
from bench.models.build import hf_config
from bench.models.dtypes import TORCH_DTYPES
from bench.parallel.ceilings import measure_tp_ceilings
from bench.parallel.one_gpu_references import write_one_gpu_references
from bench.reporting.records import PointRecord, StrategyRecord
from bench.scenarios.base import Scenario
from bench.scenarios.events import Emit, PhaseEvent, PointEvent, RooflineEvent, StrategyEvent
from bench.scenarios.rounds import round_sizes
from bench.targets.base import Started, Target, Timed
from bench.targets.loading import error_text


class SweepScenario(Scenario):
    """Every length of the config, then the unseen-length probe; the baseline also measures the roofline
    and writes the references."""
    name = SWEEP

    def imported(self, seconds: float) -> StrategyEvent:
        return StrategyEvent(StrategyRecord(imports_s=seconds))

    def skip(self, job: Job, reason: str, emit: Emit) -> None:
        emit(StrategyEvent(StrategyRecord(status="skipped", note=reason)))
        for n in job.config.prompts.lengths:
            emit(PointEvent(PointRecord(prompt_len=n, status="skipped", note=reason)))

    def run(self, job: Job, target: Target, emit: Emit, started: float) -> None:
        if job.is_baseline:
            emit(RooflineEvent(**roofline_facts(job)))  # before any model takes memory
        emit(StrategyEvent(StrategyRecord(tensor_parallel=job.config.model.tensor_parallel)))
        if job.is_baseline and not job.writes_references:
            write_one_gpu_references(job)
        run_sweep(job, target, emit, started)


def roofline_facts(job: Job) -> dict:
    """The GPU's measured ceilings (before any model takes memory) and the model's shape."""
    dtype = TORCH_DTYPES[job.config.model.dtype]
    shape = {**model_shape(hf_config(job.config.model)), "bytes_per_param": dtype.itemsize}
    device, ranks = torch.device(job.device), job.config.model.tensor_parallel
    if device.type != "cuda":
        return {"model": shape, "note": "roofline: the ceilings are measured on CUDA GPUs only"}
    try:
        if ranks > 1:
            ceilings = measure_tp_ceilings(device, dtype, ranks, shape["hidden_size"], list(job.config.prompts.lengths))
        else:
            ceilings = measure_ceilings(device, dtype)
    except Exception as exc:  # the floor is a column, not the run: the baseline goes on without it
        traceback.print_exc()
        return {"model": shape, "note": f"roofline: measuring the ceilings failed: {error_text(exc)}"}
    return {"model": shape, "ceilings": ceilings}


def run_sweep(job: Job, target: Target, emit: Emit, started_at: float | None = None) -> None:
    """Start the target, measure every length in rounds, then the unseen-length probe, emitting events as they
    come. started_at: the process start (time.time()) the ready time counts from; None: now."""
    started_at = time.time() if started_at is None else started_at
    refs = References(job.run_folder, writing=job.writes_references)
    if refs.writing:
        refs.stamp(reference_identity(job))
    started = target.start()
    emit(StrategyEvent(StrategyRecord(ready_s=time.time() - started_at, status="ok", **started.facts)))
    lengths = job.config.prompts.lengths
    points: dict[int, OpenPoint | PointRecord] = {}
    for n in lengths:
        emit(PhaseEvent(f"judging {n} tokens"))
        points[n] = measure_length(job, target, refs, started, n)
    sizes = round_sizes(job.config.measure.repeats, job.config.measure.rounds)
    for r, size in enumerate(sizes):
        emit(PhaseEvent(f"timing round {r + 1} of {len(sizes)}"))
        with gc_paused():  # one collection a round, not one a length and round: each costs 0.1-1 s
            for n in lengths:
                if isinstance(points[n], OpenPoint) and size:
                    points[n] = time_round(target, points[n], r, size)
    for n in lengths:
        point = close_length(job, target, points[n])
        refs.save()
        emit(PointEvent(point))
    emit(PhaseEvent(f"unseen length {job.unseen_len}"))
    emit(StrategyEvent(StrategyRecord(**probe_unseen(job, target, refs))))
    refs.save()
    emit(StrategyEvent(StrategyRecord(stats=target.stats())))


def tokens_comparable(job: Job, target: Target) -> bool:
    return target.seeded or job.config.sampling.mode == "greedy"


@dataclass
class OpenPoint:
    """A length judged and warmed up, whose timed requests arrive one round at a time."""
    base: dict  # the PointRecord fields known before timing
    judged: list[tuple[Timed, PromptVerdict]]
    own: list[list[int]]  # the requests' own prompts
    pool: list[list[int]]  # request i (the warm-up counts first) asks pool[i % len(pool)]
    warmup: int
    seed: int
    judge: TimedJudge  # each timed request judged right after its timer
    memory: dict = field(default_factory=dict)  # PointRecord memory fields, the largest over the parts
    timed: list[Timed] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)  # the round of each timed request

    def prompt(self, i: int) -> list[int]:
        return self.pool[i % len(self.pool)]

    def request(self, target: Target, i: int) -> Timed:
        """Request i of the length, seeded first, outside the timer."""
        target.reseed(self.seed)
        return target.first_token(self.prompt(i))

    def measured(self, target: Target) -> None:
        """A part of the length's measurement ended: keep the largest of each memory field."""
        for key, value in target.end_point().items():
            if value is not None and (self.memory.get(key) is None or value > self.memory[key]):
                self.memory[key] = value


def failed(target: Target, exc: Exception, base: dict) -> PointRecord:
    """The point of a length whose measurement raised; the target gives back what the failure held."""
    traceback.print_exc()
    target.recover()
    return PointRecord(status="error", note=error_text(exc), **base)


def measure_length(job: Job, target: Target, refs: References, started: Started, n: int) -> OpenPoint | PointRecord:
    """A length before its rounds: every prompt judged, then the warm-up; an error point where that failed."""
    base = {"prompt_len": n, "mem_weights_gb": started.mem_weights_gb}
    prepared = started.prepared[n]
    if isinstance(prepared, str):
        return PointRecord(status="error", note=f"prepare failed: {prepared}", **base)
    base["jit_compile_ms"], base["graph_capture_ms"] = prepared
    cfg, prompts = job.config, [list(p) for p in job.prompts[n]]
    rule, comparable = rule_of(job), tokens_comparable(job, target)
    own, pool = request_pool(job, n, prompts)  # before any timing
    judge = TimedJudge(refs, n, rule, comparable)
    try:
        target.begin_point()
        judged = [judge_request(target, refs, prompt_key(n, k), ids, rule, comparable)
                  for k, ids in enumerate(prompts)]  # prompt 0's request is the cold one
        point = OpenPoint(base, judged, own, pool, cfg.measure.warmup, rule.seed, judge)
        for i in range(point.warmup):
            point.request(target, i)
        point.measured(target)
    except Exception as exc:
        return failed(target, exc, base)
    return point


def time_round(target: Target, point: OpenPoint, r: int, size: int) -> OpenPoint | PointRecord:
    """The length's next `size` timed requests, as round r; an error point where one failed. The other lengths
    ran since this one's last request: one untimed request first (the last warm-up prompt), so what a strategy
    keeps per length and may have let go meanwhile (a graph its LRU evicted) is back before the timer, as after
    the warm-up of a length measured whole."""
    first = point.warmup + len(point.timed)
    try:
        target.begin_point()
        if point.warmup:
            point.request(target, point.warmup - 1)
        point.timed += [point.judge.take(first + j, point.request(target, first + j)) for j in range(size)]
        point.measured(target)
    except Exception as exc:
        return failed(target, exc, point.base)
    point.rounds += [r] * size
    return point


def close_length(job: Job, target: Target, point: OpenPoint | PointRecord) -> PointRecord:
    """A length after its rounds: its judged prompts and timed requests tallied, then its record."""
    if isinstance(point, PointRecord):
        return point
    warmup = point.warmup
    try:
        checked = point.judge.result()
    except Exception as exc:
        return failed(target, exc, point.base)
    result = tally([v for _, v in point.judged], checked, rule_of(job).sampled)
    cold, count = point.judged[0][0], warmup + len(point.timed)
    repeats = [] if len(point.own) == count else [f"only {len(point.own)} prompts of their own exist at this "
                                                  f"length for {count} requests: requests repeat them"]
    note = "; ".join(x for x in [*result.notes, *repeats, *target.notes()] if x)
    return PointRecord(status="ok", note=note, cold_ttft_ms=cold.ns / 1e6, token=cold.token,
                       matches_baseline=result.matches_baseline, max_abs_logit_diff=result.max_abs_logit_diff,
                       prompts_judged=result.prompts_judged, prompts_agreed=result.prompts_agreed,
                       near_ties=result.near_ties, near_ties_limit=result.near_ties_limit,
                       timed_checked=result.timed_checked,
                       timed_mismatches=result.timed_mismatches, samples_ns=tuple(t.ns for t in point.timed),
                       sample_rounds=tuple(point.rounds),
                       server_samples_ns=tuple(t.server_ns for t in point.timed if t.server_ns is not None),
                       **point.memory, **point.base)


def probe_unseen(job: Job, target: Target, refs: References) -> dict:
    """TTFT of a first request at a length nobody prepared (what a new prompt length costs), judged
    by the sweep's rule. Returns StrategyRecord fields."""
    record: dict = {"unseen_len": job.unseen_len}
    try:
        timed, verdict = judge_request(target, refs, unseen_key(job.unseen_len), list(job.unseen_prompt),
                                       rule_of(job), tokens_comparable(job, target))
    except Exception as exc:
        traceback.print_exc()
        target.recover()
        return {**record, "unseen_note": error_text(exc)}
    record["unseen_ttft_ms"] = timed.ns / 1e6
    return {**record, **unseen_verdict(verdict)}


def unseen_verdict(verdict: PromptVerdict) -> dict:
    fields = {"unseen_matches_baseline": verdict.agreed if verdict.judged else None,
              "unseen_near_tie": verdict.near_tie if verdict.judged else None,
              "unseen_max_abs_logit_diff": verdict.max_abs_logit_diff}
    if verdict.note:
        fields["unseen_note"] = verdict.note
    return fields
