"""One answer judged against the baseline's answer to the same request, decided on the baseline's values.

    verdict = judge_token(refs, prompt_len, request_index, token, rule)   # a token alone (over a socket)
    verdict = judge_answer(answer, token, logits, rule)                  # with the logits its call computed

The token must be the baseline's; greedy, it may also be a near tie: among the baseline's TOP_K ids and
within the tolerance of the baseline's top logit, both the baseline's values. Where the timed call's own
logits came back (in-process), they must also give that token (its argmax) and agree with the baseline's
on the baseline's TOP_K ids within the tolerance; nothing else the strategy says about itself counts.
Sampled tokens (same seed) must be equal. Where the baseline's logits were not kept (a baseline run over
ipc keeps tokens alone), tokens must be equal.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.judging.correctness import near_top, not_its_argmax, tolerance_of_top
from bench.judging.near_tie_bound import tie_chance
from bench.judging.references import References
from bench.judging.rule import JudgingRule
from bench.judging.top_answer import TopAnswer


@dataclass(frozen=True)
class TokenVerdict:
    agreed: bool
    near_tie: bool = False  # greedy: another token than the baseline's, accepted on the baseline's values
    note: str = ""
    # the most often an honest strategy answers otherwise here (bench.judging.near_tie_bound): a point's or a
    # load level's near ties are bounded by near_ties_limit over these
    tie_chance: float = 0.0
    judged: bool = True  # False: the baseline has no answer for this request


def judge_token(refs: References, prompt_len: int, request_index: int, token: int, rule: JudgingRule) -> TokenVerdict:
    """A timed request's token without its logits (an answer over a socket), judged by the timed requests' rule
    against the baseline's stored answer for request `request_index` at `prompt_len` tokens."""
    answer = refs.timed_answer(prompt_len, request_index)
    if answer is None:
        return TokenVerdict(False, note=f"no baseline answer for request {request_index} at {prompt_len} tokens",
                            judged=False)
    return judge_answer(answer, token, None, rule)


def judge_answer(answer: TopAnswer, token: int, logits: torch.Tensor | None, rule: JudgingRule) -> TokenVerdict:
    """`token` and, where they came back, the [V] host logits of the same call, against the baseline's `answer`."""
    differs = f"token {token} != baseline's {answer.token}"
    own_problems = []  # what the call's own logits say against it
    if logits is not None and not rule.sampled and not near_top(logits, token, 0.0):
        own_problems.append(not_its_argmax(logits, token))
    tol = tolerance_of_top(rule.dtype, answer.max_abs, rule.layers) if answer.has_values else None
    k = len(answer.top_ids) if answer.has_values else 0
    if tol is not None and logits is not None:  # the values before any sampling: compared in both modes
        diff = float((logits[answer.top_ids.long()] - answer.top_values).abs().max())
        if not diff <= tol:  # also catches NaN
            own_problems.append(f"max |logit diff| on the baseline's {k} best ids {diff:.3g} > tolerance {tol:.3g}")
    if rule.sampled or tol is None:
        why = "sampled under the same seed" if rule.sampled else "the baseline's logits were not kept"
        problems = ([f"{differs} ({why})"] if token != answer.token else []) + own_problems
        return TokenVerdict(not problems, note="; ".join(problems))
    problems, below = [], None
    if token != answer.token:
        own = answer.logit_of(token)
        below = None if own is None else float(answer.top_values[0]) - own
        if below is None:
            problems.append(f"{differs} (not among the baseline's {k} best)")
        elif not below <= tol:
            problems.append(f"{differs} (the baseline's logit of it is {below:.3g} below its top; tolerance {tol:.3g})")
    problems += own_problems
    near_tie = not problems and token != answer.token
    note = "; ".join(problems)
    if near_tie:
        note = f"near tie: {differs}; the baseline's logit of it is {below:.3g} below its top (tolerance {tol:.3g})"
    return TokenVerdict(not problems, near_tie, note, tie_chance(answer, tol))
