"""Does a strategy compute the baseline's first token? Compared on fp32 logits of the same prompt."""
from __future__ import annotations

from dataclasses import dataclass

import torch

# max |logit difference| allowed, as a multiple of the dtype's machine epsilon times the
# largest |baseline logit|. Measured on the H100 (Llama-2-7B shape, fp16, 32 layers): valid
# reorderings (a graph's explicit mask, inductor's fusions) differ by up to ~10.5 eps x max;
# 32 eps (3% of the largest logit in fp16) leaves room for that and none for a wrong
# computation (wrong position, wrong mask), which is off by O(max logit)
TOLERANCE_EPS = 32


def tolerance(dtype: torch.dtype, reference: torch.Tensor) -> float:
    return TOLERANCE_EPS * torch.finfo(dtype).eps * float(reference.abs().max())


@dataclass(frozen=True)
class Verdict:
    matches: bool
    max_abs_logit_diff: float
    note: str


def token_acceptable(token: int, reference: torch.Tensor, tol: float) -> bool:
    """The baseline's token, or one the baseline scores within tol of its best (a near-tie)."""
    return int(reference.argmax()) == token or float(reference[token]) >= float(reference.max()) - tol


def compare(logits: torch.Tensor, token: int, reference: torch.Tensor, reference_token: int,
            dtype: torch.dtype) -> Verdict:
    """logits/reference: [V] fp32 on the host; token/reference_token: what each returned."""
    tol = tolerance(dtype, reference)
    diff = float((logits - reference).abs().max())
    problems = []
    greedy = int(logits.argmax())
    if not token_acceptable(greedy, reference, tol):
        problems.append(f"argmax token {greedy} != baseline {int(reference.argmax())}")
    if token != reference_token and not token_acceptable(token, reference, tol):
        problems.append(f"returned token {token} != baseline's {reference_token}")
    if not diff <= tol:  # also catches NaN
        problems.append(f"max |logit diff| {diff:.3g} > tolerance {tol:.3g}")
    if not problems and greedy != int(reference.argmax()):
        problems.append("near-tie: argmax differs within tolerance")
        return Verdict(True, diff, "; ".join(problems))
    return Verdict(not problems, diff, "; ".join(problems))
