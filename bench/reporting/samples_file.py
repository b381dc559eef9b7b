"""samples.csv, checked: whole rows appended atomically, and every row verified when read back.

A point's rows are appended with one write to a file opened for appending; if that write fails
part-way (a full disk, a file size limit) the file is cut back to where it was, so it never ends
in a partial row. Reading checks the header, the field count and the integers of every row, and
that the file ends in a newline (a missing one means the last row was cut short). Problems name
the file and the line.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_COLUMNS = ["strategy", "prompt_len", "request", "ttft_ns", "server_ttft_ns", "round"]
V4_COLUMNS = SAMPLE_COLUMNS[:-1]  # formats 2-4 measured in one round and wrote no round column
V1_COLUMNS = V4_COLUMNS[:-1]  # format 1 had no server column
# what a column an older format lacks holds when its rows are written again (a resumed run): no server
# TTFT, and one round
OLDER_ROW_FILL = {"server_ttft_ns": "", "round": "0"}


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


@dataclass
class SamplesScan:
    """samples.csv read leniently: good rows per strategy, problems per strategy and for the file."""
    path: Path
    rows: dict[str, list[list[str]]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # strategy -> its first bad row
    file_problem: str | None = None  # nothing in the file can be trusted


def row_problem(row: list[str], width: int) -> str | None:
    """Why a row is not one this tool writes, or None."""
    if len(row) != width:
        return f"{len(row)} fields where the header has {width}"
    for name, value in zip(SAMPLE_COLUMNS[1:], row[1:]):
        if name == "server_ttft_ns" and value == "":
            continue
        if not value.isdigit():
            return f"{name} {value[:20]!r} is not a non-negative integer"
    return None


def scan_samples(path: Path) -> SamplesScan:
    """Read samples.csv and check every row; never raises for bad content (see the problems)."""
    scan = SamplesScan(Path(path))
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        scan.file_problem = f"{path}: cannot read ({exc})"
        return scan
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    header = lines[0].split(",")
    if header not in (SAMPLE_COLUMNS, V4_COLUMNS, V1_COLUMNS):
        scan.file_problem = f"{path}: line 1: header {lines[0][:80]!r}, expected {','.join(SAMPLE_COLUMNS)!r}"
        return scan
    body = lines[1:]
    cut_short = bool(body) and body[-1] != ""  # the last row has no newline: it was cut short
    for number, line in enumerate(body, start=2):
        if line == "" and number == len(lines):
            break
        row = next(csv.reader([line]), [])
        name = row[0] if row else ""
        problem = "the last row is incomplete (no newline)" if cut_short and number == len(lines) else None
        problem = problem or (row_problem(row, len(header)) if name else "empty row")
        if problem and not name:
            scan.file_problem = f"{path}: line {number}: {problem}"
        elif problem:
            scan.problems.setdefault(name, f"{path}: line {number}: {problem}")
        else:
            scan.rows.setdefault(name, []).append(row)
    return scan
