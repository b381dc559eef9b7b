"""Markdown tables of tensor-parallel runs: a strategy at TP=N against the same model on one GPU (the ratio
of medians with its bootstrap interval), the TP floor, the other strategies, per-GPU memory; and what one
all-reduce cost. Which runs and which strategy leads is the caller's choice."""
from __future__ import annotations

import pandas as pd

from bench.reporting.compare import RunSamples, compare_runs
from bench.reporting.tables import fmt, markdown_table


def at(df: pd.DataFrame, strategy: str, n: int, column: str = "ttft_p50_ms") -> float:
    """One ok point's value (NaN where the strategy has no ok point at n)."""
    hit = df[(df.strategy == strategy) & (df.prompt_len == n) & (df.status == "ok")]
    return float(hit[column].iloc[0]) if len(hit) else float("nan")


def ranks_of(df: pd.DataFrame) -> int:
    """The tensor-parallel size a run's summary was measured at."""
    return int(df.tensor_parallel.dropna().iloc[0])


def cell(df: pd.DataFrame, strategy: str, n: int) -> str:
    """A median TTFT cell, marked ✗ where the point fails the correctness check; '-' where it has no ok point."""
    ok = df[(df.strategy == strategy) & (df.prompt_len == n) & (df.status == "ok")]
    if ok.empty:
        return "-"
    mark = "" if ok.matches_baseline.iloc[0] == True else " ✗"  # noqa: E712
    return f"{at(df, strategy, n):.2f}{mark}"


def over_one_gpu(tp: RunSamples, one: RunSamples, headline: str) -> pd.DataFrame:
    """The headline's ratio of medians TP=1 / TP=N per length with its bootstrap interval, indexed by length."""
    ratios = compare_runs([tp, one])
    return ratios[ratios.strategy == headline].set_index("prompt_len").sort_index()


def ratio_and_floor(df: pd.DataFrame, n: int, ratios: pd.DataFrame, headline: str) -> list[str]:
    """The TP run's cells of one length after its times: the ratio over TP=1 with its interval (from
    over_one_gpu; '-' where one of the two runs has no point there), floor, efficiency."""
    r = ratios.loc[n] if n in ratios.index else None
    compared = "-" if r is None else f"x{r.ratio:.2f} ({r.ci_low:.2f}-{r.ci_high:.2f})"
    return [compared, fmt(at(df, headline, n, "floor_ms")), fmt(at(df, headline, n, "efficiency"))]


def others(df: pd.DataFrame, headline: str, order: list[str]) -> list[str]:
    """The strategies of `order` the run measured, the headline left out."""
    return [s for s in order if s != headline and s in set(df.strategy)]


def scaling_table(one: pd.DataFrame, tp: pd.DataFrame, ratios: pd.DataFrame, headline: str,
                  order: list[str]) -> str:
    """Per length: the headline at TP=1 and TP=N, their ratio of medians with its interval, the TP=N floor and
    efficiency, the other strategies at both sizes and the headline's per-GPU peak memory at both."""
    ranks, rest = ranks_of(tp), others(tp, headline, order)
    header = (["Prompt Length", f"{headline} TP=1", f"{headline} TP={ranks}", "speed-up (95% interval)",
               f"TP={ranks} floor", "efficiency"] + [f"{s} TP=1 / TP={ranks}" for s in rest]
              + [f"peak GB per GPU TP=1 / TP={ranks}"])
    rows = []
    for n in sorted(tp.prompt_len.unique()):
        cells = [str(n), cell(one, headline, n), f"**{cell(tp, headline, n)}**"] + ratio_and_floor(tp, n, ratios,
                                                                                                    headline)
        cells += [f"{cell(one, s, n)} / {cell(tp, s, n)}" for s in rest]
        cells.append(" / ".join(fmt(at(frame, headline, n, "mem_peak_gb"), 1) for frame in (one, tp)))
        rows.append(cells)
    return markdown_table(header, rows)


def wider_table(one: pd.DataFrame, two: pd.DataFrame, four: pd.DataFrame, ratios: pd.DataFrame, headline: str,
                order: list[str]) -> str:
    """Per length: the headline at TP=1, at a middle size and at the widest, the widest's ratio of medians over
    TP=1 with its interval, its floor and efficiency, every other strategy and per-GPU memory at the widest."""
    ranks, rest = ranks_of(four), others(four, headline, order)
    header = (["Prompt Length", f"{headline} TP=1 / TP={ranks_of(two)} / TP={ranks}",
               f"TP={ranks} over TP=1 (95% interval)", f"TP={ranks} floor", "efficiency"]
              + [f"{s} TP={ranks}" for s in rest] + [f"peak GB per GPU TP={ranks}"])
    rows = []
    for n in sorted(four.prompt_len.unique()):
        times = f"{cell(one, headline, n)} / {cell(two, headline, n)} / **{cell(four, headline, n)}**"
        cells = [str(n), times] + ratio_and_floor(four, n, ratios, headline) + [cell(four, s, n) for s in rest]
        rows.append(cells + [fmt(at(four, headline, n, "mem_peak_gb"), 1)])
    return markdown_table(header, rows)


def floor_table(df: pd.DataFrame, headline: str, order: list[str]) -> str:
    """Per length: the TP floor and every measured strategy of `order`'s median TTFT."""
    strategies = [s for s in order if s in set(df.strategy)]
    rows = [[str(n), fmt(at(df, headline, n, "floor_ms"))] + [cell(df, s, n) for s in strategies]
            for n in sorted(df.prompt_len.unique())]
    return markdown_table(["Prompt Length", "TP floor"] + strategies, rows)


def allreduce_text(run: dict) -> str:
    """What one all-reduce of an [n, hidden] activation cost on the run's GPUs, and how it was timed."""
    ceilings = run["roofline"]["ceilings"]
    measured = ", ".join(f"{ms * 1e3:.0f} us at {n} tokens" for n, ms in ceilings["allreduce_ms"].items())
    how = ("inside a CUDA graph" if ceilings.get("allreduce_method") == "graph" else
           "one call at a time, an upper bound that counts the wait for the last rank's launch (left out of the floor)")
    return f"An all-reduce of one activation took {measured}, timed {how}; a forward makes two a layer."
