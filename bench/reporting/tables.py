"""The summary as Markdown: a table per strategy, then the comparison, cold-start, roofline and ipc tables."""
from __future__ import annotations

import math

import pandas as pd

from bench.reporting.columns import label
from bench.reporting.dotted_keys import change_text
from bench.reporting.records import StrategyRecord
from bench.reporting.run_fields import ENVIRONMENT_CHANGES
from bench.reporting.stats import DEFAULT_LEVEL, METHOD
from bench.reporting.verdict import stability_line


def fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "-"
    return f"{value:.{digits}f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def agreement(judged, agreed, near_ties) -> str:
    """'8/8', '8/8 (1 near tie)', or '-' where no prompt was judged."""
    if judged is None or judged is pd.NA or (isinstance(judged, float) and math.isnan(judged)):
        return "-"
    ties = 0 if near_ties is None or near_ties is pd.NA else near_ties  # unset where a point was judged otherwise
    return f"{agreed}/{judged}" + (f" ({ties} near tie{'s' if ties > 1 else ''})" if ties else "")


def interval(low, high, digits: int = 2) -> str:
    """'5.85-5.91', or '-' where there is no interval."""
    return "-" if fmt(low) == "-" else f"{fmt(low, digits)}-{fmt(high, digits)}"


def strategy_table(df: pd.DataFrame) -> str:
    """Per length: TTFT p50 and p99 with their intervals, compile, capture, memory, floor; then an
    Average row (TTFT p50 and memory: the columns whose mean means something) and a Total row
    (compile and capture time: what preparing every length cost)."""
    columns = [("ttft_p50_ms", 2), ("ttft_p50_ci_low_ms", 2), ("ttft_p99_ms", 2), ("ttft_p99_ci_low_ms", 2),
               ("jit_compile_ms", 1), ("graph_capture_ms", 1), ("mem_peak_gb", 2), ("floor_ms", 2),
               ("efficiency", 2)]
    header = [label("prompt_len")] + [label(c) for c, _ in columns] + [label("prompts_judged")]
    rows = []
    for r in df.itertuples():
        if r.status != "ok":
            rows.append([f"{r.prompt_len} tokens", f"{r.status}: {r.note}"] + [""] * len(columns))
            continue
        cells = {c: fmt(getattr(r, c), d) for c, d in columns}
        cells["ttft_p50_ci_low_ms"] = interval(r.ttft_p50_ci_low_ms, r.ttft_p50_ci_high_ms)
        cells["ttft_p99_ci_low_ms"] = interval(r.ttft_p99_ci_low_ms, r.ttft_p99_ci_high_ms)
        rows.append([f"{r.prompt_len} tokens"] + [cells[c] for c, _ in columns]
                    + [agreement(r.prompts_judged, r.prompts_agreed, r.near_ties)])
    ok = df[df.status == "ok"]
    if len(ok):
        summary_rows = (("**Average**", "mean", ("ttft_p50_ms", "mem_peak_gb")),
                        ("**Total**", "sum", ("jit_compile_ms", "graph_capture_ms")))
        for name, how, keep in summary_rows:
            values = ok[list(keep)].agg(how, min_count=1) if how == "sum" else ok[list(keep)].agg(how)
            rows.append([name] + [f"**{fmt(values[c], d)}**" if c in keep else "" for c, d in columns] + [""])
    return markdown_table(header, rows)


def same_token(info: StrategyRecord) -> str:
    """The cold-start table's verdict: a near tie is said as such, never as a plain yes."""
    if info.unseen_matches_baseline is None:
        return "-"
    if not info.unseen_matches_baseline:
        return "NO"
    return "near tie" if info.unseen_near_tie else "yes"


def restart_cells(s: StrategyRecord) -> list[str]:
    """The restart's ready time and its prompts agreed/judged ('-' where no restart ran)."""
    if s.restart_status in ("running", "error"):
        return [fmt(s.restart_ready_s, 1), "failed"]
    if s.restart_ready_s is None:
        return ["-", "-"]
    agreed = f"{s.restart_prompts_agreed}/{s.restart_prompts_judged}"
    return [fmt(s.restart_ready_s, 1), agreed if s.restart_prompts_agreed == s.restart_prompts_judged
            else f"{agreed} ✗ MISMATCH"]


