"""Raw records (run.json points + samples.csv) -> one summary row per strategy and length."""
from __future__ import annotations

import pandas as pd

from bench.measuring.floor import floor_ms
from bench.reporting.stats import stability_warnings, summarize

SUMMARY_COLUMNS = [
    "strategy", "prompt_len", "status", "note", "n",
    "ttft_mean_ms", "ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms", "ttft_min_ms", "ttft_max_ms", "ttft_std_ms",
    "cold_ttft_ms", "jit_compile_ms", "graph_capture_ms", "setup_ms",
    "mem_weights_gb", "mem_peak_gb", "mem_reserved_gb", "mem_graphs_gb",
    "speedup_vs_baseline", "matches_baseline", "max_abs_logit_diff",
    "server_ttft_p50_ms", "ipc_overhead_ms",  # transport: ipc only; overhead = client p50 - server p50
    "floor_ms", "efficiency",  # roofline floor (GPU runs) and floor / TTFT p50
]
COPIED = ["cold_ttft_ms", "jit_compile_ms", "graph_capture_ms", "mem_weights_gb", "mem_peak_gb",
          "mem_reserved_gb", "mem_graphs_gb", "matches_baseline", "max_abs_logit_diff"]
BASELINE = "baseline"


def summary_row(point: dict, strategy_info: dict, samples_ns, server_ns) -> dict:
    row = {"strategy": point["strategy"], "prompt_len": point["prompt_len"], "status": point["status"]}
    notes = [point.get("note") or ""]
    if point["status"] == "ok":
        s = summarize([ns / 1e6 for ns in samples_ns])
        row.update(n=s.n, ttft_mean_ms=s.mean, ttft_p50_ms=s.p50, ttft_p90_ms=s.p90, ttft_p99_ms=s.p99,
                   ttft_min_ms=s.min, ttft_max_ms=s.max, ttft_std_ms=s.std)
        row.update({key: point.get(key) for key in COPIED})
        row["setup_ms"] = strategy_info.get("setup_ms")
        if server_ns:
            row["server_ttft_p50_ms"] = summarize([ns / 1e6 for ns in server_ns]).p50
            row["ipc_overhead_ms"] = s.p50 - row["server_ttft_p50_ms"]
        notes += stability_warnings(s)
    row["note"] = "; ".join(dict.fromkeys(n for n in notes if n))  # dedupe, keep order
    return row


def build_summary(run: dict, samples: pd.DataFrame) -> pd.DataFrame:
    """The summary table, rows in the run's strategy order and ascending length."""
    if "server_ttft_ns" not in samples:
        samples = samples.assign(server_ttft_ns=float("nan"))  # format v1
    groups = {key: g for key, g in samples.groupby(["strategy", "prompt_len"])}
    rows = []
    for p in run["points"]:
        g = groups.get((p["strategy"], p["prompt_len"]))
        client = [] if g is None else g["ttft_ns"].tolist()
        server = [] if g is None else g["server_ttft_ns"].dropna().tolist()
        rows.append(summary_row(p, run["strategies"].get(p["strategy"], {}), client, server))
    df = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    order = list(dict.fromkeys(p["strategy"] for p in run["points"]))
    df["_order"] = df["strategy"].map(order.index)
    df = df.sort_values(["_order", "prompt_len"], kind="stable").drop(columns="_order").reset_index(drop=True)
    base = df[(df.strategy == BASELINE) & (df.status == "ok")].set_index("prompt_len")["ttft_p50_ms"]
    df["speedup_vs_baseline"] = df["prompt_len"].map(base) / df["ttft_p50_ms"]
    df["n"] = df["n"].astype("Int64")
    roofline = run.get("roofline", {})
    if "ceilings" in roofline:
        floors = {n: floor_ms(roofline["model"], roofline["ceilings"], n) for n in df.prompt_len.unique()}
        df["floor_ms"] = df.prompt_len.map(floors)
        df["efficiency"] = df.floor_ms / df.ttft_p50_ms
    return df
