"""samples.csv, checked: whole rows appended atomically, and every row verified when read back.

A point's rows are appended with one write to a file opened for appending; if that write fails
part-way (a full disk, a file size limit) the file is cut back to where it was, so it never ends
in a partial row. Reading checks the header, the field count and the integers of every row (times plausible: 1 ns to a
day), and that the file ends in a newline (a missing one means the last row was cut short). Problems
name the file and the line. Whether the rows are the ones run.json's points recorded is
sample_checks' job.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from bench.config.capped_file import open_regular
from bench.config.errors import ConfigError

SAMPLE_COLUMNS = ["strategy", "prompt_len", "request", "ttft_ns", "server_ttft_ns", "round"]
V5_COLUMNS = SAMPLE_COLUMNS[:-1]  # formats 2-6 measured in one round and wrote no round column
V1_COLUMNS = V5_COLUMNS[:-1]  # format 1 had no server column
# what a column an older format lacks holds when its rows are written again (a resumed run): no server
# TTFT, and one round
OLDER_ROW_FILL = {"server_ttft_ns": "", "round": "0"}
TIME_COLUMNS = ("ttft_ns", "server_ttft_ns")
# a first token a day after its prompt is no measurement this harness makes (100 such requests would
# take months); the bound also keeps every time exact as a float64 and far inside int64
MAX_TTFT_NS = 86_400 * 10 ** 9
MAX_DIGITS = 18  # any integer this tool writes fits in int64 (19 digits); int() would refuse 4,300 only


def append_rows(path: Path, rows: list[list]) -> None:
    """Append `rows` to the csv at `path` in one write; on any failure the file is left as it was."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # csv's own "\r\n", as every samples.csv so far
    data = buffer.getvalue().encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        try:
            written = 0
            while written < len(data):  # a short write (disk nearly full) continues until it fails
                written += os.write(fd, data[written:])
            os.fsync(fd)
        except BaseException:
            os.ftruncate(fd, size)  # no partial row: the point is written whole or not at all
            raise
    finally:
        os.close(fd)


def padded(row: list[str]) -> list[str]:
    """A row of an older format with the columns it lacks filled (OLDER_ROW_FILL)."""
    return row + [OLDER_ROW_FILL[name] for name in SAMPLE_COLUMNS[len(row):]]


def truncate_to(path: Path, size: int) -> None:
    """Cut the file back to `size` bytes (to undo an append whose run.json record failed)."""
    os.truncate(path, size)


class SampleRow(NamedTuple):
    line: int  # in the file, 1 being the header
    fields: list[str]  # as written: strategy, prompt_len, request, ttft_ns[, server_ttft_ns[, round]]


@dataclass
class SamplesScan:
    """samples.csv read leniently: good rows per strategy, problems per strategy and for the file."""
    path: Path
    rows: dict[str, list[SampleRow]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # strategy -> its first bad row
    file_problem: str | None = None  # nothing in the file can be trusted


def row_problem(row: list[str], width: int) -> str | None:
    """Why a row is not one this tool writes, or None."""
    if len(row) != width:
        return f"{len(row)} fields where the header has {width}"
    for name, value in zip(SAMPLE_COLUMNS[1:], row[1:]):
        if name == "server_ttft_ns" and value == "":
            continue
        if not (value.isascii() and value.isdigit()):  # isdigit alone takes '²', which int() refuses
            return f"{name} {value[:20]!r} is not a non-negative integer"
        if len(value) > MAX_DIGITS:
            return f"{name} {value[:20]}... has more than {MAX_DIGITS} digits"
        if name in TIME_COLUMNS and not 1 <= int(value) <= MAX_TTFT_NS:
            return f"{name} {value[:20]} is not a plausible time in ns (1 ns to a day)"
        if name == "prompt_len" and int(value) < 1:
            return "prompt_len 0 is not a length"
    return None


def scan_samples(path: Path) -> SamplesScan:
    """Read samples.csv and check every row; never raises for bad content (see the problems)."""
    scan = SamplesScan(Path(path))
    try:
        with open_regular(Path(path), f"{path}: cannot read") as f:  # a FIFO would block the reader
            text = f.read().decode("utf-8")
    except ConfigError as exc:
        scan.file_problem = str(exc)
        return scan
    except (OSError, UnicodeDecodeError) as exc:
        scan.file_problem = f"{path}: cannot read ({exc})"
        return scan
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    header = lines[0].split(",")
    if header not in (SAMPLE_COLUMNS, V5_COLUMNS, V1_COLUMNS):
        scan.file_problem = f"{path}: line 1: header {lines[0][:80]!r}, expected {','.join(SAMPLE_COLUMNS)!r}"
        return scan
    body = lines[1:]
    cut_short = bool(body) and body[-1] != ""  # the last row has no newline: it was cut short
    for number, line in enumerate(body, start=2):
        if line == "" and number == len(lines):
            break
        try:
            row, unparsed = next(csv.reader([line]), []), None
        except csv.Error as exc:  # a carriage return or NUL inside a field: no row this tool writes
            row, unparsed = line.split(",", 1)[:1], f"not a CSV row ({exc})"
        name = row[0] if row else ""
        problem = "the last row is incomplete (no newline)" if cut_short and number == len(lines) else unparsed
        problem = problem or (row_problem(row, len(header)) if name else "empty row")
        if problem and not name:
            scan.file_problem = f"{path}: line {number}: {problem}"
        elif problem:
            scan.problems.setdefault(name, f"{path}: line {number}: {problem}")
        else:
            scan.rows.setdefault(name, []).append(SampleRow(number, row))
    return scan
