"""The raw results of a run: run.json (config, environment, per-point records) and samples.csv.

Both are written as measurements arrive (a point's samples appended in one write, run.json
replaced atomically), so an interrupted run keeps everything measured before the interruption
and never a partial row. Reports are rebuilt from these two files alone, after checking them.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path
from typing import Iterable

from bench.config.capped_file import read_capped
from bench.config.errors import ConfigError, shown
from bench.reporting.dotted_keys import changed_keys
from bench.reporting.records import PointRecord, StrategyRecord
from bench.reporting.run_fields import ENVIRONMENT_CHANGES, run_problem
from bench.reporting.sample_checks import samples_digest, samples_problem
from bench.reporting.samples_file import SAMPLE_COLUMNS, append_rows, padded, scan_samples, truncate_to

# Bump with a comment saying why whenever a field changes meaning.
# 1: first format.
# 2: samples.csv gains server_ttft_ns (the server's TTFT of each request with transport: ipc).
# 3: a point is judged on several prompts: points gain prompts_judged, prompts_agreed, near_ties,
#    and max_abs_logit_diff is the worst over those prompts; strategies gain unseen_near_tie.
#    Versions 1 and 2 judged one prompt per point; records.upgrade_point says so when reading them.
# 4: every warm-up and timed request asks a prompt of its own, and each timed token is checked
#    against the baseline's for the same request: points gain timed_checked and timed_mismatches,
#    and near_ties counts timed requests too. Version 3 left both new fields unset (None).
# 5: points gain samples (their rows in samples.csv) and samples_sha256 (a digest of those rows), so
#    a row deleted, duplicated, moved or edited is found on reading. Versions 1-4 are checked against
#    measure.repeats instead (sample_checks.expected_rows).
# 6: what is judged is what was timed: max_abs_logit_diff and the prompts' verdicts come from the logits of
#    the timed call itself (no second, untimed call), a greedy token must be the argmax of them, and a timed
#    request's near tie is decided on the baseline's values (its stored top logits), not the strategy's;
#    points gain near_ties_limit (the near ties an honest strategy shows at most; more fail the point).
#    Versions 1-5 left it unset (None): its near ties were not bounded.
# 7: a strategy's timed requests are measured in measure.rounds rounds spread over its measuring time;
#    samples.csv gains round (each request's round, 0 first), which the intervals resample and the digest
#    covers. Versions 1-6 have no round column and are read as one round (round 0).
FORMAT_VERSION = 7
READABLE_VERSIONS = (1, 2, 3, 4, 5, 6, 7)  # a v1 folder simply has no server column
RUN_FILE = "run.json"
SAMPLES_FILE = "samples.csv"
# the largest run.json here is 45 KB (9 lengths x 6 strategies); 64 MiB holds a thousand times more
# points, and a bigger file is not a run record (it would be read whole into memory)
MAX_RUN_FILE_BYTES = 64 << 20


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

    def set_environment(self, fields: dict) -> None:
        """Add environment keys measured after the start (the "_end" values); finish() writes them."""
        self.data["environment"].update(fields)

    def set_roofline(self, facts: dict) -> None:
        self.data["roofline"] = facts
        self.save()

    def strategy(self, name: str) -> StrategyRecord:
        """A strategy's record so far (empty if it reported nothing)."""
        return StrategyRecord.from_dict(self.data["strategies"].get(name, {}))

    def set_strategy(self, name: str, **fields) -> None:
        """Set fields of a strategy's record (a StrategyRecord's; an unknown field is an error)."""
        record = self.strategy(name).merged(fields)
        self.data["strategies"][name] = record.stored()
        self.save()

    def add_point(self, strategy: str, point: PointRecord) -> None:
        """Append the point's samples to samples.csv and its record to run.json: both or neither."""
        server = point.server_samples_ns or [""] * len(point.samples_ns)
        rounds = point.sample_rounds or [0] * len(point.samples_ns)
        samples = self.out_dir / SAMPLES_FILE
        size = samples.stat().st_size
        rows = [[strategy, point.prompt_len, i, ns, server_ns, r]
                for i, (ns, server_ns, r) in enumerate(zip(point.samples_ns, server, rounds))]
        append_rows(samples, rows)
        self.data["points"].append({"strategy": strategy, **point.stored(), "samples": len(rows),
                                    "samples_sha256": samples_digest(rows)})
        try:
            self.save()
        except BaseException:
            self.data["points"].pop()
            truncate_to(samples, size)  # samples without their record would be counted by nobody
            raise

    @classmethod
    def reopen(cls, out_dir: Path, data: dict, lengths,
               environment_changes: dict[str, tuple] | None = None) -> tuple["RunRecord", set[str], dict[str, str]]:
        """Continue the run in out_dir, whose run.json holds `data` (read_resumable's): keep the strategies it
        finished whose samples check out, drop the rest (their points and samples) so they run again, and
        record the environment's changes the user accepted ({key: (old, new)}). Returns the record, the
        kept strategies, and why each finished strategy that failed the check is measured again."""
        scan = scan_samples(out_dir / SAMPLES_FILE)
        rejected = {name: reason for name in finished_strategies(data, lengths)
                    if (reason := samples_problem(data, scan, name))}
        kept = finished_strategies(data, lengths) - set(rejected)
        data["strategies"] = {k: v for k, v in data["strategies"].items() if k in kept}
        data["points"] = [p for p in data["points"] if p["strategy"] in kept]
        data["status"], data["finished"] = "running", None
        resumed = now()
        data.setdefault("resumed", []).append(resumed)
        data.pop("failure", None)  # the reason an earlier attempt failed is not this one's
        for key, (old, new) in (environment_changes or {}).items():
            data.setdefault(ENVIRONMENT_CHANGES, []).append({"resumed": resumed, "key": key, "old": old, "new": new})
        rows = [padded(row.fields) for name in kept for row in scan.rows.get(name, [])]
        return cls(out_dir, data, rows), kept, rejected

    def has_point(self, strategy: str, prompt_len: int) -> bool:
        return any(p["strategy"] == strategy and p["prompt_len"] == prompt_len for p in self.data["points"])

    def finish(self, status: str, failure: str | None = None) -> None:
        """End the run with its status ("complete", "interrupted" or "failed") and, if it failed, why."""
        self.data["status"] = status
        self.data.pop("failure", None)
        if failure:
            self.data["failure"] = failure
        self.data["finished"] = now()
        self.save()


