"""The restart scenario: a strategy that compiled, started again in a new process with the first
one's compile caches; its ready time, and every prompt judged again. Nothing else is measured."""
from __future__ import annotations

import time

from bench.jobs.job import RESTART, Job
from bench.judging.references import References, prompt_key
from bench.judging.rule import rule_of
from bench.judging.verdicts import judge_request
from bench.reporting.records import StrategyRecord
from bench.scenarios.base import Scenario
from bench.scenarios.events import Emit, PhaseEvent, StrategyEvent
from bench.scenarios.sweep import tokens_comparable
from bench.targets.base import Target


class RestartScenario(Scenario):
    """The strategy started again on the compile caches its sweep left (the runner hands them over)."""
    name = RESTART

    def imported(self, seconds: float) -> StrategyEvent:
        return StrategyEvent(StrategyRecord(restart_imports_s=seconds))

    def skip(self, job: Job, reason: str, emit: Emit) -> None:
        emit(StrategyEvent(StrategyRecord(restart_note=f"the restart did not run: {reason}")))

    def run(self, job: Job, target: Target, emit: Emit, started: float) -> None:
        run_restart(job, target, emit, started)


def run_restart(job: Job, target: Target, emit: Emit, started_at: float | None = None) -> None:
    """A restart of a strategy that compiled: the target starts again (the runner gave this process the
    first one's compile caches), then every length's prompts are judged, so a cache that serves a wrong
    forward cannot pass. Untimed but for the ready time (from started_at, the process start; None: now)."""
    started_at = time.time() if started_at is None else started_at
    refs = References(job.run_folder, writing=False)
    started = target.start()
    emit(StrategyEvent(StrategyRecord(restart_ready_s=time.time() - started_at)))
    cfg, rule, comparable = job.config, rule_of(job), tokens_comparable(job, target)
    judged = agreed = 0
    notes = []
    emit(PhaseEvent("judging every prompt again"))
    for n in cfg.prompts.lengths:
        if isinstance(started.prepared[n], str):  # its prompts count as judged and not agreed
            notes.append(f"length {n}: prepare failed: {started.prepared[n]}")
            judged += len(job.prompts[n])
            continue
        for k, ids in enumerate(job.prompts[n]):
            _, verdict = judge_request(target, refs, prompt_key(n, k), list(ids), rule, comparable)
            judged, agreed = judged + verdict.judged, agreed + (verdict.judged and verdict.agreed)
            if verdict.judged and not verdict.agreed:
                notes.append(f"length {n}, prompt {k}: {verdict.note}")
    emit(StrategyEvent(StrategyRecord(restart_prompts_judged=judged, restart_prompts_agreed=agreed,
                                      restart_note="; ".join(notes) or None)))
