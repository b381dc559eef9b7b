"""Plots of a summary: TTFT with P99 whiskers, speed-up, memory, compile + capture time."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on benchmark machines
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

# no Software/date metadata, so a regenerated PNG is byte-identical to the run's
PNG_METADATA = {"Software": None}
FIGSIZE = (7, 4.5)  # readable in a README at GitHub's column width


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata=PNG_METADATA)
    plt.close(fig)


def _by_strategy(df: pd.DataFrame):
    ok = df[df.status == "ok"]
    return [(name, group.sort_values("prompt_len")) for name, group in ok.groupby("strategy", sort=False)]


def plot_ttft(df: pd.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for name, g in _by_strategy(df):
        upper = (g.ttft_p99_ms - g.ttft_p50_ms).clip(lower=0)
        ax.errorbar(g.prompt_len, g.ttft_p50_ms, yerr=[upper * 0, upper], marker="o", capsize=3, label=name)
    floor = df[["prompt_len", "floor_ms"]].dropna().drop_duplicates().sort_values("prompt_len")
    if len(floor):
        ax.plot(floor.prompt_len, floor.floor_ms, "k--", label="roofline floor")
    ax.set(xlabel="prompt length (tokens)", ylabel="TTFT p50 (ms), whisker to p99", title=title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_column(df: pd.DataFrame, column: str, ylabel: str, title: str, path: Path, log: bool = False) -> None:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for name, g in _by_strategy(df):
        g = g[g[column].notna()]
        if len(g):
            ax.plot(g.prompt_len, g[column], marker="o", label=name)
    ax.set(xlabel="prompt length (tokens)", ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    _save(fig, path)


def write_plots(df: pd.DataFrame, name: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    plot_ttft(df, f"{name}: time to first token", folder / "ttft.png")
    plot_column(df, "speedup_vs_baseline", "speed-up over baseline (p50)", f"{name}: speed-up", folder / "speedup.png")
    plot_column(df, "mem_peak_gb", "peak allocated (GB)", f"{name}: GPU memory", folder / "memory.png")
    prep = df.assign(prepare_ms=df[["jit_compile_ms", "graph_capture_ms"]].sum(axis=1, min_count=1))
    plot_column(prep, "prepare_ms", "JIT compile + graph capture (ms)", f"{name}: preparation time",
                folder / "prepare.png", log=True)
