"""The load part of a report, rebuilt from run.json's load section and load_samples.csv alone:
load_summary.csv, plots/load.png and table.md's section "Under load"."""
from __future__ import annotations

from pathlib import Path

from bench.reporting.load_io import has_load, read_load
from bench.reporting.load_summary import LOAD_SUMMARY_FILE, build_load_summary
from bench.reporting.load_tables import load_markdown
from bench.reporting.load_plot import plot_load

LOAD_PLOT = "load.png"


def write_load_report(out_dir: Path, run: dict, title: str, float_format: str) -> str:
    """Write load_summary.csv (numbers as `float_format`, the summary's) and plots/load.png of a run with a
    load section; its table.md section ('' and nothing written for a run without one)."""
    out_dir = Path(out_dir)
    plot = out_dir / "plots" / LOAD_PLOT
    if not has_load(run):
        (out_dir / LOAD_SUMMARY_FILE).unlink(missing_ok=True)  # nothing of an earlier report outlives its data
        plot.unlink(missing_ok=True)
        return ""
    section, rows = read_load(out_dir, run)
    df = build_load_summary(section, rows)
    df.to_csv(out_dir / LOAD_SUMMARY_FILE, index=False, float_format=float_format, lineterminator="\n")
    slo_ms = section["slo_ttft_ms"]
    plot.parent.mkdir(parents=True, exist_ok=True)
    plotted = plot_load(df, slo_ms, title, plot)
    if not plotted:
        plot.unlink(missing_ok=True)
    return load_markdown(df, section["runs"], slo_ms, plotted)
