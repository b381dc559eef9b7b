"""The sweep: one strategy through one target, every length, then the unseen-length probe.

Per length: the cold request (prompt 0), every prompt judged against the baseline's reference,
warm-up, then timed requests that rotate through the prompts (request i asks prompt i % K, so no
cache of one input can help) and must each return the token judged for their prompt. Every
request is seeded with sampling.seed first, outside the timer, so sampling is reproducible.
"""
from __future__ import annotations

import time
import traceback
from typing import Callable

from bench.measuring.clocks import timed_loop
from bench.models.dtypes import TORCH_DTYPES
from bench.reporting.records import PointRecord
from bench.running.job import Job
from bench.running.judging import PromptVerdict, judge_request, tally
from bench.running.loading import error_text
from bench.running.references import References, prompt_key, unseen_key
from bench.running.targets import Started, Target

Emit = Callable[[dict], None]
MISMATCHES_NAMED = 3  # a broken strategy mismatches on most requests; the first few name the problem


def run_sweep(job: Job, target: Target, emit: Emit) -> None:
    """Start the target, measure every length and the unseen-length probe, emitting events as they come."""
    refs = References(job.run_folder, writing=job.writes_references)
    started = target.start()
    emit({"event": "ready", "time": time.time()})
    emit({"event": "strategy", "status": "ok", **started.facts})
    for n in job.config.prompts.lengths:
        point = measure_length(job, target, refs, started, n)
        refs.save()
        emit({"event": "point", **point.to_dict()})
    emit({"event": "strategy", **probe_unseen(job, target, refs)})
    refs.save()
    emit({"event": "stats", "stats": target.stats()})


def tokens_comparable(job: Job, target: Target) -> bool:
    return target.seeded or job.config.sampling.mode == "greedy"


def measure_length(job: Job, target: Target, refs: References, started: Started, n: int) -> PointRecord:
    """One point: judge every prompt, then time requests rotating through them."""
    base = {"prompt_len": n, "mem_weights_gb": started.mem_weights_gb}
    prepared = started.prepared[n]
    if isinstance(prepared, str):
        return PointRecord(status="error", note=f"prepare failed: {prepared}", **base)
    base["jit_compile_ms"], base["graph_capture_ms"] = prepared
    cfg, prompts = job.config, [list(p) for p in job.prompts[n]]
    seed, dtype, comparable = cfg.sampling.seed, TORCH_DTYPES[cfg.model.dtype], tokens_comparable(job, target)
    try:
        target.begin_point()
        judged = [judge_request(target, refs, prompt_key(n, k), ids, seed, dtype, comparable)
                  for k, ids in enumerate(prompts)]  # prompt 0's request is the cold one

        def request(i: int):
            target.reseed(seed)
            return target.first_token(prompts[i % len(prompts)])

        timed = timed_loop(request, cfg.measure.warmup, cfg.measure.repeats)
        memory = target.end_point()
    except Exception as exc:
        traceback.print_exc()
        target.recover()
        return PointRecord(status="error", note=error_text(exc), **base)
    expected = [t.token for t, _ in judged] if comparable else None
    result = tally([v for _, v in judged], token_mismatches(timed, expected, cfg.measure.warmup))
    cold = judged[0][0]
    note = "; ".join(x for x in [*result.notes, *target.notes()] if x)
    return PointRecord(status="ok", note=note, cold_ttft_ms=cold.ns / 1e6, token=cold.token,
                       matches_baseline=result.matches_baseline, max_abs_logit_diff=result.max_abs_logit_diff,
                       prompts_judged=result.prompts_judged, prompts_agreed=result.prompts_agreed,
                       near_ties=result.near_ties, samples_ns=tuple(t.ns for t in timed),
                       server_samples_ns=tuple(t.server_ns for t in timed if t.server_ns is not None),
                       **memory, **base)


def token_mismatches(timed, expected: list[int] | None, first_index: int) -> list[str]:
    """Timed requests whose token is not the one judged for their prompt (request numbers count the
    warm-up, as the rotation does)."""
    if expected is None:
        return []
    bad = [(first_index + j, (first_index + j) % len(expected), t.token) for j, t in enumerate(timed)
           if t.token != expected[(first_index + j) % len(expected)]]
    named = [f"timed request {i} (prompt {k}): token {token} != {expected[k]} judged for that prompt"
             for i, k, token in bad[:MISMATCHES_NAMED]]
    if len(bad) > MISMATCHES_NAMED:
        named.append(f"{len(bad) - MISMATCHES_NAMED} more timed requests with a token other than the judged one")
    return named


def probe_unseen(job: Job, target: Target, refs: References) -> dict:
    """TTFT of a first request at a length nobody prepared (what a new prompt length costs), judged
    by the sweep's rule. Returns StrategyRecord fields."""
    cfg = job.config
    record: dict = {"unseen_len": job.unseen_len}
    try:
        timed, verdict = judge_request(target, refs, unseen_key(job.unseen_len), list(job.unseen_prompt),
                                       cfg.sampling.seed, TORCH_DTYPES[cfg.model.dtype], tokens_comparable(job, target))
    except Exception as exc:
        traceback.print_exc()
        target.recover()
        return {**record, "unseen_note": error_text(exc)}
    record["unseen_ttft_ms"] = timed.ns / 1e6
    return {**record, **unseen_verdict(verdict)}


def unseen_verdict(verdict: PromptVerdict) -> dict:
    fields = {"unseen_matches_baseline": verdict.agreed if verdict.judged else None,
              "unseen_near_tie": verdict.near_tie if verdict.judged else None}
    if verdict.note:
        fields["unseen_note"] = verdict.note
    return fields
