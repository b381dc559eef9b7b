"""Every timed request judged against the baseline's answer to the same request, as it comes.

Each warm-up and timed request asks a prompt of its own (bench.models.prompts), so no cache keyed
on the input can answer it, and the baseline's answers to the timed requests are their only
references: the baseline keeps each one's token, TOP_K best logits and largest |logit|
(bench.judging.top_answer, stored by references.py); every other strategy's answer is judged on those
values by bench.judging.token_rule, together with the logits its timed call computed where they came
back (in-process, tensor parallel), or its token alone (ipc). Each request is reduced to its verdict
(the baseline's: to its TopAnswer) right after its timer stops, so a point holds no [V] logits. On an
H200 host (torch 2.11) that costs, outside the timer, one host copy a request (44-95 us at a vocabulary
of 32000-152064, bench.measuring.logits), then 33-61 us for another strategy's verdict or 159-695 us
for the baseline's top-k: at 152064, ~0.4 s over a 9-length sweep of 300 requests, ~2.2 s for the baseline.

    judge = TimedJudge(refs, prompt_len, rule, comparable)
    for each timed request i (counting the warm-up):  timed = judge.take(i, target.first_token(ids))
    check = judge.result()
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bench.judging.references import References
from bench.judging.rule import JudgingRule
from bench.judging.token_rule import TokenVerdict, judge_answer
from bench.judging.top_answer import TopAnswer, top_answer
from bench.targets.base import Timed

NAMED = 3  # a broken strategy mismatches on most requests; the first few name the problem


@dataclass(frozen=True)
class TimedCheck:
    """A point's timed requests, checked: the PointRecord's timed fields and notes."""
    checked: int | None  # requests compared with the baseline's; None: this is the baseline
    near_ties: int
    mismatches: int
    notes: tuple[str, ...]
    tie_chances: tuple[float, ...] = ()  # per compared request (bench.judging.near_tie_bound)


class TimedJudge:
    """A point's timed requests, judged one at a time after each one's timer; the baseline keeps its answers."""

    def __init__(self, refs: References, prompt_len: int, rule: JudgingRule, comparable: bool):
        """comparable: False where the target samples with an RNG the sweep cannot seed (tokens not compared)."""
        self.refs, self.prompt_len, self.rule = refs, prompt_len, rule
        self.expected = None if refs.writing or not comparable else refs.timed_answers(prompt_len)
        self.kept: list[tuple[int, TopAnswer]] = []  # the baseline's answers
        self.verdicts: list[tuple[int, TokenVerdict]] = []

    def take(self, index: int, timed: Timed) -> Timed:
        """Judge request `index` (counting the warm-up), or keep it where this is the baseline; the Timed
        without its logits, so none outlive this call."""
        if self.refs.writing:
            self.kept.append((index, top_answer(timed.logits, timed.token)))
        elif self.expected is not None and index in self.expected:
            self.verdicts.append((index, judge_answer(self.expected[index], timed.token, timed.logits, self.rule)))
        return dataclasses.replace(timed, logits=None)

    def result(self) -> TimedCheck:
        """The point's timed fields; the baseline's answers go to the references (save() writes them)."""
        if self.refs.writing:
            first = self.kept[0][0] if self.kept else 0
            if [i for i, _ in self.kept] != list(range(first, first + len(self.kept))):
                raise ValueError("the baseline's timed requests must be taken in order, one per index")
            self.refs.put_timed(self.prompt_len, first, [answer for _, answer in self.kept])
            return TimedCheck(None, 0, 0, ())
        ties = [f"timed request {i}: {v.note}" for i, v in self.verdicts if v.near_tie]
        mismatches = [f"timed request {i}: {v.note}" for i, v in self.verdicts if not v.agreed]
        notes = named(mismatches, "timed requests that disagree with the baseline's")
        notes += named(ties, "timed requests accepted as near ties")
        return TimedCheck(len(self.verdicts), len(ties), len(mismatches), tuple(notes),
                          tuple(v.tie_chance for _, v in self.verdicts))


def named(lines: list[str], what: str) -> list[str]:
    """The first NAMED lines, then how many more."""
    more = [f"{len(lines) - NAMED} more {what}"] if len(lines) > NAMED else []
    return lines[:NAMED] + more

