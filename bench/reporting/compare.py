"""Compare runs: per strategy and length, the ratio of median TTFTs with a bootstrap interval and a verdict.

    python -m bench compare results/a results/b [results/c ...] [--out DIR] [--level 0.95] [--fail-if-slower 5]

The first run is the reference: each later run is compared with it (ratio = later / first, so
above 1 is slower). Only points measured ("ok") in both runs are compared. Reads run.json and
samples.csv alone, like the report.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.reporting.dotted_keys import flatten
from bench.reporting.report import FLOAT_FORMAT, load_checked
from bench.reporting.stats import DEFAULT_LEVEL, METHOD, ratio_of_medians
from bench.reporting.tables import fmt, markdown_table

# the environment keys whose difference can explain a change of TTFT, in the order they are listed
ENVIRONMENT_KEYS = ("gpu", "driver", "cuda", "torch", "transformers", "python", "cpu", "git_commit", "git_dirty")
COMPARE_COLUMNS = ["reference", "run", "strategy", "prompt_len", "n_reference", "n_run", "p50_reference_ms",
                   "p50_run_ms", "ratio", "ci_low", "ci_high", "verdict"]


@dataclass(frozen=True)
class RunSamples:
    """A run folder's record and its timed requests in ms, per (strategy, prompt_len) of an ok point."""
    label: str
    run: dict
    samples: dict[tuple[str, int], np.ndarray]


def load_run_samples(folder: Path) -> RunSamples:
    """Read a run folder for comparison, checked as the report checks it (ConfigError naming the problem)."""
    folder = Path(folder)
    run, samples = load_checked(folder)
    ok = {(p["strategy"], p["prompt_len"]) for p in run["points"] if p["status"] == "ok"}
    by_point = {(s, int(n)): g["ttft_ns"].to_numpy(dtype=np.float64) / 1e6
                for (s, n), g in samples.groupby(["strategy", "prompt_len"]) if (s, int(n)) in ok}
    return RunSamples(str(folder), run, by_point)


def differences(runs: list[RunSamples]) -> list[tuple[str, list]]:
    """(key, value per run) for every environment key, then config key, whose values differ."""
    rows = [(key, [r.run["environment"].get(key) for r in runs]) for key in ENVIRONMENT_KEYS]
    configs = [flatten(r.run["config"]) for r in runs]
    keys = sorted(set().union(*configs))
    rows += [(f"config.{key}", [c.get(key) for c in configs]) for key in keys]
    return [(key, values) for key, values in rows if any(v != values[0] for v in values)]


def compare_runs(runs: list[RunSamples], level: float = DEFAULT_LEVEL) -> pd.DataFrame:
    """One row per later run, strategy and length measured in it and in the first run."""
    reference, rows = runs[0], []
    for other in runs[1:]:
        for key in [k for k in reference.samples if k in other.samples]:
            a, b = reference.samples[key], other.samples[key]
            est = ratio_of_medians(a, b, level=level)
            rows.append([reference.label, other.label, key[0], key[1], a.size, b.size, float(np.median(a)),
                         float(np.median(b)), est.ratio, est.low, est.high, est.verdict])
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def regressions(df: pd.DataFrame, percent: float) -> pd.DataFrame:
    """Rows significantly slower whose ratio exceeds 1 + percent / 100."""
    return df[(df.verdict == "slower") & (df.ratio > 1 + percent / 100)]


def _shown(value) -> str:
    return "-" if value is None else str(value)


def compare_markdown(runs: list[RunSamples], df: pd.DataFrame, level: float) -> str:
    """The comparison as Markdown: what differs between the runs first, then the ratios."""
    labels = [r.label for r in runs]
    parts = [f"# Comparison: {' vs '.join(f'`{x}`' for x in labels)}", "",
             f"Ratio = median TTFT of the run / median of `{labels[0]}` at the same strategy and length "
             f"(above 1: slower). Interval of the ratio at the {level:.0%} level: {METHOD}; the two runs are "
             "resampled independently. Verdict: slower or faster when the interval excludes 1, "
             "else no significant difference.", "", "## What differs between the runs", ""]
    diffs = differences(runs)
    if diffs:
        parts.append(markdown_table(["key"] + [f"`{x}`" for x in labels], [[k] + [_shown(v) for v in vs]
                                                                          for k, vs in diffs]))
    else:
        parts.append("Nothing: same environment (" + ", ".join(ENVIRONMENT_KEYS) + ") and config.")
    for other in runs[1:]:
        part = df[df.run == other.label]
        parts += ["", f"## `{other.label}` / `{labels[0]}`", ""]
        rows = [[r.strategy, str(r.prompt_len), fmt(r.p50_reference_ms), fmt(r.p50_run_ms), f"{r.ratio:.3f}",
                 f"{r.ci_low:.3f}-{r.ci_high:.3f}", r.verdict] for r in part.itertuples()]
        parts.append(markdown_table(["Strategy", "Prompt Length", "reference p50 (ms)", "run p50 (ms)", "ratio",
                                     f"{level:.0%} interval", "verdict"], rows) if rows
                     else "No strategy and length was measured in both runs.")
        missing: dict[str, list[int]] = {}
        for strategy, n in sorted(set(runs[0].samples) ^ set(other.samples)):
            missing.setdefault(strategy, []).append(n)
        if missing:
            parts += ["", "Measured in one run only (strategy: lengths): "
                      + "; ".join(f"{s}: {', '.join(map(str, ns))}" for s, ns in missing.items()) + "."]
    return "\n".join(parts) + "\n"


def write_compare(out_dir: Path, runs: list[RunSamples], df: pd.DataFrame, text: str) -> None:
    """compare.md, compare.csv and compare.png in out_dir."""
    from bench.reporting.plots import plot_ratios

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "compare.md").write_text(text)
    df.to_csv(out_dir / "compare.csv", index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    plot_ratios(df, [r.label for r in runs], out_dir / "compare.png")
