"""Plots of a summary (TTFT with P99 whiskers, speed-up, memory, compile and capture per length, ready
time) and of a comparison.

Every strategy keeps one colour in every plot; times use a log axis, labelled at any span, so a 6 ms
graph replay stays legible beside a 40 ms eager row; memory sits on a zero-based axis, so 2% looks
like 2%; an unstable point is a hollow marker; a plot without data is not written (write_plots says why).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.reporting.plot_axes import (DPI, FIGSIZE, PNG_METADATA, color, log_y, mark_unstable, plt, save,
                                      unstable_legend_entry)
from bench.reporting.records import StrategyRecord

__all__ = ["PLOT_FILES", "color", "plot_ratios", "plot_title", "write_plots"]
# the harness prepares the largest length first (bench/targets/loading.py prepare_all): its compile is
# the whole compile and its capture the first, so that point carries the one-off costs
ONE_OFF_LABEL = "largest length, prepared first: one-off costs"


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
    unstable = False
    for name, g in _by_strategy(df):
        upper = (g.ttft_p99_ms - g.ttft_p50_ms).clip(lower=0)
        ax.errorbar(g.prompt_len, g.ttft_p50_ms, yerr=[upper * 0, upper], marker="o", capsize=3, label=name,
                    color=color(name))
        unstable |= mark_unstable(ax, g.prompt_len, g.ttft_p50_ms, g.unstable, name)
    floor = df[["prompt_len", "floor_ms"]].dropna().drop_duplicates().sort_values("prompt_len")
    if len(floor):
        ax.plot(floor.prompt_len, floor.floor_ms, "k--", label="roofline floor (no strategy can beat it)")
        last = floor.iloc[-1]
        ax.annotate("floor", (last.prompt_len, last.floor_ms), textcoords="offset points", xytext=(4, -10))
    ax.set(xlabel="prompt length (tokens)", ylabel="TTFT p50 (ms, log scale), whisker to p99")
    fig.suptitle(title, fontsize="medium")  # over the whole figure: the legend beside the axes narrows them
    log_y(ax)
    ax.grid(alpha=0.3, which="both")
    save(fig, ax, path, [unstable_legend_entry()] if unstable else [])


def plot_speedup(df: pd.DataFrame, title: str, path: Path) -> bool:
    """Speed-up over the baseline per strategy and length; False (nothing written) without a baseline."""
    lines = [(name, g[g.speedup_vs_baseline.notna()]) for name, g in _by_strategy(df)]
    lines = [(name, g) for name, g in lines if len(g)]
    if not lines:
        return False
    fig, ax = plt.subplots(figsize=FIGSIZE)
    unstable = False
    for name, g in lines:
        ax.plot(g.prompt_len, g.speedup_vs_baseline, marker="o", label=name, color=color(name))
        unstable |= mark_unstable(ax, g.prompt_len, g.speedup_vs_baseline, g.unstable, name)
    ax.set(xlabel="prompt length (tokens)", ylabel="speed-up over baseline (p50, log scale)")
    fig.suptitle(title, fontsize="medium")
    log_y(ax)
    ax.grid(alpha=0.3, which="both")
    save(fig, ax, path, [unstable_legend_entry()] if unstable else [])
    return True


def plot_memory(df: pd.DataFrame, title: str, path: Path) -> bool:
    """Peak GPU memory per strategy and length on a zero-based axis, the weights' size as a line, and
    below it what each point held beyond the weights (activations, graphs), zero-based too; False
    (nothing written) when no point measured GPU memory."""
    lines = [(name, g[g.mem_peak_gb.notna()]) for name, g in _by_strategy(df)]
    lines = [(name, g) for name, g in lines if len(g)]
    if not lines:
        return False
    fig, (total, above) = plt.subplots(2, 1, figsize=(FIGSIZE[0], FIGSIZE[1] * 1.5), sharex=True)
    for name, g in lines:
        total.plot(g.prompt_len, g.mem_peak_gb, marker="o", label=name, color=color(name))
        above.plot(g.prompt_len, g.mem_peak_gb - g.mem_weights_gb, marker="o", color=color(name))
    weights = df.mem_weights_gb.dropna()
    if len(weights):
        total.axhline(weights.max(), color="k", linestyle="--", label=f"model weights ({weights.max():.2f} GB)")
    for ax in (total, above):
        ax.set_ylim(bottom=0)  # a difference of a few percent looks like a few percent
        ax.grid(alpha=0.3)
    total.set(ylabel="peak allocated GPU memory (GB)")
    above.set(xlabel="prompt length (tokens)", ylabel="of which beyond the weights (GB)")
    fig.suptitle(title, fontsize="medium")
    save(fig, total, path)
    return True


def plot_prepare(df: pd.DataFrame, title: str, path: Path) -> bool:
    """Compile time and capture time per length as measured, one panel each, the largest length's
    point (prepared first: the whole compile, the first capture) a star off the line; False (nothing
    written) when no strategy compiled or captured."""
    panels = [(column, label) for column, label in (("jit_compile_ms", "JIT compile (ms, log scale)"),
                                                    ("graph_capture_ms", "graph capture (ms, log scale)"))
              if df[column].notna().any()]
    if not panels:
        return False
    fig, axes = plt.subplots(len(panels), 1, figsize=(FIGSIZE[0], FIGSIZE[1] * (1 + len(panels)) / 2),
                             sharex=True, squeeze=False)
    for ax, (column, label) in zip(axes[:, 0], panels):
        for name, g in _by_strategy(df):
            g = g[g[column].notna()]
            if not len(g):
                continue
            first, rest = g.iloc[-1], g.iloc[:-1]
            ax.plot(rest.prompt_len, rest[column], marker="o", label=name, color=color(name))
            ax.plot([first.prompt_len], [first[column]], marker="*", markersize=13, linestyle="", color=color(name),
                    label=None if len(rest) else name)
        ax.set(ylabel=label)
        log_y(ax)
        ax.grid(alpha=0.3, which="both")
    axes[-1, 0].set(xlabel="prompt length (tokens)")
    fig.suptitle(title, fontsize="medium")
    one_off = plt.Line2D([], [], marker="*", markersize=11, linestyle="", color="black", label=ONE_OFF_LABEL)
    below = [h for ax in axes[1:, 0] for h in ax.get_legend_handles_labels()[0]]  # one legend for both panels
    save(fig, axes[0, 0], path, below + [one_off])
    return True


def plot_ready(run: dict, title: str, path: Path) -> bool:
    """Per strategy, seconds from its process start until every length is ready, and after a restart
    that found its compile caches; False (nothing written) when no strategy reported one."""
    infos = [(name, StrategyRecord.from_dict(raw)) for name, raw in run["strategies"].items()]
    infos = [(name, s) for name, s in infos if s.ready_s is not None]
    if not infos:
        return False
    fig, ax = plt.subplots(figsize=(FIGSIZE[0], max(2.5, 0.55 * len(infos) + 1.5)))  # a bar pair per strategy
    height = 0.38  # two bars and a gap per strategy
    for i, (name, s) in enumerate(infos):
        ax.barh(i - height / 2, s.ready_s, height, color=color(name))
        ax.annotate(f"{s.ready_s:.1f} s", (s.ready_s, i - height / 2), textcoords="offset points", xytext=(3, -3),
                    fontsize="small")
        if s.restart_ready_s is not None:
            ax.barh(i + height / 2, s.restart_ready_s, height, color=color(name), alpha=0.45, hatch="//")
            ax.annotate(f"{s.restart_ready_s:.1f} s", (s.restart_ready_s, i + height / 2), textcoords="offset points",
                        xytext=(3, -3), fontsize="small")
    ax.set_yticks(range(len(infos)), [name for name, _ in infos])
    ax.invert_yaxis()  # the run's order, top to bottom
    ax.set_xlim(0, max(max(s.ready_s, s.restart_ready_s or 0) for _, s in infos) * 1.15)  # room for the labels
    ax.set(xlabel="seconds from the strategy's process start until every length is prepared")
    fig.suptitle(title, fontsize="medium")
    ax.grid(alpha=0.3, axis="x")
    keys = [plt.Rectangle((0, 0), 1, 1, color="gray", label="first start (empty compile caches)")]
    if any(s.restart_ready_s is not None for _, s in infos):
        keys.append(plt.Rectangle((0, 0), 1, 1, color="gray", alpha=0.45, hatch="//",
                                  label="restart (the compile caches it left)"))
    save(fig, ax, path, keys)
    return True


TTFT_PLOT = "ttft.png"
PLOT_FILES = (TTFT_PLOT, "speedup.png", "memory.png", "prepare.png", "ready.png")  # all write_plots may write


def write_plots(df: pd.DataFrame, run: dict, folder: Path) -> dict[str, str]:
    """Write the run's plots; returns {file: why it was not written} for plots without data."""
    folder.mkdir(parents=True, exist_ok=True)
    title = plot_title(run, df)
    not_drawn = {}
    if (df.status == "ok").any():
        plot_ttft(df, title, folder / TTFT_PLOT)
    else:
        not_drawn[TTFT_PLOT] = "no point was measured"
    plots = {
        "speedup.png": (lambda path: plot_speedup(df, title, path), "no strategy has a speed-up (no baseline row "
                                                                    "measured)"),
        "memory.png": (lambda path: plot_memory(df, title, path), "no point measured GPU memory: a CPU run, or "
                                                                  "transport: ipc, where the server holds it"),
        "prepare.png": (lambda path: plot_prepare(df, title, path), "no strategy compiled or captured anything"),
        "ready.png": (lambda path: plot_ready(run, title, path), "no strategy reported a ready time"),
    }
    for file, (draw, reason) in plots.items():
        if not draw(folder / file):
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
    fig.savefig(path, dpi=DPI, metadata=PNG_METADATA)
    plt.close(fig)
