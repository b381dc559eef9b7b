"""The raw results of the load scenario: run.json's "load" section (each run and level) and
load_samples.csv (one row per request sent).

Written as levels arrive (a level's rows appended in one write, run.json replaced after; on a
failure the rows are cut back, so a level is on disk whole or not at all), read back checked: every
row's fields, and as many rows per level as it sent. The load report is rebuilt from these alone.
"""
from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import pandas as pd

from bench.reporting.load_records import LoadLevelRecord, LoadRow, LoadRunRecord
from bench.reporting.results_io import RunRecord
from bench.reporting.samples_file import append_rows, truncate_to

LOAD_KEY = "load"  # run.json's section
# Bump with a comment saying why whenever a field changes meaning. 1: first format.
LOAD_FORMAT_VERSION = 1
LOAD_SAMPLES_FILE = "load_samples.csv"
KEY_COLUMNS = ["strategy", "batching", "mode", "level"]
ROW_FIELDS = ["request", "warmup", "prompt_len", "prompt_index", "sent_ns", "ttft_ns", "server_ttft_ns", "queue_ns",
              "batch_size", "token", "agreed"]
LOAD_COLUMNS = KEY_COLUMNS + ROW_FIELDS
OPTIONAL = {"ttft_ns", "server_ttft_ns", "queue_ns", "batch_size", "token"}  # empty: not answered, or not said
FLAGS = {"warmup", "agreed"}  # 1 or 0


def start_load(record: RunRecord, slo_ttft_ms: float) -> None:
    """An empty load section and load_samples.csv (what a previous run left there is replaced). The section
    keeps the TTFT objective its report judges the levels by, so the report needs no config code."""
    with open(record.out_dir / LOAD_SAMPLES_FILE, "w", newline="") as f:
        csv.writer(f).writerow(LOAD_COLUMNS)
    record.data[LOAD_KEY] = {"format_version": LOAD_FORMAT_VERSION, "slo_ttft_ms": slo_ttft_ms, "runs": [],
                             "levels": []}
    record.save()


def load_run(record: RunRecord, strategy: str, batching: str) -> LoadRunRecord:
    """A load run's record so far (empty if it reported nothing)."""
    for run in record.data[LOAD_KEY]["runs"]:
        if (run["strategy"], run["batching"]) == (strategy, batching):
            return LoadRunRecord(**{k: v for k, v in run.items() if k not in ("strategy", "batching")})
    return LoadRunRecord()


def set_load_run(record: RunRecord, strategy: str, batching: str, **fields) -> None:
    """Set fields of a load run's record (a LoadRunRecord's; an unknown field is an error)."""
    merged = load_run(record, strategy, batching).merged(fields)
    stored = {"strategy": strategy, "batching": batching, **merged.stored()}
    runs = record.data[LOAD_KEY]["runs"]
    at = [i for i, r in enumerate(runs) if (r["strategy"], r["batching"]) == (strategy, batching)]
    if at:
        runs[at[0]] = stored  # in place: runs stay in the order they started
    else:
        runs.append(stored)
    record.save()


def add_level(record: RunRecord, strategy: str, batching: str, level: LoadLevelRecord,
              rows: tuple[LoadRow, ...]) -> None:
    """Append a level's rows to load_samples.csv and its record to run.json: both or neither."""
    path = record.out_dir / LOAD_SAMPLES_FILE
    size = path.stat().st_size
    key = [strategy, batching, level.mode, f"{level.level:g}"]
    append_rows(path, [key + [cell(getattr(row, f)) for f in ROW_FIELDS] for row in rows])
    levels = record.data[LOAD_KEY]["levels"]
    levels.append({"strategy": strategy, "batching": batching, **dataclasses.asdict(level)})
    try:
        record.save()
    except BaseException:
        levels.pop()
        truncate_to(path, size)  # rows without their level would be counted by nobody
        raise


def cell(value) -> str | int:
    """A row value as written: a flag as 1/0, None as an empty cell."""
    if isinstance(value, bool):
        return int(value)
    return "" if value is None else value


def reopen_load(record: RunRecord, levels: list[tuple[str, float]], slo_ttft_ms: float) -> set[tuple[str, str]]:
    """Continue the load section of an interrupted run: keep the (strategy, batching) runs that finished
    (every one of `levels` filed, or skipped) with rows that check out; drop the rest and their rows.
    Returns the kept runs; a folder without a readable load section starts one."""
    try:
        section, _ = read_load(record.out_dir, record.data)
    except ValueError:
        start_load(record, slo_ttft_ms)
        return set()
    wanted = {(mode, float(level)) for mode, level in levels}
    kept = set()
    for run in section["runs"]:
        key = (run["strategy"], run["batching"])
        if run.get("status") == "skipped" or (run.get("status") == "ok" and filed_levels(section, *key) == wanted):
            kept.add(key)
    section["runs"] = [r for r in section["runs"] if (r["strategy"], r["batching"]) in kept]
    section["levels"] = [lv for lv in section["levels"] if (lv["strategy"], lv["batching"]) in kept]
    path = record.out_dir / LOAD_SAMPLES_FILE
    with open(path, newline="") as f:
        lines = list(csv.reader(f))  # checked by read_load: rewritten as they were, only the kept runs' rows
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([lines[0]] + [line for line in lines[1:] if (line[0], line[1]) in kept])
    record.data[LOAD_KEY] = section
    record.save()
    return kept


