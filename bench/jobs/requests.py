"""Which prompt each warm-up and timed request of a length asks: one of its own where the vocabulary
allows, fixed by the job before any timing starts."""
from __future__ import annotations

import dataclasses

from bench.jobs.job import Job
from bench.models.prompts import request_prompts


def request_pool(job: Job, n: int, prompts: list[list[int]]) -> tuple[list[list[int]], list[list[int]]]:
    """(the requests' own prompts, the pool request i draws from as pool[i % len(pool)]) at length n."""
    count = job.config.measure.warmup + job.config.measure.repeats
    own = request_prompts(n, count, prompts, **dataclasses.asdict(job.prompt_source))
    return own, own or prompts  # none left only where the judged prompts are all there are (a tiny vocabulary)