def cold_start_table(run: dict) -> str:
    """Per strategy: setup, time from process start until every length is ready (cold compile caches,
    then a restart that finds them), an unseen length's TTFT."""
    rows = []
    for name, raw in run["strategies"].items():
        s = StrategyRecord.from_dict(raw)
        if s.status != "ok":
            continue
        rows.append([name, fmt(s.setup_ms, 1), fmt(s.ready_s, 1), "-" if s.unseen_len is None else str(s.unseen_len),
                     fmt(s.unseen_ttft_ms, 1) if s.unseen_ttft_ms is not None else s.unseen_note or "-",
                     same_token(s), *restart_cells(s)])
    return markdown_table(["Strategy", "Setup (ms)", "Ready (s)", "Unseen length", "Unseen-length TTFT (ms)",
                           "Same token as baseline", "Ready after restart (s)", "Restart: prompts agreed"], rows)


def correctness_mark(r) -> str:
    """'' when every prompt agreed exactly, ' (near tie)' when a near tie was accepted, else a mismatch."""
    if not (r.matches_baseline is True or r.matches_baseline == 1):
        return " ✗ MISMATCH"
    return " (near tie)" if r.near_ties is not pd.NA and r.near_ties else ""


def comparison_table(df: pd.DataFrame) -> str:
    """Median TTFT per strategy and length, with the speed-up over baseline and the correctness mark."""
    strategies = list(dict.fromkeys(df.strategy))
    header = [label("prompt_len")] + strategies
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
            row.append(f"{fmt(r.ttft_p50_ms)} (×{fmt(r.speedup_vs_baseline)}){correctness_mark(r)}")
        rows.append(row)
    return markdown_table(header, rows)


def ipc_table(df: pd.DataFrame) -> str:
    """Client TTFT beside the server's, and their difference: what the socket round trip costs."""
    ipc = df[df.server_ttft_p50_ms.notna()]
    rows = [[r.strategy, str(r.prompt_len), fmt(r.ttft_p50_ms), fmt(r.server_ttft_p50_ms), fmt(r.ipc_overhead_ms, 3)]
            for r in ipc.itertuples()]
    return markdown_table(["Strategy", "Prompt Length", "Client TTFT p50 (ms)", "Server TTFT p50 (ms)",
                           "IPC overhead (ms)"], rows)


def roofline_line(run: dict) -> str:
    roofline = run.get("roofline", {})
    if "ceilings" not in roofline:
        return roofline.get("note", "roofline: not measured in this run")
    c = roofline["ceilings"]
    return (f"Measured in this run: device copy {c['copy_bytes_per_s'] / 1e12:.2f} TB/s (read + write), "
            f"{c['dtype']} matmul {c['matmul_flops_per_s'] / 1e12:.0f} TFLOP/s. Floor = max(non-embedding weight "
            f"bytes / copy bandwidth, FLOPs / matmul rate); efficiency = floor / TTFT p50." + tp_sentence(c))


def tp_sentence(ceilings: dict) -> str:
    """The tensor-parallel part of the floor: the all-reduces measured on the run's GPUs."""
    ranks = ceilings.get("tensor_parallel", 1)
    if ranks == 1:
        return ""
    measured = ", ".join(f"{n} tokens {ms * 1e3:.0f} us" for n, ms in ceilings["allreduce_ms"].items())
    if ceilings.get("allreduce_method") == "graph":
        return (f" Tensor parallel over {ranks} GPUs: per-GPU weight bytes and FLOPs, plus 2 all-reduces a layer "
                f"of one [n, hidden] activation (measured inside a CUDA graph: {measured}).")
    return (f" Tensor parallel over {ranks} GPUs: per-GPU weight bytes and FLOPs. The all-reduces of one [n, "
            f"hidden] activation were timed one call at a time ({measured}), which counts the wait for the last "
            f"rank's launch: an upper bound of their in-graph cost, so the floor leaves them out.")


