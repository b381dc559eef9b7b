"""Typed records of the load scenario: one request's row, one level, one (strategy, batching) run.
Built by the worker, sent to the runner as events, kept in run.json ("load") and load_samples.csv;
torch-free, so the report needs no torch."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

LEVEL_STATUSES = ("ok", "saturated", "not-run", "error")
RUN_STATUSES = ("running", "ok", "skipped", "error")


@dataclass(frozen=True)
class LoadRow:
    """One request of a level: when it was sent, what came back, and whether it was the baseline's token."""
    request: int  # its place in the level's plan (0 first)
    warmup: bool  # one of the level's first load.warmup requests: judged, not in the statistics
    prompt_len: int
    prompt_index: int  # the sweep's timed request at that length whose prompt it asks (its baseline token)
    sent_ns: int  # since the level started
    ttft_ns: int | None = None  # client clock, sent -> answer received; None: no answer came
    server_ttft_ns: int | None = None  # the server's time for the forward (a batch's, when batched)
    queue_ns: int | None = None  # waiting in the server's queue before its forward began
    batch_size: int | None = None  # requests in the forward that answered it (None: the server does not say)
    token: int | None = None  # None: an error answer, or none
    agreed: bool = False  # the token is the baseline's for that prompt


@dataclass(frozen=True)
class LoadLevelRecord:
    """One level of one (strategy, batching, mode): what was asked and sent, how it ended, its correctness."""
    mode: str  # "concurrency" (closed loop) or "rate" (open loop)
    level: float  # clients, or requests/s
    status: str  # see LEVEL_STATUSES: saturated = stopped by the backlog or time bound
    planned: int  # warm-up + timed requests the level asked for
    sent: int = 0
    answered: int = 0
    errors: int = 0  # answers with status error
    mismatches: int = 0  # answered tokens other than the baseline's
    near_ties: int = 0  # answered tokens other than the baseline's, accepted as tied with it at the top
    correct: bool | None = None  # every request sent was answered with the baseline's token; None: not run
    note: str = ""

    @property
    def saturated(self) -> bool:
        """Past capacity: stopped by its bound, or not run because a lower level was."""
        return self.status in ("saturated", "not-run")


@dataclass(frozen=True)
class LoadRunRecord:
    """A strategy under load with one batching setting: its server's start and counters, and how it ended."""
    status: str | None = None  # see RUN_STATUSES
    note: str | None = None
    imports_s: float | None = None
    ready_s: float | None = None  # process start until the generator server answered
    stats: dict | None = None  # the server's counters at the end

    def merged(self, fields: dict) -> "LoadRunRecord":
        """This record with `fields` set (events arrive one part at a time)."""
        return dataclasses.replace(self, **fields)

    def stored(self) -> dict:
        """Only the fields that were reported."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
