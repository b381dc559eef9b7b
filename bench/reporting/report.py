"""Rebuild summary.csv, summary.json, table.md and plots/ from a run folder's samples.csv + run.json alone.

    python -m bench report results/default
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from bench.reporting.columns import COLUMNS
from bench.reporting.load_report import write_load_report
from bench.reporting.load_summary import LOAD_SUMMARY_FILE
from bench.reporting.plots import plot_title, write_plots
from bench.reporting.results_io import SAMPLES_FILE, check_samples, read_run
from bench.reporting.samples_file import scan_samples
from bench.reporting.stats import DEFAULT_LEVEL, METHOD
from bench.reporting.summary import build_summary
from bench.reporting.tables import report_markdown

SUMMARY_FILE = "summary.csv"
SUMMARY_JSON_FILE = "summary.json"
TABLE_FILE = "table.md"
FLOAT_FORMAT = "%.4f"  # 0.1 us resolution in ms: below timer noise, and stable across platforms
FLOAT_DIGITS = 4  # summary.json's numbers rounded as FLOAT_FORMAT writes them, so both files agree
RUN_METADATA_KEYS = ("format_version", "name", "status", "started", "finished", "resumed", "config",
                     "environment", "roofline")


def load_samples(out_dir: Path) -> pd.DataFrame:
    """samples.csv of a run folder (one row per timed request)."""
    path = Path(out_dir) / SAMPLES_FILE
    try:
        return pd.read_csv(path, dtype={"ttft_ns": "int64", "server_ttft_ns": "float64"})
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read samples ({exc})") from None


def load_summary(out_dir: Path) -> tuple[dict, pd.DataFrame]:
    """run.json and samples.csv, checked (ValueError naming the file and row), and their summary."""
    run = read_run(out_dir)
    check_samples(run, scan_samples(out_dir / SAMPLES_FILE))
    return run, build_summary(run, load_samples(out_dir))


def _plain(value):
    """A JSON value: NaN and NA as null, numpy scalars as Python ones, floats rounded like the CSV."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return round(value, FLOAT_DIGITS) if isinstance(value, float) else value


def summary_json(run: dict, df: pd.DataFrame) -> str:
    """summary.json: the run's metadata, the statistics' method, each column's meaning and the rows."""
    data = {"run": {k: run[k] for k in RUN_METADATA_KEYS if k in run},
            "tags": run["config"].get("tags", {}),
            "confidence_intervals": {"method": METHOD, "level": DEFAULT_LEVEL},
            "columns": {c.name: c.meaning for c in COLUMNS},
            "rows": [{k: _plain(v) for k, v in row.items()} for row in df.to_dict("records")]}
    return json.dumps(data, indent=1) + "\n"


def write_report(out_dir: Path) -> pd.DataFrame:
    """Write the report files of a run folder; returns the summary."""
    out_dir = Path(out_dir)
    run, df = load_summary(out_dir)
    df.to_csv(out_dir / SUMMARY_FILE, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    (out_dir / SUMMARY_JSON_FILE).write_text(summary_json(run, df))
    not_drawn = write_plots(df, run, out_dir / "plots")
    load_section = write_load_report(out_dir, run, plot_title(run, df), FLOAT_FORMAT)
    (out_dir / TABLE_FILE).write_text(report_markdown(run, df, not_drawn) + load_section)
    return df


def write_reports(folders: list[Path]) -> tuple[dict[Path, pd.DataFrame], list[str]]:
    """Write the report of every folder, going on past failures; returns the summary of each folder
    reported and one line per failure."""
    summaries, failures = {}, []
    for folder in folders:
        try:
            summaries[folder] = write_report(folder)
        except (ValueError, OSError) as exc:
            failures.append(str(exc))
            continue
        print(f"rebuilt {folder}/summary.csv, table.md, plots/" + (", load_summary.csv" if
                                                                  (folder / LOAD_SUMMARY_FILE).exists() else ""))
    return summaries, failures
