"""The load section of table.md: per strategy and batching setting a row per level, then the capacity
at the TTFT objective."""
from __future__ import annotations

import pandas as pd

from bench.reporting.stats import DEFAULT_LEVEL, METHOD
from bench.reporting.tables import fmt, interval, markdown_table


def level_cells(r) -> list[str]:
    """One level's row: TTFT p50 and p99 with their intervals, server and queueing time, throughput,
    goodput, batch size, and what went wrong."""
    flags = [r.status] if r.status != "ok" else []
    if not pd.isna(r.correct) and not r.correct:
        flags.append("✗ MISMATCH")
    elif r.near_ties:
        flags.append(f"{r.near_ties} near tie{'s' if r.near_ties > 1 else ''}")
    return [r.mode, f"{r.level:g}", "-" if pd.isna(r.requests) else str(r.requests),
            fmt(r.ttft_p50_ms), interval(r.ttft_p50_ci_low_ms, r.ttft_p50_ci_high_ms), fmt(r.ttft_p99_ms),
            interval(r.ttft_p99_ci_low_ms, r.ttft_p99_ci_high_ms), fmt(r.server_ttft_p50_ms), fmt(r.queue_p50_ms),
            fmt(r.throughput_rps, 1), fmt(r.goodput_rps, 1), fmt(r.batch_size_mean, 1), " ".join(flags) or "ok"]


def capacity_table(df: pd.DataFrame, slo_ms: float) -> str:
    """Per strategy, batching and mode: the highest level meeting the objective and its throughput."""
    rows = []
    for (strategy, batching, mode), g in df.groupby(["strategy", "batching", "mode"], sort=False):
        level = g.capacity_level.iloc[0]
        rows.append([strategy, batching, mode, "none" if pd.isna(level) else f"{level:g}",
                     fmt(g.capacity_rps.iloc[0], 1)])
    return markdown_table(["Strategy", "Batching", "Mode", f"Capacity at p99 <= {slo_ms:g} ms", "Throughput (req/s)"],
                          rows)


def load_markdown(df: pd.DataFrame, runs: list[dict], slo_ms: float, plotted: bool) -> str:
    """The load section (its levels, then the runs that measured none and why), or '' for a run without
    load runs."""
    if not runs:
        return ""
    header = ["Mode", "Level", "n", "TTFT p50 (ms)", "p50 95% CI", "TTFT p99 (ms)", "p99 95% CI", "Server (ms)",
              "Queue p50 (ms)", "Throughput (req/s)", f"Goodput <= {slo_ms:g} ms (req/s)", "Batch", "Status"]
    parts = ["", "## Under load", "",
             "Every strategy in a generator server; concurrency: that many clients, each sending its next request "
             "when its answer came; rate: requests sent at gamma-distributed times (shape load.burstiness; 1 is "
             "Poisson). TTFT is the client's, from a request's send to its answer; n counts the timed requests "
             "answered (warm-up left out). Every answer is judged against the baseline's token for its prompt. "
             f"Saturated: stopped by its backlog or time bound. CI: {DEFAULT_LEVEL:.0%} interval, {METHOD}.", ""]
    if plotted:
        parts += ["![TTFT against throughput](plots/load.png)", ""]
    for (strategy, batching), g in df.groupby(["strategy", "batching"], sort=False):
        parts += [f"### {strategy}, {batching}", "", markdown_table(header, [level_cells(r) for r in g.itertuples()]),
                  ""]
    if not df.empty:
        parts += ["### Capacity", "", capacity_table(df, slo_ms), ""]
    measured = set(zip(df.strategy, df.batching))
    unmeasured = [f"{r['strategy']} ({r['batching']}): {r.get('status')}: {r.get('note') or 'no reason given'}"
                  for r in runs if (r["strategy"], r["batching"]) not in measured]
    if unmeasured:
        parts += ["Not measured under load: " + "; ".join(unmeasured) + ".", ""]
    return "\n".join(parts)
