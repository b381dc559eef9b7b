"""Rebuild summary.csv, table.md and plots/ from a run folder's samples.csv + run.json alone.

    python -m bench report results/default
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.reporting.plots import write_plots
from bench.reporting.results_io import SAMPLES_FILE, check_samples, read_run
from bench.reporting.samples_file import scan_samples
from bench.reporting.summary import build_summary
from bench.reporting.tables import report_markdown

SUMMARY_FILE = "summary.csv"
TABLE_FILE = "table.md"
FLOAT_FORMAT = "%.4f"  # 0.1 us resolution in ms: below timer noise, and stable across platforms


def load_summary(out_dir: Path) -> tuple[dict, pd.DataFrame]:
    """run.json and samples.csv, checked (ValueError naming the file and row), and their summary."""
    run = read_run(out_dir)
    check_samples(run, scan_samples(out_dir / SAMPLES_FILE))
    samples = pd.read_csv(out_dir / SAMPLES_FILE, dtype={"ttft_ns": "int64", "server_ttft_ns": "float64"})
    return run, build_summary(run, samples)


def write_report(out_dir: Path) -> pd.DataFrame:
    """Write the report files of a run folder; returns the summary."""
    out_dir = Path(out_dir)
    run, df = load_summary(out_dir)
    df.to_csv(out_dir / SUMMARY_FILE, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    (out_dir / TABLE_FILE).write_text(report_markdown(run, df))
    write_plots(df, run["name"], out_dir / "plots")
    return df


def write_reports(folders: list[Path]) -> list[str]:
    """Write the report of every folder, going on past failures; returns one line per failure."""
    failures = []
    for folder in folders:
        try:
            write_report(folder)
        except (ValueError, OSError) as exc:
            failures.append(str(exc))
            continue
        print(f"rebuilt {folder}/summary.csv, table.md, plots/")
    return failures
