"""How a run judges a strategy's answers, fixed once per job: the dtype and depth the logit tolerance
comes from, whether tokens are sampled (then no near tie) and the seed every judged request is given.

    rule = rule_of(job)
    judge_request(target, refs, key, ids, rule, tokens_comparable=True)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.jobs.job import Job
from bench.models.dtypes import TORCH_DTYPES


@dataclass(frozen=True)
class JudgingRule:
    dtype: torch.dtype
    layers: int  # the model's decoder layers: the tolerance grows with depth (bench.judging.correctness)
    sampled: bool  # temperature sampling: a token must equal the baseline's under the same seed
    seed: int


def rule_of(job: Job) -> JudgingRule:
    cfg = job.config
    return JudgingRule(TORCH_DTYPES[cfg.model.dtype], job.model.layers, cfg.sampling.mode == "temperature",
                       cfg.sampling.seed)