def finished_strategies(data: dict, lengths) -> set[str]:
    """Strategies whose worker ran to the end: a record that is not a crash, a point per length, and no
    restart left unfinished (an interrupted restart measures the strategy again, restart included)."""
    done = set()
    for name, fields in data["strategies"].items():
        measured = {p["prompt_len"] for p in data["points"] if p["strategy"] == name}
        restart_unfinished = fields.get("restart_status") == "running"
        if fields.get("status") in ("ok", "skipped") and set(lengths) <= measured and not restart_unfinished:
            done.add(name)
    return done


def read_resumable(out_dir: Path, config: dict) -> dict:
    """run.json of the run to continue in out_dir, checked (read_run); a ConfigError naming each changed
    key, old and new, where the config differs from the one it started with."""
    data = read_run(out_dir)
    if data["config"] != config:
        raise ConfigError(f"{out_dir}: cannot resume: the config differs from the one this run started with "
                          f"({'; '.join(changed_keys(data['config'], config) or ['a list in another order'])})")
    return data


def read_run(out_dir: Path) -> dict:
    """run.json, checked field by field (run_fields.py); a ConfigError naming the file and the field."""
    path = Path(out_dir) / RUN_FILE
    data = read_capped(path, MAX_RUN_FILE_BYTES, f"{path}: cannot read run record",
                       f"{path}: larger than {MAX_RUN_FILE_BYTES} bytes; not a run record")
    try:
        data = json.loads(data)
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, a 5,000-digit number, deep nesting
        raise ConfigError(f"{path}: cannot read run record ({str(exc)[:120] or type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object, got {type(data).__name__}")
    version = data.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:  # not 5.0, not true
        raise ConfigError(f"{path}: format_version {shown(version)}; this tool reads {READABLE_VERSIONS}")
    problem = run_problem(data)
    if problem:
        raise ConfigError(f"{path}: {problem}")
    return data
