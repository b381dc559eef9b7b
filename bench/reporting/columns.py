"""Every column of summary.csv, named once: where its value comes from and what it means.

The intervals are the stats module's hierarchical bootstrap over rounds (stats.METHOD) at stats.DEFAULT_LEVEL.
The summary builds its rows from this table and writes its columns in this order; the tables
read their labels from it. Adding a metric: a field on PointRecord (if the worker measures it),
a row here, and, for a derived one, its computation in summary.py.
"""
from __future__ import annotations

from dataclasses import dataclass

# where a column's value comes from
KEY = "key"  # identifies the row
POINT = "point"  # copied from the point's record in run.json
STRATEGY = "strategy"  # copied from the strategy's record in run.json
SAMPLES = "samples"  # a statistic of the point's timed requests in samples.csv
DERIVED = "derived"  # computed by the summary from other columns or the roofline


@dataclass(frozen=True)
class Column:
    name: str
    source: str
    meaning: str
    label: str = ""  # the table heading, where a table shows the column


COLUMNS = (
    Column("strategy", KEY, "strategy name"),
    Column("prompt_len", KEY, "prompt length in tokens", "Prompt Length"),
    Column("status", POINT, "ok, error or skipped"),
    Column("note", DERIVED, "the point's notes, then stability warnings"),
    Column("unstable", DERIVED, "a stability rule fired (std or min/max far from the mean)"),
    Column("n", SAMPLES, "timed requests"),
    Column("rounds", SAMPLES, "rounds the timed requests were spread over (measure.rounds; 1 before format 7)"),
    Column("ttft_mean_ms", SAMPLES, "mean TTFT"),
    Column("ttft_p50_ms", SAMPLES, "median TTFT", "TTFT (ms)"),
    Column("ttft_p50_ci_low_ms", SAMPLES, "median TTFT: low end of its 95% bootstrap interval", "p50 95% CI (ms)"),
    Column("ttft_p50_ci_high_ms", SAMPLES, "median TTFT: high end of its 95% bootstrap interval"),
    Column("ttft_p90_ms", SAMPLES, "90th percentile TTFT"),
    Column("ttft_p99_ms", SAMPLES, "99th percentile TTFT", "P99 (ms)"),
    Column("ttft_p99_ci_low_ms", SAMPLES, "p99 TTFT: low end of its 95% bootstrap interval", "P99 95% CI (ms)"),
    Column("ttft_p99_ci_high_ms", SAMPLES, "p99 TTFT: high end of its 95% bootstrap interval"),
    Column("ttft_min_ms", SAMPLES, "fastest request"),
    Column("ttft_max_ms", SAMPLES, "slowest request"),
    Column("ttft_std_ms", SAMPLES, "standard deviation of TTFT"),
    Column("cold_ttft_ms", POINT, "the first request after preparation, prompt 0"),
    Column("jit_compile_ms", POINT, "compile time for this length", "JIT Compile (ms)"),
    Column("graph_capture_ms", POINT, "graph capture time for this length", "Graph Capture (ms)"),
    Column("tensor_parallel", STRATEGY, "ranks (GPUs) the model was split over; 1: one device", "TP"),
    Column("setup_ms", STRATEGY, "the strategy's setup, once for all lengths"),
    Column("mem_weights_gb", POINT, "the model's parameters"),
    Column("mem_peak_gb", POINT, "peak allocated GPU memory during the point", "Memory (GB)"),
    Column("mem_reserved_gb", POINT, "GPU memory reserved by the allocator after the point"),
    Column("mem_graphs_gb", POINT, "memory held by the strategy's graphs"),
    Column("speedup_vs_baseline", DERIVED, "baseline p50 / this p50 at the same length"),
    Column("speedup_ci_low", DERIVED, "speed-up: low end of its 95% bootstrap interval (both points resampled by "
                                      "their rounds)"),
    Column("speedup_ci_high", DERIVED, "speed-up: high end of its 95% bootstrap interval"),
    Column("matches_baseline", POINT, "every judged prompt and every timed token agreed with the baseline"),
    Column("max_abs_logit_diff", POINT, "worst |logit - baseline logit| over the judged prompts"),
    Column("prompts_judged", POINT, "distinct prompts compared with the baseline's", "Prompts agreed"),
    Column("prompts_agreed", POINT, "of those, prompts whose token and logits agreed"),
    Column("near_ties", POINT, "judged prompts and timed requests whose token differed within a near tie"),
    Column("near_ties_limit", POINT, "the most near ties an honest strategy shows here (but once in 1000 points), "
                                     "from the baseline's values; more fail the point"),
    Column("timed_checked", POINT, "timed requests whose token was compared with the baseline's same request"),
    Column("timed_mismatches", POINT, "of those, tokens other than the baseline's and no near tie"),
    Column("server_ttft_p50_ms", SAMPLES, "transport ipc: the server's median TTFT"),
    Column("ipc_overhead_ms", DERIVED, "transport ipc: client p50 - server p50"),
    Column("floor_ms", DERIVED, "roofline floor (GPU runs)", "Floor (ms)"),
    Column("efficiency", DERIVED, "floor / TTFT p50", "Efficiency"),
)

SUMMARY_COLUMNS = [c.name for c in COLUMNS]
BY_NAME = {c.name: c for c in COLUMNS}
POINT_COLUMNS = [c.name for c in COLUMNS if c.source == POINT and c.name != "status"]
STRATEGY_COLUMNS = [c.name for c in COLUMNS if c.source == STRATEGY]


def label(name: str) -> str:
    """The table heading of a column."""
    return BY_NAME[name].label