def filed_levels(section: dict, strategy: str, batching: str) -> set[tuple[str, float]]:
    """The (mode, level) pairs a load run has filed in run.json's load section."""
    return {(lv["mode"], lv["level"]) for lv in section["levels"]
            if (lv["strategy"], lv["batching"]) == (strategy, batching)}


def has_load(run: dict) -> bool:
    """Whether a run.json's content holds a load section."""
    return isinstance(run.get(LOAD_KEY), dict)


def read_load(out_dir: Path, run: dict) -> tuple[dict, pd.DataFrame]:
    """run.json's load section and load_samples.csv's rows, checked (ValueError naming the file and line)."""
    path = Path(out_dir) / LOAD_SAMPLES_FILE
    section = run.get(LOAD_KEY)
    if not isinstance(section, dict) or section.get("format_version") != LOAD_FORMAT_VERSION:
        raise ValueError(f"{out_dir}/run.json: no load section of format {LOAD_FORMAT_VERSION}")
    for key in ("runs", "levels"):
        if not isinstance(section.get(key), list) or not all(isinstance(x, dict) for x in section[key]):
            raise ValueError(f"{out_dir}/run.json: load.{key} missing or not a list of objects")
    slo = section.get("slo_ttft_ms")
    if isinstance(slo, bool) or not isinstance(slo, (int, float)) or not slo > 0:
        raise ValueError(f"{out_dir}/run.json: load.slo_ttft_ms missing or not a positive number")
    rows = read_rows(path)
    counts = rows.groupby(KEY_COLUMNS, sort=False).size().to_dict() if len(rows) else {}
    for lv in section["levels"]:
        try:
            level = LoadLevelRecord(**{k: v for k, v in lv.items() if k not in ("strategy", "batching")})
        except TypeError as exc:  # a field missing or unknown
            raise ValueError(f"{out_dir}/run.json: a load level it cannot read ({exc})") from None
        got = counts.pop((lv.get("strategy"), lv.get("batching"), level.mode, level.level), 0)
        if got != level.sent:
            raise ValueError(f"{path}: {lv['strategy']} {lv['batching']} {level.mode} {level.level:g} has {got} "
                             f"rows, its level sent {level.sent}")
    if counts:
        raise ValueError(f"{path}: rows of a level run.json does not hold: {', '.join(map(str, list(counts)[:3]))}")
    return section, rows


def read_rows(path: Path) -> pd.DataFrame:
    """load_samples.csv, every row checked: its field count, its integers, its flags."""
    try:
        with open(path, newline="") as f:
            lines = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    if not lines or lines[0] != LOAD_COLUMNS:
        raise ValueError(f"{path}: line 1: expected the header {','.join(LOAD_COLUMNS)}")
    records = []
    for number, line in enumerate(lines[1:], start=2):
        if len(line) != len(LOAD_COLUMNS):
            raise ValueError(f"{path}: line {number}: {len(line)} fields where the header has {len(LOAD_COLUMNS)}")
        records.append(parsed(dict(zip(LOAD_COLUMNS, line)), f"{path}: line {number}"))
    return pd.DataFrame(records, columns=LOAD_COLUMNS)


def parsed(row: dict, where: str) -> dict:
    """One row's values typed: integers, flags as bools, empty optional cells as None."""
    try:
        level = float(row["level"])
    except ValueError:
        level = math.nan
    if row["mode"] not in ("concurrency", "rate") or not math.isfinite(level):
        raise ValueError(f"{where}: mode {row['mode'][:20]!r}, level {row['level'][:20]!r} is not a load level")
    out = {"strategy": row["strategy"], "batching": row["batching"], "mode": row["mode"], "level": level}
    for name in ROW_FIELDS:
        value = row[name]
        if name in OPTIONAL and value == "":
            out[name] = None
        elif name in FLAGS and value in ("0", "1"):
            out[name] = value == "1"
        elif name not in FLAGS and value.isdigit():
            out[name] = int(value)
        else:
            raise ValueError(f"{where}: {name} {value[:20]!r} is not {'0 or 1' if name in FLAGS else 'an integer'}")
    return out


def discard_load(out_dir: Path) -> None:
    """A run that starts over: load rows of an earlier run must not outlive it."""
    (Path(out_dir) / LOAD_SAMPLES_FILE).unlink(missing_ok=True)
