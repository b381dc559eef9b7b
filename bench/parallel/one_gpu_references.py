"""The references of a tensor-parallel run judged by the one-device baseline (model.tp_reference: one-gpu).

    write_one_gpu_references(job)   # in the baseline's worker, before its ranks start

The baseline runs once in this process on one device (the same seed draws the same weights as the
ranks' shards put together, bench.models.random_weights) and answers every prompt of the sweep, its
timed requests and the unseen-length probe, as a TP=1 baseline would write them; then it is freed
and the tensor-parallel baseline is judged against them like every other strategy.
"""
from __future__ import annotations

import gc

import torch

from bench.jobs.job import Job
from bench.jobs.requests import request_pool
from bench.judging.reference_check import reference_identity
from bench.judging.references import References, prompt_key, unseen_key
from bench.judging.rule import rule_of
from bench.judging.timed_check import TimedJudge
from bench.judging.verdicts import judge_request
from bench.targets.inprocess import InProcessTarget


def write_one_gpu_references(job: Job) -> None:
    """Every prompt's token and logits from the one-device baseline, saved as the run's reference.pt."""
    cfg = job.config
    rule = rule_of(job)
    refs = References(job.run_folder, writing=True)
    refs.stamp(reference_identity(job))
    target = InProcessTarget(job)  # the baseline's job: the whole model on job.device
    try:
        target.start()
        warmup, count = cfg.measure.warmup, cfg.measure.warmup + cfg.measure.repeats
        for n, prompts in job.prompts.items():
            prompts = [list(ids) for ids in prompts]
            for k, ids in enumerate(prompts):
                judge_request(target, refs, prompt_key(n, k), ids, rule, True)
            _, pool = request_pool(job, n, prompts)
            keeper = TimedJudge(refs, n, rule, True)
            for i in range(warmup, count):  # the timed requests' answers, against which every strategy's are judged
                target.reseed(rule.seed)
                keeper.take(i, target.first_token(pool[i % len(pool)]))
            keeper.result()
        judge_request(target, refs, unseen_key(job.unseen_len), list(job.unseen_prompt), rule, True)
        refs.save()
    finally:
        target.close()
        del target
        gc.collect()  # the whole model must be gone before the ranks take their GPUs
        if torch.device(job.device).type == "cuda":
            torch.cuda.empty_cache()
