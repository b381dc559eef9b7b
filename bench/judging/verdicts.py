"""Does a strategy give the baseline's answer on a prompt? One prompt's verdict, and a point's tally.

The baseline writes the references (and checks that a second forward reproduces its first); every
other strategy's answer is judged on the logits its own call computed (the one the sweep times):
by logits and token where the target returns logits (bench.judging.correctness.compare), by token
alone where they stay in a server, decided on the baseline's values (bench.judging.token_rule).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bench.judging.correctness import compare, tolerance
from bench.judging.near_tie_bound import FALSE_FLAG, near_ties_limit, tie_chance
from bench.judging.references import References
from bench.judging.rule import JudgingRule
from bench.judging.timed_check import TimedCheck
from bench.judging.token_rule import judge_answer
from bench.judging.top_answer import top_answer
from bench.targets.base import Target, Timed


@dataclass(frozen=True)
class PromptVerdict:
    judged: bool  # False: nothing to compare with (no reference, or unseeded sampling)
    agreed: bool = False
    near_tie: bool = False
    max_abs_logit_diff: float | None = None
    note: str = ""
    tie_chance: float = 0.0  # the most often an honest strategy answers otherwise here (near_tie_bound)


def judge_request(target: Target, refs: References, key: str, ids: list[int], rule: JudgingRule,
                  tokens_comparable: bool) -> tuple[Timed, PromptVerdict]:
    """Ask the target for ids' first token (seeded), and judge that call's answer against the reference under
    `key` by the run's rule; the Timed comes back without its logits. tokens_comparable: False where the target
    samples with an RNG the sweep cannot seed."""
    target.reseed(rule.seed)
    timed = target.first_token(ids)
    verdict = prompt_verdict(target, refs, key, ids, rule, tokens_comparable, timed)
    return dataclasses.replace(timed, logits=None), verdict


def prompt_verdict(target: Target, refs: References, key: str, ids: list[int], rule: JudgingRule,
                   tokens_comparable: bool, timed: Timed) -> PromptVerdict:
    """judge_request's verdict on `timed`, the target's answer to ids."""
    if refs.writing:
        refs.put(key, timed.token, timed.logits)
        if timed.logits is None:  # the logits stay in the server: the baseline's token is the reference
            return PromptVerdict(judged=True, agreed=True)
        # the baseline checking its own determinism, the one place a prompt is asked twice: a second
        # forward must reproduce the first
        target.reseed(rule.seed)
        again = target.first_token(ids)
        return of(compare(again.logits, again.token, timed.logits, timed.token, rule.dtype, rule.sampled,
                          layers=rule.layers))
    reference = refs.get(key)
    if reference is None:
        return PromptVerdict(judged=False, note="no baseline reference: correctness not checked")
    if timed.logits is not None and reference.logits is not None:
        chance = 0.0 if rule.sampled else tie_chance(top_answer(reference.logits, reference.token),
                                                     tolerance(rule.dtype, reference.logits, rule.layers))
        return of(compare(timed.logits, timed.token, reference.logits, reference.token, rule.dtype, rule.sampled,
                          layers=rule.layers), chance)
    if not tokens_comparable:
        return PromptVerdict(judged=False, note="sampled tokens are not compared (the server's RNG is its own)")
    verdict = judge_answer(top_answer(reference.logits, reference.token), timed.token, timed.logits, rule)
    return PromptVerdict(judged=True, agreed=verdict.agreed, near_tie=verdict.near_tie, note=verdict.note,
                         tie_chance=verdict.tie_chance)


def of(verdict, tie_chance: float = 0.0) -> PromptVerdict:
    """A correctness Verdict as a prompt's verdict."""
    return PromptVerdict(judged=True, agreed=verdict.matches, near_tie=verdict.near_tie,
                         max_abs_logit_diff=verdict.max_abs_logit_diff, note=verdict.note, tie_chance=tie_chance)


@dataclass(frozen=True)
class Tally:
    """A point's prompts and timed requests, judged: the PointRecord's correctness fields."""
    prompts_judged: int
    prompts_agreed: int
    near_ties: int  # judged prompts and timed requests
    near_ties_limit: int | None  # the most an honest strategy shows here (near_tie_bound); None: not bounded
    timed_checked: int | None
    timed_mismatches: int | None
    max_abs_logit_diff: float | None
    matches_baseline: bool | None
    notes: tuple[str, ...]


def tally(verdicts: list[PromptVerdict], timed: TimedCheck, sampled: bool) -> Tally:
    """Every judged prompt must agree, every timed token must be the baseline's for that request, and
    (greedy) the near ties must not outnumber what the baseline's values allow an honest strategy."""
    judged = [v for v in verdicts if v.judged]
    diffs = [v.max_abs_logit_diff for v in judged if v.max_abs_logit_diff is not None]
    worst = None if not diffs else (float("nan") if any(d != d for d in diffs) else max(diffs))  # NaN stays
    if len({v.note for v in verdicts}) == 1:
        notes = [verdicts[0].note] if verdicts[0].note else []  # the same note on every prompt: once
    else:
        notes = [f"prompt {k}: {v.note}" for k, v in enumerate(verdicts) if v.note]
    notes += timed.notes
    matches = None if not judged else all(v.agreed for v in judged) and not timed.mismatches
    near_ties = sum(v.near_tie for v in judged) + timed.near_ties
    limit = None
    if matches is not None and timed.checked is not None and not sampled:  # the baseline is its own reference
        limit = near_ties_limit([v.tie_chance for v in judged] + list(timed.tie_chances))
        if near_ties > limit:
            matches = False
            notes.append(f"{near_ties} near ties where the baseline's values allow an honest strategy {limit} "
                         f"(exceeded at most once in {round(1 / FALSE_FLAG)} points): more than rounding explains")
    return Tally(len(judged), sum(v.agreed for v in judged), near_ties, limit, timed.checked,
                 None if timed.checked is None else timed.mismatches, worst, matches, tuple(notes))