def environment_line(run: dict) -> str:
    """Device, driver (where a GPU driver ran), versions, commit, start and status."""
    env = run["environment"]
    device = env.get("device", {})
    where = device.get("device_name") or env.get("cpu")
    driver = f", driver {env['driver']}" if env.get("driver") else ""
    commit = (env.get("git_commit") or "unknown")[:10] + (" (dirty)" if env.get("git_dirty") else "")
    named = (("torch", "torch"), ("transformers", "transformers"), ("Python", "python"))
    versions = ", ".join(f"{name} {env.get(key) or '-'}" for name, key in named)
    return f"{where}{driver}, {versions}, commit {commit}, started {run['started']}, status {run['status']}"


def memory_sentence(df: pd.DataFrame) -> str:
    """What the Memory column holds: GPU memory where a point measured it, else why it is empty."""
    if df.mem_peak_gb.notna().any():
        return "Memory is peak allocated GPU memory during the length's measurement."
    if df.server_ttft_p50_ms.notna().any():
        return "No GPU memory is measured with transport: ipc (the server holds it)."
    return "No GPU memory is measured on a CPU run."


def tags_line(run: dict) -> str:
    """'Tags: key=value, ...' from the run's --tag flags, or '' without tags."""
    tags = run["config"].get("tags") or {}
    return "Tags: " + ", ".join(f"{k}={v}" for k, v in tags.items()) + "." if tags else ""


def environment_changes_line(run: dict) -> str:
    """The environment's changes a resume was told to accept (`--resume-anyway`), or '' where none."""
    changes = run.get(ENVIRONMENT_CHANGES) or []
    said = "; ".join(f"{change_text(c['key'], c.get('old'), c.get('new'))} (resumed {c['resumed']})" for c in changes)
    return f"**Resumed on a changed environment** (`--resume-anyway`): {said}." if changes else ""


def plots_line(not_drawn: dict[str, str]) -> str:
    """Which plots were not written, and why."""
    return "Plots in plots/; not written: " + "; ".join(f"{f} ({why})" for f, why in not_drawn.items()) + "."


def report_markdown(run: dict, df: pd.DataFrame, not_drawn: dict[str, str] | None = None) -> str:
    model = run["config"].get("model", {})
    source = model.get("preset") or model.get("config") or model.get("name_or_path")
    parts = [f"# {run['name']}", "", f"**Stability:** {stability_line(df)}", "",
             f"Model: `{source}`, {model.get('dtype', 'float16')}, batch 1. {environment_line(run)}.", "",
             "TTFT (ms) is the median (p50) of n timed requests, host wall clock from token ids on the host "
             f"to the first token id on the host. {memory_sentence(df)} CI: {DEFAULT_LEVEL:.0%} interval, {METHOD}.",
             ""]
    for line in (tags_line(run), environment_changes_line(run), plots_line(not_drawn) if not_drawn else ""):
        parts += [line, ""] if line else []
    for strategy, group in df.groupby("strategy", sort=False):
        ns, rounds = group["n"].dropna().unique(), group["rounds"].dropna().unique()
        spread = f" in {', '.join(map(str, rounds))} rounds" if len(rounds) and max(rounds) > 1 else ""
        parts += [f"## {strategy}" + (f" (n = {', '.join(map(str, ns))}{spread})" if len(ns) else ""), "",
                  strategy_table(group), ""]
    parts += ["## Comparison: median TTFT in ms (speed-up over baseline)", "", comparison_table(df), ""]
    parts += ["## Cold start", "", "Ready: from the strategy's process start until every configured length is "
              "prepared. Unseen length: the first request at a length nobody prepared.", "", cold_start_table(run), ""]
    parts += ["## Roofline", "", roofline_line(run), ""]
    if df.server_ttft_p50_ms.notna().any():
        parts += ["## Two-process mode (transport: ipc)", "",
                  "TTFT above is the client's; the server's TTFT is measured around the strategy's first_token.", "",
                  ipc_table(df), ""]
    return "\n".join(parts)
