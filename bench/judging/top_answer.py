"""The baseline's answer to one request, reduced to the few numbers that judge another strategy's answer
to it: the token, the TOP_K largest logits with their ids, and the largest |logit| (the tolerance scales
with it). A timed request keeps only this (bench.judging.references stores it per request), so a
point's memory stays flat however many requests it times and reference.pt stays small.

    answer = top_answer(logits, token)       # logits: [V] fp32 on the host
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

# The ids a near tie may return and the values another strategy's logits are compared on. A token can
# only be a near tie where the baseline's logit of it lies within the tolerance of its top, so TOP_K must
# hold that band: measured on random Llamas (bench.models.random_weights, 100-token prompts, 40 each,
# the 32-layer tolerance) the band holds 1 token in float32, 1.5-1.9 on average (at most 8) in float16
# and 6.6-10.4 on average in bfloat16 (at most 25 at a 32000 vocabulary, 37 at 152064), where it outgrew
# 16 tokens on 3-6 prompts of 40 and 32 on one. A band that fills all TOP_K is marked full: a token
# beyond them is no near tie. 32 ids and values are 256 bytes a request
TOP_K = 32


@dataclass(frozen=True)
class TopAnswer:
    """One request's baseline answer; ids, values and max_abs are None where its logits stayed in a server."""
    token: int
    top_ids: torch.Tensor | None = None  # [k] int, best first
    top_values: torch.Tensor | None = None  # [k] fp32: the baseline's logits of top_ids
    max_abs: float | None = None  # the largest |logit| over the whole vocabulary

    @property
    def has_values(self) -> bool:
        return self.top_ids is not None

    def logit_of(self, token: int) -> float | None:
        """The baseline's logit of `token` where it is among the kept ids; else None."""
        hits = (self.top_ids == token).nonzero()
        return float(self.top_values[hits[0, 0]]) if len(hits) else None

    def band(self, tol: float) -> int:
        """How many kept ids lie within tol of the top, the top included: the tokens a near tie may return."""
        return int((self.top_values[0] - self.top_values <= tol).sum())


def top_answer(logits: torch.Tensor | None, token: int) -> TopAnswer:
    """The answer `token` with its [V] host logits (or None) reduced to the TOP_K best and the largest |logit|."""
    if logits is None:
        return TopAnswer(token)
    values, ids = logits.topk(min(TOP_K, logits.numel()))
    return TopAnswer(token, ids.to(torch.int32), values.float(), float(logits.abs().max()))
