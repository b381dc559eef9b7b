"""What every plot shares: a strategy's colour, log axes labelled at any span, hollow markers for
unstable points, the legend beside the axes and byte-identical files."""
from __future__ import annotations

import math
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on benchmark machines
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter  # noqa: E402

# no Software/date metadata, so a regenerated PNG is byte-identical to the run's
PNG_METADATA = {"Software": None}
FIGSIZE = (8, 4.5)  # readable in a README at GitHub's column width, with the legend beside the axes
DPI = 110  # 880 x 495 pixels at FIGSIZE: sharp on GitHub without a heavy file
# one colour per strategy in every plot (matplotlib's tab10 colours); others get one from their name
STRATEGY_COLORS = {"baseline": "#7f7f7f", "cuda-graph": "#1f77b4", "jit-only": "#2ca02c", "jit+cuda": "#d62728",
                   "torch-compile": "#ff7f0e", "hf-generate": "#9467bd"}
SPARE_COLORS = ("#8c564b", "#e377c2", "#bcbd22", "#17becf")
# log-axis tick values per decade, sparsest first: the first set that puts MIN_TICKS in view is used
TICK_MANTISSAS = ((1,), (1, 2, 5), (1, 1.5, 2, 3, 5, 7), (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9))
MIN_TICKS = 4  # fewer labels leave a reader guessing values between them (3 looked sparse on a 4.5-inch axis)
MAX_TICKS = 8  # more crowd a 4.5-inch axis
UNSTABLE_LABEL = "unstable (std or min/max rule)"


def color(strategy: str) -> str:
    """The strategy's colour, the same in every plot and every run."""
    return STRATEGY_COLORS.get(strategy) or SPARE_COLORS[zlib.crc32(strategy.encode()) % len(SPARE_COLORS)]


def log_ticks(low: float, high: float) -> list[float]:
    """Round values to label a log axis from low to high: the sparsest 1-2-5 style set with at least
    MIN_TICKS in view (every k-th where even decades alone are too many); plain linear steps where
    the span is too narrow for any (a few percent)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    for mantissas in TICK_MANTISSAS:
        ticks = [v for e in range(first, last + 1) for m in mantissas if low <= (v := float(f"{m}e{e}")) <= high]
        if len(ticks) >= MIN_TICKS:
            return ticks[::math.ceil(len(ticks) / MAX_TICKS)]
    return [float(v) for v in MaxNLocator(nbins=MIN_TICKS + 1).tick_values(low, high) if low <= v <= high]


def log_y(ax) -> None:
    """A log y axis over the plotted data, labelled in plain numbers (6, not 6x10^0) at log_ticks."""
    log_axis(ax, "y")


def log_axis(ax, which: str) -> None:
    """log_y for the axis `which` ("x" or "y")."""
    getattr(ax, f"set_{which}scale")("log")
    low, high = getattr(ax, f"get_{which}lim")()
    getattr(ax, f"set_{which}lim")(low, high)  # the ticks are chosen for these limits: keep them
    axis = getattr(ax, f"{which}axis")
    axis.set_major_locator(FixedLocator(log_ticks(low, high)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def mark_unstable(ax, x, y, unstable, strategy: str) -> bool:
    """Hollow markers over the unstable points of a line; True if any was drawn."""
    x, y, unstable = list(x), list(y), [bool(u) for u in unstable]
    xs = [a for a, u in zip(x, unstable) if u]
    if xs:
        ax.plot(xs, [b for b, u in zip(y, unstable) if u], "o", markerfacecolor="white",
                markeredgecolor=color(strategy), zorder=4)  # over the line's filled markers
    return bool(xs)


def unstable_legend_entry() -> Line2D:
    """The legend's key for a hollow marker."""
    return Line2D([], [], marker="o", linestyle="", markerfacecolor="white", markeredgecolor="black",
                  label=UNSTABLE_LABEL)


def save(fig, ax, path: Path, extra_handles: list | None = None) -> None:
    """Legend beside the axes (never on the data), then a PNG without changing metadata."""
    handles = {}  # by label: a strategy drawn in two panels is one entry
    for handle in ax.get_legend_handles_labels()[0] + (extra_handles or []):
        handles.setdefault(handle.get_label(), handle)
    if handles:
        ax.legend(handles=list(handles.values()), loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata=PNG_METADATA)
    plt.close(fig)
