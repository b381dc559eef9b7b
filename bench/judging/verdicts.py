"""Does a strategy give the baseline's answer on a prompt? One prompt's verdict, and a point's tally.

The baseline writes the references (and checks that a second forward reproduces its first);
every other strategy is compared with them: by logits and token where the target returns logits
(bench.judging.correctness.compare), by token alone where they stay in a server.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.judging.correctness import compare
from bench.judging.references import References
from bench.judging.rule import JudgingRule
from bench.judging.timed_check import TimedCheck
from bench.targets.base import Target, Timed


@dataclass(frozen=True)
class PromptVerdict:
    judged: bool  # False: nothing to compare with (no reference, or unseeded sampling)
    agreed: bool = False
    near_tie: bool = False
    max_abs_logit_diff: float | None = None
    note: str = ""


def judge_request(target: Target, refs: References, key: str, ids: list[int], rule: JudgingRule,
                  tokens_comparable: bool) -> tuple[Timed, PromptVerdict]:
    """Ask the target for ids' first token (seeded), and judge it against the reference under `key`
    by the run's rule. tokens_comparable: False where the target samples with an RNG the sweep cannot seed."""
    target.reseed(rule.seed)
    timed = target.first_token(ids)
    logits = target.logits(ids)  # untimed
    if refs.writing:
        refs.put(key, timed.token, logits)
        if logits is None:  # the logits stay in the server: the baseline's token is the reference
            return timed, PromptVerdict(judged=True, agreed=True)
        # the baseline is its own reference: a second forward must reproduce the first
        return timed, of(compare(target.logits(ids), timed.token, logits, timed.token, rule.dtype, rule.sampled,
                                 layers=rule.layers))
    reference = refs.get(key)
    if reference is None:
        return timed, PromptVerdict(judged=False, note="no baseline reference: correctness not checked")
    if logits is not None and reference.logits is not None:
        return timed, of(compare(logits, timed.token, reference.logits, reference.token, rule.dtype,
                                    rule.sampled, layers=rule.layers))
    if not tokens_comparable:
        return timed, PromptVerdict(judged=False, note="sampled tokens are not compared (the server's RNG is "
                                                       "its own)")
    agreed = timed.token == reference.token
    return timed, PromptVerdict(judged=True, agreed=agreed,
                                note="" if agreed else f"token {timed.token} != baseline's {reference.token}")


def of(verdict) -> PromptVerdict:
    """A correctness Verdict as a prompt's verdict."""
    return PromptVerdict(judged=True, agreed=verdict.matches, near_tie=verdict.near_tie,
                         max_abs_logit_diff=verdict.max_abs_logit_diff, note=verdict.note)


@dataclass(frozen=True)
class Tally:
    """A point's prompts and timed requests, judged: the PointRecord's correctness fields."""
    prompts_judged: int
    prompts_agreed: int
    near_ties: int  # judged prompts and timed requests
    timed_checked: int | None
    timed_mismatches: int | None
    max_abs_logit_diff: float | None
    matches_baseline: bool | None
    notes: tuple[str, ...]


def tally(verdicts: list[PromptVerdict], timed: TimedCheck) -> Tally:
    """Every judged prompt must agree and every timed token must be the baseline's for that request."""
    judged = [v for v in verdicts if v.judged]
    diffs = [v.max_abs_logit_diff for v in judged if v.max_abs_logit_diff is not None]
    worst = None if not diffs else (float("nan") if any(d != d for d in diffs) else max(diffs))  # NaN stays
    if len({v.note for v in verdicts}) == 1:
        notes = [verdicts[0].note] if verdicts[0].note else []  # the same note on every prompt: once
    else:
        notes = [f"prompt {k}: {v.note}" for k, v in enumerate(verdicts) if v.note]
    notes += timed.notes
    matches = None if not judged else all(v.agreed for v in judged) and not timed.mismatches
    return Tally(len(judged), sum(v.agreed for v in judged), sum(v.near_tie for v in judged) + timed.near_ties,
                 timed.checked, None if timed.checked is None else timed.mismatches, worst, matches, tuple(notes))
