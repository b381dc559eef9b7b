"""Rebuild summary.csv, summary.json, table.md and plots/ from a run folder's samples.csv + run.json alone.

    python -m bench report results/default
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from bench.config.errors import ConfigError
from bench.reporting.columns import COLUMNS
from bench.reporting.load_report import LOAD_PLOT, write_load_report
from bench.reporting.load_summary import LOAD_SUMMARY_FILE
from bench.reporting.plots import PLOT_FILES, plot_title, write_plots
from bench.reporting.results_io import SAMPLES_FILE, read_run
from bench.reporting.run_fields import ENVIRONMENT_CHANGES
from bench.reporting.sample_checks import check_samples
from bench.reporting.samples_file import SAMPLE_COLUMNS, scan_samples
from bench.reporting.stats import DEFAULT_LEVEL, METHOD
from bench.reporting.summary import build_summary
from bench.reporting.tables import report_markdown

SUMMARY_FILE = "summary.csv"
SUMMARY_JSON_FILE = "summary.json"
TABLE_FILE = "table.md"
PLOTS_FOLDER = "plots"
FLOAT_FORMAT = "%.4f"  # 0.1 us resolution in ms: below timer noise, and stable across platforms
FLOAT_DIGITS = 4  # summary.json's numbers rounded as FLOAT_FORMAT writes them, so both files agree
SAMPLE_TYPES = {"strategy": "object", "prompt_len": "int64", "request": "int64", "ttft_ns": "int64",
                "server_ttft_ns": "float64",  # NaN: no server time (transport inprocess, format 1)
                "round": "int64"}  # 0 for every row of formats 1-6 (one round)
RUN_METADATA_KEYS = ("format_version", "name", "status", "started", "finished", "resumed", "config",
                     "environment", ENVIRONMENT_CHANGES, "roofline")


def load_checked(out_dir: Path) -> tuple[dict, pd.DataFrame]:
    """run.json and samples.csv (one row per timed request), each read once and checked against the
    other (ConfigError naming the file, the row or field, and the problem); what report, compare and
    the README's tables read. A format without rounds reads as one round (0)."""
    run = read_run(out_dir)
    scan = scan_samples(Path(out_dir) / SAMPLES_FILE)
    check_samples(run, scan)
    # per strategy in file order, so each point's samples keep their order (the bootstrap draws by position)
    rows = [[f[0], int(f[1]), int(f[2]), int(f[3]), float(f[4]) if len(f) > 4 and f[4] else math.nan,
             int(f[5]) if len(f) > 5 else 0]
            for strategy_rows in scan.rows.values() for f in (row.fields for row in strategy_rows)]
    return run, pd.DataFrame(rows, columns=SAMPLE_COLUMNS).astype(SAMPLE_TYPES)


def load_summary(out_dir: Path) -> tuple[dict, pd.DataFrame]:
    """run.json and samples.csv, checked (ConfigError naming the file and row), and their summary."""
    run, samples = load_checked(out_dir)
    return run, build_summary(run, samples)


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
    not_drawn = write_plots(df, run, out_dir / PLOTS_FOLDER)
    load_section = write_load_report(out_dir, run, plot_title(run, df), FLOAT_FORMAT)
    (out_dir / TABLE_FILE).write_text(report_markdown(run, df, not_drawn) + load_section)
    return df


def discard_report(out_dir: Path) -> None:
    """Remove every file write_report writes (and nothing else): a run starting or resumed in the folder
    shows no report until it writes its own, so none describes other raw files than the folder's."""
    for name in (SUMMARY_FILE, SUMMARY_JSON_FILE, TABLE_FILE, LOAD_SUMMARY_FILE):
        (Path(out_dir) / name).unlink(missing_ok=True)
    for name in (*PLOT_FILES, LOAD_PLOT):
        (Path(out_dir) / PLOTS_FOLDER / name).unlink(missing_ok=True)


def write_reports(folders: list[Path]) -> tuple[dict[Path, pd.DataFrame], list[str]]:
    """Write the report of every folder, going on past failures; returns the summary of each folder
    reported and one line per failure, each naming its folder or file."""
    summaries, failures = {}, []
    for folder in folders:
        try:
            summaries[folder] = write_report(folder)
        except ConfigError as exc:  # a file that fails its checks: the message names it
            failures.append(str(exc))
            continue
        except Exception as exc:  # a disk error, or a value no check foresaw: the other folders still get theirs
            failures.append(f"{folder}: cannot write its report ({type(exc).__name__}: {exc})")
            continue
        print(f"rebuilt {folder}/summary.csv, table.md, plots/" + (", load_summary.csv" if
                                                                  (folder / LOAD_SUMMARY_FILE).exists() else ""))
    return summaries, failures
