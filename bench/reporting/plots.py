"""Plots of a summary (TTFT with P99 whiskers, speed-up, memory, compile + capture time) and of a comparison.

Every strategy keeps one colour in every plot; times use a log axis, so a 6 ms graph replay stays
legible beside a 40 ms eager row; a plot without data is not written (write_plots says why).
"""
from __future__ import annotations

import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on benchmark machines
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

# no Software/date metadata, so a regenerated PNG is byte-identical to the run's
PNG_METADATA = {"Software": None}
FIGSIZE = (8, 4.5)  # readable in a README at GitHub's column width, with the legend beside the axes
# one colour per strategy in every plot (matplotlib's tab10 colours); others get one from their name
STRATEGY_COLORS = {"baseline": "#7f7f7f", "cuda-graph": "#1f77b4", "jit-only": "#2ca02c", "jit+cuda": "#d62728",
                   "torch-compile": "#ff7f0e", "hf-generate": "#9467bd"}
SPARE_COLORS = ("#8c564b", "#e377c2", "#bcbd22", "#17becf")


def color(strategy: str) -> str:
    """The strategy's colour, the same in every plot and every run."""
    return STRATEGY_COLORS.get(strategy) or SPARE_COLORS[zlib.crc32(strategy.encode()) % len(SPARE_COLORS)]


def _log_y(ax) -> None:
    """A log y axis labelled in plain numbers (6, not 6x10^0); minor ticks labelled where it spans
    under 1.5 decades, else they would crowd."""
    _log_axis(ax, "y")


def _log_axis(ax, which: str) -> None:
    """_log_y for the axis `which` ("x" or "y")."""
    getattr(ax, f"set_{which}scale")("log")
    low, high = getattr(ax, f"get_{which}lim")()
    axis = getattr(ax, f"{which}axis")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    axis.set_major_formatter(plain)
    axis.set_minor_formatter(plain if high / low < 10 ** 1.5 else NullFormatter())


def _save(fig, ax, path: Path) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")  # beside the data, never on it
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata=PNG_METADATA)
    plt.close(fig)


def _by_strategy(df: pd.DataFrame):
    ok = df[df.status == "ok"]
    return [(name, group.sort_values("prompt_len")) for name, group in ok.groupby("strategy", sort=False)]


def plot_title(run: dict, df: pd.DataFrame) -> str:
    """'<name>: <GPU>, <model>, <dtype>, n=<n>' (the CPU where no GPU ran)."""
    env, model = run["environment"], run["config"].get("model", {})
    where = env.get("gpu") or env.get("device", {}).get("device_name") or env.get("cpu") or "unknown device"
    source = model.get("preset") or Path(str(model.get("config") or model.get("name_or_path"))).name
    ns = sorted({int(n) for n in df["n"].dropna()})
    n = "-" if not ns else str(ns[0]) if len(ns) == 1 else f"{ns[0]}-{ns[-1]}"
    return f"{run['name']}: {where}, {source}, {model.get('dtype', 'float16')}, n={n}"


def plot_ttft(df: pd.DataFrame, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for name, g in _by_strategy(df):
        upper = (g.ttft_p99_ms - g.ttft_p50_ms).clip(lower=0)
        ax.errorbar(g.prompt_len, g.ttft_p50_ms, yerr=[upper * 0, upper], marker="o", capsize=3, label=name,
                    color=color(name))
    floor = df[["prompt_len", "floor_ms"]].dropna().drop_duplicates().sort_values("prompt_len")
    if len(floor):
        ax.plot(floor.prompt_len, floor.floor_ms, "k--", label="roofline floor (no strategy can beat it)")
        last = floor.iloc[-1]
        ax.annotate("floor", (last.prompt_len, last.floor_ms), textcoords="offset points", xytext=(4, -10))
    ax.set(xlabel="prompt length (tokens)", ylabel="TTFT p50 (ms, log scale), whisker to p99")
    fig.suptitle(title, fontsize="medium")  # over the whole figure: the legend beside the axes narrows them
    _log_y(ax)
    ax.grid(alpha=0.3, which="both")
    _save(fig, ax, path)


def plot_column(df: pd.DataFrame, column: str, ylabel: str, title: str, path: Path, log: bool = False) -> bool:
    """A line per strategy of `column` over length; False (nothing written) when no row has a value."""
    lines = [(name, g[g[column].notna()]) for name, g in _by_strategy(df)]
    lines = [(name, g) for name, g in lines if len(g)]
    if not lines:
        return False
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for name, g in lines:
        ax.plot(g.prompt_len, g[column], marker="o", label=name, color=color(name))
    ax.set(xlabel="prompt length (tokens)", ylabel=ylabel)
    fig.suptitle(title, fontsize="medium")
    if log:
        _log_y(ax)
    ax.grid(alpha=0.3, which="both")
    _save(fig, ax, path)
    return True


def write_plots(df: pd.DataFrame, run: dict, folder: Path) -> dict[str, str]:
    """Write the run's plots; returns {file: why it was not written} for plots without data."""
    folder.mkdir(parents=True, exist_ok=True)
    title = plot_title(run, df)
    prep = df.assign(prepare_ms=df[["jit_compile_ms", "graph_capture_ms"]].sum(axis=1, min_count=1))
    plots = {
        "speedup.png": (df, "speedup_vs_baseline", "speed-up over baseline (p50, log scale)", True,
                        "no strategy has a speed-up (no baseline row measured)"),
        "memory.png": (df, "mem_peak_gb", "peak allocated GPU memory (GB)", False,
                       "no point measured GPU memory: a CPU run, or transport: ipc, where the server holds it"),
        "prepare.png": (prep, "prepare_ms", "JIT compile + graph capture (ms, log scale)", True,
                        "no strategy compiled or captured anything"),
    }
    not_drawn = {}
    if (df.status == "ok").any():
        plot_ttft(df, title, folder / "ttft.png")
    else:
        not_drawn["ttft.png"] = "no point was measured"
    for file, (data, column, ylabel, log, reason) in plots.items():
        if not plot_column(data, column, ylabel, title, folder / file, log=log):
            not_drawn[file] = reason
    for file in not_drawn:
        (folder / file).unlink(missing_ok=True)  # a plot from an earlier report must not outlive its data
    return not_drawn


def plot_ratios(df: pd.DataFrame, labels: list[str], path: Path) -> None:
    """Per later run, the ratio of medians per strategy over length with its interval; 1 is no change."""
    others = labels[1:]
    fig, axes = plt.subplots(len(others), 1, figsize=(FIGSIZE[0], 3.2 * len(others)), squeeze=False)
    for ax, other in zip(axes[:, 0], others):
        part = df[df.run == other]
        for name, g in part.groupby("strategy", sort=False):
            g = g.sort_values("prompt_len")
            ax.errorbar(g.prompt_len, g.ratio, yerr=[g.ratio - g.ci_low, g.ci_high - g.ratio], marker="o",
                        capsize=3, label=name, color=color(name))
        ax.axhline(1.0, color="k", linestyle="--", label="no change")
        ax.set(xlabel="prompt length (tokens)", ylabel="median TTFT ratio", title=f"{other} / {labels[0]}")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata=PNG_METADATA)
    plt.close(fig)


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
        _log_axis(ax, "x")
        ax.set(xlabel="achieved throughput (requests/s, log scale)", title=f"TTFT {name}")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("client TTFT (ms, log scale)")
    _log_y(axes[0])
    fig.suptitle(title, fontsize="medium")
    _save(fig, axes[1], path)
    return True
