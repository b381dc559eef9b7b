"""samples.csv checked against run.json: every row belongs to a point of its strategy, each point has
exactly the rows it recorded, request indices unique and in [0, n), rounds in [0, measure.rounds) (format
7 on; older rows are one round, 0), and (format 5 on) the rows are the very ones measured: their digest
is the one run.json stored when they were written.

    check_samples(run, scan_samples(folder / "samples.csv"))   # ConfigError naming the file, row, problem
"""
from __future__ import annotations

import hashlib
from typing import Iterable

from bench.config.errors import ConfigError, shown
from bench.reporting.samples_file import SAMPLE_COLUMNS, SampleRow, SamplesScan

# measure.repeats' default in every format before 5, whose run.json stores the config as written:
# a config without measure: ran this many timed requests per point
DEFAULT_REPEATS = 100
# measure.rounds' default (bench.config.schema.MeasureConfig, which reporting cannot import: its options
# import strategies); a config without it ran this many rounds
DEFAULT_ROUNDS = 10
ROUNDS_FROM = 7  # the format version whose samples.csv has the round column (results_io.py)


def samples_digest(rows: Iterable[list]) -> str:
    """sha256 of a point's rows (strategy, length, request, ttft_ns[, server_ttft_ns[, round]]) in request
    order, numbers as integers: the same for the rows written and the rows read back, whatever their order.
    Round 0 digests as no round, so a format 5 or 6 point whose rows a resume wrote again with round 0 keeps its
    digest, while any other round is covered."""
    canonical = sorted(((int(r[2]), int(r[3]), int(r[4]) if len(r) > 4 and r[4] != "" else "",
                         int(r[5]) if len(r) > 5 else 0) for r in rows), key=lambda row: row[0])
    return hashlib.sha256("".join(f"{i},{ns},{server}" + (f",{r}" if r else "") + "\n"
                                  for i, ns, server, r in canonical).encode()).hexdigest()


def expected_rows(data: dict, point: dict) -> int:
    """The sample rows a point has: the count it stored (format 5 on), else measure.repeats for an ok point."""
    if "samples" in point:
        return point["samples"]
    if point["status"] != "ok":
        return 0
    measure = data["config"].get("measure") or {}
    return measure.get("repeats", DEFAULT_REPEATS)


def rounds_of(data: dict) -> int:
    """The rounds the run's config asks for. A folder of format 6 or older has rows of one round (0), and
    rounds only in the points a resume by a later version measured, under that same config."""
    measure = data["config"].get("measure") or {}
    return measure.get("rounds", DEFAULT_ROUNDS)


def samples_problem(data: dict, scan: SamplesScan, strategy: str) -> str | None:
    """Why a strategy's samples can't be trusted (a bad row, a row of no point, a count, an index, a
    digest that differs), or None."""
    if scan.file_problem or strategy in scan.problems:
        return scan.file_problem or scan.problems[strategy]
    points = {p["prompt_len"]: p for p in data["points"] if p["strategy"] == strategy}
    rows: dict[int, list[SampleRow]] = {n: [] for n in points}
    for row in scan.rows.get(strategy, []):
        n = int(row.fields[1])
        if n not in rows:
            return f"{scan.path}: line {row.line}: {shown(strategy)} has no point at length {n} in run.json"
        rows[n].append(row)
    for n, point in points.items():
        problem = point_rows_problem(f"{strategy} @ {n}", point, rows[n], expected_rows(data, point),
                                     rounds_of(data), data["format_version"] >= ROUNDS_FROM)
        if problem:
            return f"{scan.path}: {problem}"
    return None


def point_rows_problem(label: str, point: dict, rows: list[SampleRow], want: int, rounds: int,
                       round_required: bool) -> str | None:
    """Why one point's rows are not the ones it recorded, or None. rounds: measure.rounds; round_required:
    every row must have a round (format 7 on; older rows without one are round 0)."""
    first_line: dict[int, int] = {}
    for row in rows:
        request = int(row.fields[2])
        if request >= want:
            return f"line {row.line}: request {request} of {label} is outside [0, {want})"
        problem = round_problem(row, rounds, round_required)
        if problem:
            return f"line {row.line}: {label}: {problem}"
        if request in first_line:
            return f"line {row.line}: request {request} of {label} repeats line {first_line[request]}"
        first_line[request] = row.line
    if len(rows) != want:
        return f"{label} has {len(rows)} sample rows, expected {want}"
    if "samples_sha256" in point and samples_digest(r.fields for r in rows) != point["samples_sha256"]:
        return (f"{label}: the rows are not the ones measured (their digest differs from run.json's "
                "samples_sha256): a value was edited")
    return None


def round_problem(row: SampleRow, rounds: int, required: bool) -> str | None:
    """Why a row's round is not one its run measured, or None."""
    if len(row.fields) < len(SAMPLE_COLUMNS):
        return f"no round (format {ROUNDS_FROM} on, every row has one)" if required else None
    r = int(row.fields[-1])
    return None if r < rounds else f"round {r} is outside [0, {rounds}) (measure.rounds)"


def check_samples(data: dict, scan: SamplesScan) -> None:
    """ConfigError naming the file and row unless every strategy's samples check out."""
    # bad rows and rows of no strategy first: a count that is off is often their consequence (a garbled name)
    measured = [p["strategy"] for p in data["points"]]
    names = dict.fromkeys([*scan.problems, *(n for n in scan.rows if n not in measured), *measured])
    problem = scan.file_problem or next(filter(None, (samples_problem(data, scan, n) for n in names)), None)
    if problem:
        raise ConfigError(problem)
