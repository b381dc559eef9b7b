"""Typed records of a run: one measured point, one strategy. Built by the worker, sent to the runner
as JSON, kept in run.json and read back by the summary; torch-free, so the report needs no torch.

The keys written to run.json are the dataclass fields; `from_dict` ignores none of them and
fills what an older format version did not write (see upgrade_point).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

NEAR_TIE_MARK = "near-tie"  # how the correctness check names a near tie in its notes (format 1 and 2)
SAMPLE_FIELDS = ("samples_ns", "sample_rounds", "server_samples_ns")  # a point's fields kept in samples.csv


@dataclass(frozen=True)
class PointRecord:
    """One strategy at one prompt length. samples_ns go to samples.csv, the rest to run.json."""
    prompt_len: int
    status: str  # "ok", "error" or "skipped"
    note: str = ""
    mem_weights_gb: float | None = None
    jit_compile_ms: float | None = None
    graph_capture_ms: float | None = None
    cold_ttft_ms: float | None = None
    mem_peak_gb: float | None = None
    mem_reserved_gb: float | None = None
    mem_graphs_gb: float | None = None
    token: int | None = None  # the cold request's token (prompt 0)
    matches_baseline: bool | None = None  # None: nothing to compare with
    max_abs_logit_diff: float | None = None  # worst over the judged prompts; None: logits not compared
    prompts_judged: int | None = None
    prompts_agreed: int | None = None
    near_ties: int | None = None  # judged prompts and (format 4 on) timed requests accepted as near ties
    # the most near ties an honest strategy shows here, from the baseline's values (format 6 on); more fail the point
    near_ties_limit: int | None = None
    timed_checked: int | None = None  # timed requests whose token was compared with the baseline's (format 4 on)
    timed_mismatches: int | None = None  # of those, tokens other than the baseline's and no near tie
    samples_ns: tuple[int, ...] = field(default=(), repr=False)
    sample_rounds: tuple[int, ...] = field(default=(), repr=False)  # the round of each sample (format 7 on)
    server_samples_ns: tuple[int, ...] = field(default=(), repr=False)  # transport: ipc only

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "samples_ns": list(self.samples_ns),
                "sample_rounds": list(self.sample_rounds), "server_samples_ns": list(self.server_samples_ns)}

    def stored(self) -> dict:
        """The run.json record: everything but the samples."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in SAMPLE_FIELDS}

    @classmethod
    def from_dict(cls, data: dict) -> "PointRecord":
        data = dict(data)
        data["samples_ns"] = tuple(data.get("samples_ns") or ())
        data["sample_rounds"] = tuple(data.get("sample_rounds") or ())
        data["server_samples_ns"] = tuple(data.get("server_samples_ns") or ())
        return cls(**{k: v for k, v in upgrade_point(data).items() if k in POINT_FIELDS})


@dataclass(frozen=True)
class StrategyRecord:
    """What a strategy's worker reports besides its points: setup, readiness, the unseen-length probe."""
    status: str | None = None
    note: str | None = None
    transport: str | None = None
    tensor_parallel: int | None = None  # ranks the model was split over (1: one device)
    model_build_ms: float | None = None
    setup_ms: float | None = None
    mem_weights_gb: float | None = None
    imports_s: float | None = None  # process start until the worker's code runs: the Python imports
    ready_s: float | None = None
    unseen_len: int | None = None
    unseen_ttft_ms: float | None = None
    unseen_matches_baseline: bool | None = None
    unseen_near_tie: bool | None = None
    unseen_max_abs_logit_diff: float | None = None  # None where logits were not compared (ipc, no reference)
    unseen_note: str | None = None
    # measure.restart: the same strategy started again with the compile cache its first process left;
    # restart_status "running" until its worker ends, then "ok" or "error"
    restart_status: str | None = None
    restart_imports_s: float | None = None
    restart_ready_s: float | None = None
    restart_prompts_judged: int | None = None
    restart_prompts_agreed: int | None = None
    restart_note: str | None = None
    stats: dict | None = None

    def merged(self, fields: dict) -> "StrategyRecord":
        """This record with `fields` set (events arrive one part at a time)."""
        return dataclasses.replace(self, **fields)

    def stored(self) -> dict:
        """The run.json record: only the fields that were reported."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> "StrategyRecord":
        data = dict(data)
        if data.get("unseen_near_tie") is None and data.get("unseen_matches_baseline") is not None:
            data["unseen_near_tie"] = NEAR_TIE_MARK in (data.get("unseen_note") or "")  # formats 1, 2
        return cls(**{k: v for k, v in data.items() if k in STRATEGY_FIELDS})


POINT_FIELDS = {f.name for f in dataclasses.fields(PointRecord)}
STRATEGY_FIELDS = {f.name for f in dataclasses.fields(StrategyRecord)}


def upgrade_point(data: dict) -> dict:
    """A format 1 or 2 point judged one prompt: say so in the prompt counts."""
    if data.get("prompts_judged") is None and data.get("matches_baseline") is not None:
        near_tie = NEAR_TIE_MARK in (data.get("note") or "")
        data = {**data, "prompts_judged": 1, "prompts_agreed": int(bool(data["matches_baseline"])),
                "near_ties": int(near_tie)}
    return data
