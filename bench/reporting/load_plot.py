"""The latency-throughput plot of a run's load results: plots/load.png."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from bench.reporting.plot_axes import FIGSIZE, color, log_axis, log_y, save

LOAD_LINESTYLES = ("-", "--", ":", "-.")  # one per batching setting, in the order they ran
LOAD_MARKERS = {"concurrency": "o", "rate": "s"}


def plot_load(df: pd.DataFrame, slo_ms: float, title: str, path: Path) -> bool:
    """p50 and p99 TTFT against achieved throughput, a line per strategy, batching setting and mode (colour:
    strategy, line: batching, marker: mode), both axes log; False (nothing written) without a measured level."""
    measured = df[df.throughput_rps.notna() & df.ttft_p50_ms.notna()]
    if measured.empty:
        return False
    styles = {b: LOAD_LINESTYLES[i % len(LOAD_LINESTYLES)] for i, b in enumerate(dict.fromkeys(df.batching))}
    fig, axes = plt.subplots(1, 2, figsize=(FIGSIZE[0] * 1.5, FIGSIZE[1]), sharey=True)
    for ax, column, name in zip(axes, ("ttft_p50_ms", "ttft_p99_ms"), ("p50", "p99")):
        for (strategy, batching, mode), g in measured.groupby(["strategy", "batching", "mode"], sort=False):
            g = g.sort_values("throughput_rps")
            ax.plot(g.throughput_rps, g[column], linestyle=styles[batching], marker=LOAD_MARKERS[mode],
                    color=color(strategy), label=f"{strategy}, {batching}, {mode}")
        ax.axhline(slo_ms, color="k", linestyle="--", linewidth=0.8, label=f"objective: {slo_ms:g} ms")
        log_axis(ax, "x")
        ax.set(xlabel="achieved throughput (requests/s, log scale)", title=f"TTFT {name}")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("client TTFT (ms, log scale)")
    log_y(axes[0])
    fig.suptitle(title, fontsize="medium")
    save(fig, axes[1], path)
    return True
