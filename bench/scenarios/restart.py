"""The restart scenario: a strategy that compiled, started again in a new process with the first
one's compile caches; its ready time, and every prompt judged again. Nothing else is measured."""
from __future__ import annotations

import time

from bench.jobs.job import Job
from bench.judging.references import References, prompt_key
from bench.judging.rule import rule_of
from bench.judging.verdicts import judge_request
from bench.scenarios.sweep import Emit, tokens_comparable
from bench.targets.base import Target


def run_restart(job: Job, target: Target, emit: Emit) -> None:
    """A restart of a strategy that compiled: the target starts again (the runner gave this process the
    first one's compile caches), then every length's prompts are judged, so a cache that serves a wrong
    forward cannot pass. Untimed but for the ready time."""
    refs = References(job.run_folder, writing=False)
    started = target.start()
    emit({"event": "restart_ready", "time": time.time()})
    cfg, rule, comparable = job.config, rule_of(job), tokens_comparable(job, target)
    judged = agreed = 0
    notes = []
    emit({"event": "phase", "text": "judging every prompt again"})
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
    emit({"event": "strategy", "restart_prompts_judged": judged, "restart_prompts_agreed": agreed,
          **({"restart_note": "; ".join(notes)} if notes else {})})
