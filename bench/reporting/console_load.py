"""The console's verdict on a run's load scenario: per strategy, batching setting and mode, its capacity
at the TTFT objective, its median TTFT from the lowest level to the highest, its best throughput and
whether every answer agreed with the baseline's.

    print(load_verdict(load_df, slo_ms))   # load_df: load_summary.csv as build_load_summary writes it
"""
from __future__ import annotations

import pandas as pd

MODE_UNITS = {"concurrency": ("clients", "closed loop"), "rate": ("requests/s offered", "open loop")}


def load_verdict(df: pd.DataFrame, slo_ms: float) -> str:
    """The block's lines: a heading naming the objective, then one line per (strategy, batching, mode)."""
    lines = [f"under load (capacity: the highest level whose p99 TTFT meets {slo_ms:g} ms, every answer "
             f"agreeing with the baseline's):"]
    for (strategy, batching, mode), g in df.groupby(["strategy", "batching", "mode"], sort=False):
        lines.append(f"  {strategy} {batching}, {MODE_UNITS[mode][1]}: {group_text(g, mode)}")
    return "\n".join(lines)


def group_text(g: pd.DataFrame, mode: str) -> str:
    """One (strategy, batching, mode)'s line after its name."""
    unit = MODE_UNITS[mode][0]
    ran = g[g.status.isin(("ok", "saturated")) & g.requests.notna() & (g.requests > 0)]
    if ran.empty:
        return "no level measured (" + "; ".join(str(n) for n in g.note.dropna().unique()[:1]) + ")"
    capacity = g.capacity_level.dropna()
    cap = (f"capacity {capacity.iloc[0]:g} {unit} at {g.capacity_rps.dropna().iloc[0]:.1f} requests/s"
           if len(capacity) else "no level meets the objective")
    first, last = ran.iloc[0], ran.iloc[-1]
    p50 = (f"median TTFT {first.ttft_p50_ms:.2f} ms at {first.level:g} {unit}"
           + (f" to {last.ttft_p50_ms:.2f} ms at {last.level:g}" if len(ran) > 1 else ""))
    failed = g[g.correct.astype("boolean") == False]  # noqa: E712 (a missing value is no verdict)
    agreed = ("every answer agreed" if failed.empty else
              f"answers disagreed at {', '.join(f'{x:g}' for x in failed.level)} {unit}: FAILED")
    saturated = g[g.status == "saturated"]
    past = f"; saturated from {saturated.level.iloc[0]:g} {unit}" if len(saturated) else ""
    return f"{cap}; {p50}; up to {ran.throughput_rps.max():.1f} requests/s; {agreed}{past}"
