"""The summary as Markdown: the design document's per-strategy table, then one comparison table."""
from __future__ import annotations

import math

import pandas as pd


def fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    return f"{value:.{digits}f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def strategy_table(df: pd.DataFrame) -> str:
    """Prompt Length | TTFT (ms) | P99 (ms) | JIT Compile (ms) | Graph Capture (ms) | Memory (GB), + Average."""
    header = ["Prompt Length", "TTFT (ms)", "P99 (ms)", "JIT Compile (ms)", "Graph Capture (ms)", "Memory (GB)"]
    rows = []
    for r in df.itertuples():
        if r.status != "ok":
            rows.append([f"{r.prompt_len} tokens", f"{r.status}: {r.note}", "", "", "", ""])
            continue
        rows.append([f"{r.prompt_len} tokens", fmt(r.ttft_p50_ms), fmt(r.ttft_p99_ms), fmt(r.jit_compile_ms, 1),
                     fmt(r.graph_capture_ms, 1), fmt(r.mem_peak_gb)])
    ok = df[df.status == "ok"]
    if len(ok):
        mean = ok[["ttft_p50_ms", "ttft_p99_ms", "jit_compile_ms", "graph_capture_ms", "mem_peak_gb"]].mean()
        rows.append(["**Average**"] + [f"**{fmt(mean[c], d)}**" for c, d in
                     [("ttft_p50_ms", 2), ("ttft_p99_ms", 2), ("jit_compile_ms", 1), ("graph_capture_ms", 1),
                      ("mem_peak_gb", 2)]])
    return markdown_table(header, rows)


def comparison_table(df: pd.DataFrame) -> str:
    """Median TTFT per strategy and length, with the speed-up over baseline and the correctness mark."""
    strategies = list(dict.fromkeys(df.strategy))
    header = ["Prompt Length"] + strategies
    rows = []
    for n in sorted(df.prompt_len.unique()):
        row = [str(n)]
        for s in strategies:
            hit = df[(df.strategy == s) & (df.prompt_len == n)]
            if hit.empty:
                row.append("")
                continue
            r = hit.iloc[0]
            if r.status != "ok":
                row.append(r.status)
                continue
            mark = "" if r.matches_baseline is True or r.matches_baseline == 1 else " ✗ MISMATCH"
            row.append(f"{fmt(r.ttft_p50_ms)} (×{fmt(r.speedup_vs_baseline)}){mark}")
        rows.append(row)
    return markdown_table(header, rows)


def ipc_table(df: pd.DataFrame) -> str:
    """Client TTFT beside the server's, and their difference: what the socket round trip costs."""
    ipc = df[df.server_ttft_p50_ms.notna()]
    rows = [[r.strategy, str(r.prompt_len), fmt(r.ttft_p50_ms), fmt(r.server_ttft_p50_ms), fmt(r.ipc_overhead_ms, 3)]
            for r in ipc.itertuples()]
    return markdown_table(["Strategy", "Prompt Length", "Client TTFT p50 (ms)", "Server TTFT p50 (ms)",
                           "IPC overhead (ms)"], rows)


def environment_line(run: dict) -> str:
    env = run["environment"]
    device = env.get("device", {})
    where = device.get("device_name") or env.get("cpu")
    commit = (env.get("git_commit") or "unknown")[:10] + (" (dirty)" if env.get("git_dirty") else "")
    return (f"{where}, driver {env.get('driver') or '-'}, torch {env['torch']}, transformers {env['transformers']}, "
            f"Python {env['python']}, commit {commit}, started {run['started']}, status {run['status']}")


def report_markdown(run: dict, df: pd.DataFrame) -> str:
    model = run["config"].get("model", {})
    source = model.get("preset") or model.get("config") or model.get("name_or_path")
    parts = [f"# {run['name']}", "",
             f"Model: `{source}`, {model.get('dtype', 'float16')}, batch 1. {environment_line(run)}.", "",
             "TTFT (ms) is the median (p50) of n timed requests, host wall clock from token ids on the host "
             "to the first token id on the host. Memory is peak allocated GPU memory during the length's measurement.",
             ""]
    for strategy, group in df.groupby("strategy", sort=False):
        ns = group["n"].dropna().unique()
        parts += [f"## {strategy}" + (f" (n = {', '.join(map(str, ns))})" if len(ns) else ""), "",
                  strategy_table(group), ""]
    parts += ["## Comparison: median TTFT in ms (speed-up over baseline)", "", comparison_table(df), ""]
    if df.server_ttft_p50_ms.notna().any():
        parts += ["## Two-process mode (transport: ipc)", "",
                  "TTFT above is the client's; the server's TTFT is measured around the strategy's first_token.", "",
                  ipc_table(df), ""]
    return "\n".join(parts)
