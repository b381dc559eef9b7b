"""Does a strategy compute the baseline's first token? Compared on fp32 logits of the same prompt."""
from __future__ import annotations

from dataclasses import dataclass

import torch

# max |logit difference| allowed, as a multiple of the dtype's machine epsilon times the largest
# |baseline logit|, for a model of up to CALIBRATED_LAYERS decoder layers. Measured on an H100 (Llama-2-7B
# shape, 32 layers, norm weights 1 + N(0, 0.2)): sdpa against eager attention differs by up to 11.1 eps x
# max in bf16 and 10.7 in fp16 at 400 tokens (11.7 and 12.3 at 2048), 137 in fp32 at 400 tokens (202 at
# 2048). With the weights of bench/models/random_weights.py (every norm weight and bias drawn), inductor
# against the eager forward reached 19.3 eps x max in fp16 (torch-compile, jit-only and jit+cuda alike, at
# 200 tokens; 2026-11-27, results/h100-llama2-7b). On a CPU (tiny Llama and Qwen2) the same reorderings
# stay under 1.4 (bf16, fp16) and 4.8 (fp32). Each limit is ~1.5-2x the largest valid reordering: fp16
# 3.1% of the top logit, bf16 12.5%, fp32 0.005%. A skipped final norm weight is 20-26 bf16 eps x max
# (16-20% of the top logit, 200 fp16 eps) on the H100 (27 on the tests' tiny Qwen2): a bf16 limit 2x
# looser would let it by
TOLERANCE_EPS = {torch.float32: 384, torch.bfloat16: 16, torch.float16: 32}
# the depth TOLERANCE_EPS was measured at (Llama-2-7B, Mistral-7B: 32 decoder layers). Deeper models get
# a limit in proportion: each layer adds its own rounding to the residual stream, and where those add in
# the same direction the difference grows linearly with depth. Measured growth is slower (fp16, inductor
# against eager, results/depth-l16 and -l80: 4096 wide, 16 / 32 / 80 layers: 9.9 / 19.3 / 26.2 eps x
# max), so the linear limit keeps at least the 32-layer margin at any depth. The Llama-2-70B shape at TP=4
# (80 layers, 8192 wide, fp16 partial sums all-reduced) reached up to 57 against its (capped) limit of 64;
# cuda-graph, the same eager kernels replayed, 23. Shallower models keep the unscaled limit: the bugs it must
# catch (a skipped norm weight, a dropped bias) do not shrink with depth
CALIBRATED_LAYERS = 32
# ...and never beyond this fraction of the largest |baseline logit|: the smallest realistic bugs measured
# are a dropped q/k/v bias or a wrong position, from 100 fp16 eps x max (9.8% of it; 80-90% on the tests'
# tiny Qwen2), and a skipped final norm weight, 16-21%. A deeper limit stops 1.5x below the smallest: at
# 6.25%, float16's 64 eps (64 layers). bfloat16's unscaled limit (16 eps, 12.5%) already lies above it
# and does not grow: a deep bf16 model whose valid reorderings exceed it shows ✗ with its tokens agreeing,
# rather than a limit that lets a bug by
DEPTH_CAP_FRACTION = 0.0625


def tolerance(dtype: torch.dtype, reference: torch.Tensor, layers: int) -> float:
    """The largest |logit difference| a valid reordering in `dtype` may produce against `reference`,
    for a model of `layers` decoder layers."""
    return tolerance_of_top(dtype, float(reference.abs().max()), layers)


def tolerance_of_top(dtype: torch.dtype, top: float, layers: int) -> float:
    """tolerance() of a reference whose largest |logit| is `top` (what a reference reduced to its top-k keeps)."""
    unscaled = TOLERANCE_EPS[dtype] * torch.finfo(dtype).eps * top
    deeper = min(unscaled * layers / CALIBRATED_LAYERS, DEPTH_CAP_FRACTION * top)
    return max(unscaled, deeper)


@dataclass(frozen=True)
class Verdict:
    matches: bool
    max_abs_logit_diff: float
    near_tie: bool  # greedy: a token other than the baseline's, accepted as tied with it at the top
    note: str


def near_top(logits: torch.Tensor, token: int, tol: float) -> bool:
    """Is token's logit within tol of the largest? (NaN: no.) Random weights' flat distributions put
    two or three tokens within a float16 rounding of the top, so a tie is not only of the top two.
    A token id outside the vocabulary (negative ones too: they would index from the end) is no tie."""
    if not 0 <= token < logits.numel():
        return False
    return bool(logits.max() - logits[token] <= tol)


def compare(logits: torch.Tensor, token: int, reference: torch.Tensor, reference_token: int,
            dtype: torch.dtype, sampled: bool = False, *, layers: int) -> Verdict:
    """logits/reference: [V] fp32 on the host; token/reference_token: what each returned; layers: the
    model's decoder layers (the tolerance grows with depth).
    The token must equal the baseline's; greedy (sampled=False) also accepts a near tie, with a note:
    the strategy's own argmax, within tol of the top of the baseline's logits (rounding could have
    made it the baseline's argmax); sampled (same seed) accepts no other. Greedy, the token must be
    the argmax of `logits` (the call's own output), whatever the baseline's."""
    tol = tolerance(dtype, reference, layers)
    diff = float((logits - reference).abs().max())
    problems = []
    tied = not sampled and near_top(reference, token, tol)  # within tol of the baseline's top
    if token != reference_token and not tied:
        problems.append(f"returned token {token} != baseline's {reference_token}")
    if not sampled and not near_top(logits, token, 0.0):
        problems.append(not_its_argmax(logits, token))
    if not diff <= tol:  # also catches NaN
        problems.append(f"max |logit diff| {diff:.3g} > tolerance {tol:.3g}")
    near_tie = not problems and token != reference_token
    note = "; ".join(problems)
    if near_tie:
        gap = float(reference[reference_token] - reference[token])
        note = (f"near tie: returned token {token}, baseline's {reference_token}; the baseline's "
                f"logits of the two differ by {gap:.3g} <= tolerance {tol:.3g}")
    return Verdict(not problems, diff, near_tie, note)


def not_its_argmax(logits: torch.Tensor, token: int) -> str:
    """What to say of a greedy token that is not the top of the logits its own call computed: the token
    and the logits were computed apart (another, cheaper path), or the token was changed."""
    if not 0 <= token < logits.numel():
        return f"returned token {token} is outside the vocabulary of its logits ({logits.numel()})"
    return (f"returned token {token} is not the argmax of the logits its call computed "
            f"({int(logits.argmax())}; {float(logits.max() - logits[token]):.3g} above it)")
