"""Does a strategy compute the baseline's first token? Compared on fp32 logits of the same prompt."""
from __future__ import annotations

from dataclasses import dataclass

import torch

# max |logit difference| allowed, as a multiple of the dtype's machine epsilon times the largest
# |baseline logit|. Measured on an H100 (Llama-2-7B shape, 32 layers, norm weights 1 + N(0, 0.2)):
# sdpa against eager attention differs by up to 11.1 eps x max in bf16 and 10.7 in fp16 at 400
# tokens (11.7 and 12.3 at 2048; graphs and inductor's fusions measured 10.5 in fp16), 137 in
# fp32 at 400 tokens (202 at 2048). On a CPU (tiny Llama and Qwen2) the same reorderings stay
# under 1.4 (bf16, fp16) and 4.8 (fp32). Each limit is ~1.5-2x the largest valid reordering:
# fp16 1.6% of the top logit, bf16 12.5%, fp32 0.005%. A skipped final norm weight is 20-26
# eps x max in bf16 on the H100 (27 on the tests' tiny Qwen2): a limit 2x looser lets it by
TOLERANCE_EPS = {torch.float32: 384, torch.bfloat16: 16, torch.float16: 16}


def tolerance(dtype: torch.dtype, reference: torch.Tensor) -> float:
    """The largest |logit difference| a valid reordering in `dtype` may produce against `reference`."""
    return TOLERANCE_EPS[dtype] * torch.finfo(dtype).eps * float(reference.abs().max())


@dataclass(frozen=True)
class Verdict:
    matches: bool
    max_abs_logit_diff: float
    near_tie: bool  # greedy: a token other than the baseline's, accepted as a tie of its top two
    note: str


def tied_tokens(reference: torch.Tensor, tol: float) -> tuple[int, ...]:
    """The baseline's top two tokens when their logits are within tol of each other, else ()."""
    top = reference.topk(2)
    if float(top.values[0] - top.values[1]) <= tol:
        return int(top.indices[0]), int(top.indices[1])
    return ()


def compare(logits: torch.Tensor, token: int, reference: torch.Tensor, reference_token: int,
            dtype: torch.dtype, sampled: bool = False) -> Verdict:
    """logits/reference: [V] fp32 on the host; token/reference_token: what each returned.
    The token must equal the baseline's; greedy (sampled=False) also accepts the other of a near
    tie of the baseline's top two logits, with a note; sampled (same seed) accepts no other."""
    tol = tolerance(dtype, reference)
    diff = float((logits - reference).abs().max())
    problems = []
    tied = () if sampled else tied_tokens(reference, tol)
    if token != reference_token and not (token in tied and reference_token in tied):
        problems.append(f"returned token {token} != baseline's {reference_token}")
    if not diff <= tol:  # also catches NaN
        problems.append(f"max |logit diff| {diff:.3g} > tolerance {tol:.3g}")
    near_tie = not problems and token != reference_token
    note = "; ".join(problems)
    if near_tie:
        gap = float(reference[reference_token] - reference[token])
        note = (f"near tie: returned token {token}, baseline's {reference_token}; the baseline's "
                f"top two logits differ by {gap:.3g} <= tolerance {tol:.3g}")
    return Verdict(not problems, diff, near_tie, note)
