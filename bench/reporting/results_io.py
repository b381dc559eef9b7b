"""The raw results of a run: run.json (config, environment, per-point records) and samples.csv.

Both are written as measurements arrive (samples appended, run.json replaced atomically),
so an interrupted run keeps everything measured before the interruption. Reports are
rebuilt from these two files alone.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import Iterable

from bench.reporting.records import PointRecord, StrategyRecord

# Bump with a comment saying why whenever a field changes meaning.
# 1: first format.
# 2: samples.csv gains server_ttft_ns (the server's TTFT of each request with transport: ipc).
# 3: a point is judged on several prompts: points gain prompts_judged, prompts_agreed, near_ties,
#    and max_abs_logit_diff is the worst over those prompts; strategies gain unseen_near_tie.
#    Versions 1 and 2 judged one prompt per point; records.upgrade_point says so when reading them.
# 4: every warm-up and timed request asks a prompt of its own, and each timed token is checked
#    against the baseline's for the same request: points gain timed_checked and timed_mismatches,
#    and near_ties counts timed requests too. Version 3 left both new fields unset (None).
FORMAT_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)  # a v1 folder simply has no server column
RUN_FILE = "run.json"
SAMPLES_FILE = "samples.csv"
SAMPLE_COLUMNS = ["strategy", "prompt_len", "request", "ttft_ns", "server_ttft_ns"]


# what must not change between an interrupted run and its resumption
RESUME_ENVIRONMENT_KEYS = ("gpu", "driver", "torch", "transformers", "git_commit")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    os.replace(tmp, path)


class RunRecord:
    """The run being measured; every method leaves consistent files on disk."""

    def __init__(self, out_dir: Path, data: dict, sample_rows: Iterable[list[str]] = ()):
        """Write run.json from `data` and samples.csv from `sample_rows`; use start or reopen."""
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.data = data
        with open(out_dir / SAMPLES_FILE, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(SAMPLE_COLUMNS)
            writer.writerows(sample_rows)
        self.save()

    @classmethod
    def start(cls, out_dir: Path, name: str, config: dict, environment: dict) -> "RunRecord":
        """A new run in out_dir (what was there is replaced)."""
        return cls(out_dir, {"format_version": FORMAT_VERSION, "name": name, "status": "running",
                             "started": now(), "finished": None, "config": config,
                             "environment": environment, "strategies": {}, "points": []})

    def save(self) -> None:
        write_json_atomic(self.out_dir / RUN_FILE, self.data)

    def set_device(self, info: dict) -> None:
        self.data["environment"].setdefault("device", info)
        self.save()

    def set_roofline(self, facts: dict) -> None:
        self.data["roofline"] = facts
        self.save()

    def set_strategy(self, name: str, **fields) -> None:
        """Set fields of a strategy's record (a StrategyRecord's; an unknown field is an error)."""
        record = StrategyRecord.from_dict(self.data["strategies"].get(name, {})).merged(fields)
        self.data["strategies"][name] = record.stored()
        self.save()

    def add_point(self, strategy: str, point: PointRecord) -> None:
        """Append the point's samples to samples.csv and its record to run.json."""
        server = point.server_samples_ns or [""] * len(point.samples_ns)
        with open(self.out_dir / SAMPLES_FILE, "a", newline="") as f:
            writer = csv.writer(f)
            for i, (ns, server_ns) in enumerate(zip(point.samples_ns, server)):
                writer.writerow([strategy, point.prompt_len, i, ns, server_ns])
        self.data["points"].append({"strategy": strategy, **point.stored()})
        self.save()

    @classmethod
    def reopen(cls, out_dir: Path, config: dict, environment: dict, lengths) -> tuple["RunRecord", set[str]]:
        """Continue the run in out_dir: keep the strategies it finished, drop the rest (their
        points and samples) so they run again. Returns the record and the kept strategies."""
        data = read_run(out_dir)
        if data["config"] != config:
            raise ValueError(f"{out_dir}: cannot resume: the config differs from the one this run started with")
        changed = [f"{k} {data['environment'].get(k)!r} -> {environment.get(k)!r}" for k in RESUME_ENVIRONMENT_KEYS
                   if data["environment"].get(k) != environment.get(k)]
        if changed:
            raise ValueError(f"{out_dir}: cannot resume on another environment ({'; '.join(changed)})")
        kept = finished_strategies(data, lengths)
        data["strategies"] = {k: v for k, v in data["strategies"].items() if k in kept}
        data["points"] = [p for p in data["points"] if p["strategy"] in kept]
        data["status"], data["finished"] = "running", None
        data.setdefault("resumed", []).append(now())
        with open(out_dir / SAMPLES_FILE, newline="") as f:
            rows = list(csv.reader(f))[1:]
        return cls(out_dir, data, [row for row in rows if row[0] in kept]), kept

    def has_point(self, strategy: str, prompt_len: int) -> bool:
        return any(p["strategy"] == strategy and p["prompt_len"] == prompt_len for p in self.data["points"])

    def finish(self, status: str) -> None:
        self.data["status"] = status
        self.data["finished"] = now()
        self.save()


def finished_strategies(data: dict, lengths) -> set[str]:
    """Strategies whose worker ran to the end: a record that is not a crash, a point per length."""
    done = set()
    for name, fields in data["strategies"].items():
        measured = {p["prompt_len"] for p in data["points"] if p["strategy"] == name}
        if fields.get("status") in ("ok", "skipped") and set(lengths) <= measured:
            done.add(name)
    return done


def read_run(out_dir: Path) -> dict:
    path = Path(out_dir) / RUN_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read run record ({exc})") from None
    if data.get("format_version") not in READABLE_VERSIONS:
        raise ValueError(f"{path}: format_version {data.get('format_version')!r}; this tool reads {READABLE_VERSIONS}")
    return data
