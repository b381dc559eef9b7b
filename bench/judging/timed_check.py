"""Every timed request's token, checked against the baseline's token for the same request.

Each warm-up and timed request asks a prompt of its own (bench.models.prompts), so no cache keyed
on the input can answer it, and the baseline's timed tokens are its only references: the baseline
stores them (references.py), every other strategy must return the same token for the same request.
After the timed loop (untimed), each greedy mismatch is looked at once more: where the token is the
argmax of the strategy's own logits on that prompt and the baseline's token lies within the
correctness tolerance of that top, it is a near tie (counted and noted); otherwise a mismatch
(named). Sampled tokens (same seed) must be equal: no near tie. Where the logits stay elsewhere
(ipc), every difference counts.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.judging.correctness import near_top, tolerance
from bench.judging.references import References, timed_key
from bench.judging.rule import JudgingRule
from bench.targets.base import Target

NAMED = 3  # a broken strategy mismatches on most requests; the first few name the problem


@dataclass(frozen=True)
class TimedCheck:
    """A point's timed requests, checked: the PointRecord's timed fields and notes."""
    checked: int | None  # requests compared with the baseline's; None: this is the baseline
    near_ties: int
    mismatches: int
    notes: tuple[str, ...]


def check_timed(target: Target, refs: References, prompt_len: int, prompts: list[list[int]], tokens: list[int],
                first_index: int, rule: JudgingRule) -> TimedCheck:
    """prompts[j] and tokens[j]: the j-th timed request's prompt and token (request first_index + j,
    counting the warm-up), judged by the run's rule. The baseline keeps its tokens as the references
    instead."""
    key = timed_key(prompt_len)
    if refs.writing:
        refs.put_tokens(key, first_index, tokens)
        return TimedCheck(None, 0, 0, ())
    expected = refs.get_tokens(key)
    if expected is None or (rule.sampled and not target.seeded):
        return TimedCheck(0, 0, 0, ())  # no baseline, or an RNG of its own: the judged prompts' notes say so
    compared = [(j, expected[first_index + j]) for j in range(len(tokens)) if first_index + j in expected]
    ties, mismatches = [], []
    for j, reference in compared:
        if tokens[j] != reference:
            tie, text = recheck(target, prompts[j], tokens[j], reference, rule)
            (ties if tie else mismatches).append(f"timed request {first_index + j}: {text}")
    notes = named(mismatches, "timed requests with a token other than the baseline's")
    notes += named(ties, "timed requests accepted as near ties")
    return TimedCheck(len(compared), len(ties), len(mismatches), tuple(notes))


def recheck(target: Target, ids: list[int], token: int, expected: int, rule: JudgingRule) -> tuple[bool, str]:
    """(a near tie?, what to say) for a request whose token is not the baseline's `expected`."""
    differs = f"token {token} != baseline's {expected}"
    if rule.sampled:
        return False, f"{differs} (sampled under the same seed)"
    logits = target.logits(ids)  # [V] fp32 on the host, or None
    if logits is None:
        return False, f"{differs} (logits are not available over {target.transport}: a near tie cannot be told)"
    tol = tolerance(rule.dtype, logits, rule.layers)
    below = {t: float(logits.max() - logits[t]) for t in (token, expected)}
    # its own argmax on that prompt (no slack: a token served by another path would differ), with the
    # baseline's token within tol of it; NaN logits fail the comparison
    if near_top(logits, token, 0.0) and near_top(logits, expected, tol):
        return True, (f"near tie: {differs}; both within {max(below.values()):.3g} of its top logit "
                      f"(tolerance {tol:.3g})")
    return False, (f"{differs} (below its top logit by {below[token]:.3g} and {below[expected]:.3g}; "
                   f"tolerance {tol:.3g})")


def named(lines: list[str], what: str) -> list[str]:
    """The first NAMED lines, then how many more."""
    more = [f"{len(lines) - NAMED} more {what}"] if len(lines) > NAMED else []
    return lines[:NAMED] + more


@dataclass(frozen=True)
class TokenVerdict:
    """One token judged without its logits (a server's answer under load)."""
    agreed: bool
    near_tie: bool  # accepted as tied at the top with the baseline's token (never, without logits, here)
    note: str


def judge_token(refs: References, prompt_len: int, request_index: int, token: int, rule: JudgingRule) -> TokenVerdict:
    """The token a strategy answered for the prompt of timed request `request_index` at `prompt_len`, against
    the baseline's token for that request. Without the strategy's logits no near tie can be told (as over
    ipc in the sweep): the tokens must be equal. `rule` is the run's, for a judge that can tell more."""
    expected = refs.get_tokens(timed_key(prompt_len)) or {}
    if request_index not in expected:
        return TokenVerdict(False, False, f"no baseline token for timed request {request_index} at length {prompt_len}")
    if token != expected[request_index]:
        return TokenVerdict(False, False, f"length {prompt_len}, timed request {request_index}: token {token} != "
                                          f"baseline's {expected[request_index]}")
    return TokenVerdict(True, False, "")
