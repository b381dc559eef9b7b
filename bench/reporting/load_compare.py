"""Compare runs under load: per strategy, batching setting, mode and level measured in both, the ratio of
p50 and of p99 TTFT with bootstrap intervals and verdicts (the first run is the reference; above 1: slower).

Called by `python -m bench compare` beside the sweep's comparison; reads run.json and load_samples.csv alone.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.reporting.compare import RunSamples
from bench.reporting.load_io import has_load, read_load
from bench.reporting.stats import METHOD, ratio_of_percentiles
from bench.reporting.tables import fmt, markdown_table

LOAD_COMPARE_FILE = "compare_load.csv"
KEY = ["strategy", "batching", "mode", "level"]
QUANTILES = {"p50": 50, "p99": 99}
PER_QUANTILE = ("reference_ms", "run_ms", "ratio", "ci_low", "ci_high", "verdict")
LOAD_COMPARE_COLUMNS = ["reference", "run", *KEY, "n_reference", "n_run"] + [
    f"{name}_{what}" for name in QUANTILES for what in PER_QUANTILE]


def load_ttfts(folder: str, run: dict) -> dict[tuple, np.ndarray]:
    """A run's timed, answered TTFTs in ms per (strategy, batching, mode, level) that measured any; none
    without a load section."""
    if not has_load(run):
        return {}
    _, rows = read_load(Path(folder), run)
    timed = rows[~rows.warmup.astype(bool) & rows.token.notna()]
    return {key: g.ttft_ns.to_numpy(dtype=np.float64) / 1e6 for key, g in timed.groupby(KEY, sort=False)}


def compare_load(runs: list[RunSamples], level: float) -> pd.DataFrame:
    """One row per later run and load level measured in it and in the first run."""
    ttfts = [load_ttfts(r.label, r.run) for r in runs]
    rows = []
    for other, theirs in zip(runs[1:], ttfts[1:]):
        for key in [k for k in ttfts[0] if k in theirs]:
            a, b = ttfts[0][key], theirs[key]
            row = [runs[0].label, other.label, *key, a.size, b.size]
            for q in QUANTILES.values():
                est = ratio_of_percentiles(a, b, q, level=level)
                row += [float(np.percentile(a, q)), float(np.percentile(b, q)), est.ratio, est.low, est.high,
                        est.verdict]
            rows.append(row)
    return pd.DataFrame(rows, columns=LOAD_COMPARE_COLUMNS)


def load_compare_markdown(runs: list[RunSamples], df: pd.DataFrame, level: float) -> str:
    """The load comparison's Markdown section ('' when no two runs share a load level)."""
    if df.empty:
        return ""
    labels = [r.label for r in runs]
    parts = ["", "## Under load", "",
             f"Ratio of p50 and of p99 client TTFT at the same strategy, batching setting, mode and level (above "
             f"1: slower); interval at the {level:.0%} level: {METHOD}; the two runs resampled independently.", ""]
    for other in labels[1:]:
        part = df[df.run == other]
        rows = [[r.strategy, r.batching, r.mode, f"{r.level:g}", fmt(r.p50_reference_ms), fmt(r.p50_run_ms),
                 f"{r.p50_ratio:.3f} ({r.p50_ci_low:.3f}-{r.p50_ci_high:.3f}) {r.p50_verdict}", fmt(r.p99_reference_ms),
                 fmt(r.p99_run_ms), f"{r.p99_ratio:.3f} ({r.p99_ci_low:.3f}-{r.p99_ci_high:.3f}) {r.p99_verdict}"]
                for r in part.itertuples()]
        parts += [f"### `{other}` / `{labels[0]}`", "",
                  markdown_table(["Strategy", "Batching", "Mode", "Level", "reference p50 (ms)", "run p50 (ms)",
                                  "p50 ratio", "reference p99 (ms)", "run p99 (ms)", "p99 ratio"], rows)
                  if rows else "No load level was measured in both runs.", ""]
    return "\n".join(parts)


def write_load_compare(out_dir: Path, df: pd.DataFrame, float_format: str) -> None:
    """compare_load.csv in out_dir, where any load level was compared."""
    if not df.empty:
        df.to_csv(Path(out_dir) / LOAD_COMPARE_FILE, index=False, float_format=float_format, lineterminator="\n")
