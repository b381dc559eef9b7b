"""Markdown for documents about runs, from a run's record and summary alone: an index of run folders,
a run's opening line, its median TTFT per length and strategy, its client-against-server table.
Numbers are rounded once, from the raw samples' statistics. Which runs and strategies a document
shows is the caller's choice (the repository's tools/render_docs.py reads it from docs/sections.yaml).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from bench.config.names import BASELINE
from bench.reporting.compare import load_run_samples
from bench.reporting.report import load_checked
from bench.reporting.stats import (DEFAULT_LEVEL, UNSTABLE_MINMAX_RATIO, UNSTABLE_STD_RATIO, RatioEstimate,
                                   ratio_of_points)
from bench.reporting.tables import markdown_table


def ranged(values, digits: int = 2, unit: str = "") -> str:
    """'a-b unit' over values (or 'a unit' when they agree at this rounding)."""
    low, high = f"{min(values):.{digits}f}", f"{max(values):.{digits}f}"
    return (low if low == high else f"{low}-{high}") + unit


def p50(df: pd.DataFrame, strategy: str) -> pd.Series:
    """A strategy's TTFT p50 per length (ok points only)."""
    ok = df[(df.strategy == strategy) & (df.status == "ok")]
    return ok.set_index("prompt_len")["ttft_p50_ms"]


def with_interval(ratio: float, low: float, high: float) -> str:
    """'x1.23 (1.20-1.26)': a ratio of medians with its interval."""
    return f"x{ratio:.2f} ({low:.2f}-{high:.2f})"


def unstable_baseline(df: pd.DataFrame) -> list[int]:
    """The lengths whose baseline point was unstable (pyperf's rules): a speed-up over it is left out, because
    the baseline's median moves more than its interval between runs."""
    base = df[(df.strategy == BASELINE) & (df.status == "ok")]
    return sorted(int(n) for n in base[base.unstable == True].prompt_len)  # noqa: E712 (NaN is not unstable)


def speedup_text(df: pd.DataFrame, strategy: str, n: int) -> str:
    """The strategy's speed-up over the baseline at n with its interval; '-' where the baseline was unstable."""
    if n in unstable_baseline(df):
        return "-"
    r = df[(df.strategy == strategy) & (df.prompt_len == n) & (df.status == "ok")].iloc[0]
    if pd.isna(r.speedup_vs_baseline):  # no measured baseline at n
        return "-"
    return with_interval(r.speedup_vs_baseline, r.speedup_ci_low, r.speedup_ci_high)


def left_out_text(df: pd.DataFrame, lengths: list[int]) -> str:
    """The sentence that says at which of `lengths` a speed-up was left out, or ''."""
    dropped = [n for n in unstable_baseline(df) if n in lengths]
    if not dropped:
        return ""
    return (f"Speed-ups over the baseline are left out at {', '.join(map(str, dropped))} tokens, where the "
            f"baseline's point was unstable (std at least {UNSTABLE_STD_RATIO:.0%} of the mean, or min or max "
            f"{UNSTABLE_MINMAX_RATIO:.0%} away from it).")


def leads(folder: Path, strategy: str, peer: str) -> dict[int, RatioEstimate]:
    """Per length both measured: the peer's median over the strategy's, with its interval (each point's
    requests resampled by their rounds)."""
    points = load_run_samples(folder).samples
    return {n: ratio_of_points(a, points[(peer, n)]) for (s, n), a in sorted(points.items())
            if s == strategy and (peer, n) in points}


def floors(df: pd.DataFrame) -> pd.Series:
    """The roofline floor in ms per length (one per length: it depends on the model and the GPU, not the strategy)."""
    return df.drop_duplicates("prompt_len").set_index("prompt_len")["floor_ms"]


def environment_text(run: dict) -> str:
    """The GPU with its driver, the library versions and the commit a run was measured at."""
    env = run["environment"]
    return (f"{env.get('gpu')} (driver {env.get('driver')}, torch {env.get('torch')}, transformers "
            f"{env.get('transformers')}, commit {(env.get('git_commit') or 'unknown')[:10]})")


def agreement_text(df: pd.DataFrame) -> str:
    """Whether every measured point computes the baseline's first token, or how many do not."""
    ok = df[df.status == "ok"]
    wrong = ok[ok.matches_baseline != True]  # noqa: E712 (NaN counts as not shown to match)
    if wrong.empty:
        return "Every strategy matches the baseline's first token at every length."
    return f"{len(wrong)} of {len(ok)} measured points do not match the baseline's first token (see table.md)."


def run_intro(folder: str, config: str, run: dict, df: pd.DataFrame) -> str:
    """Where a GPU run lies, what it ran on, how many requests, the ceilings it measured, and its agreement."""
    m, c = run["config"]["measure"], run["roofline"]["ceilings"]
    return (f"`{folder}/`, from `{config}` on {environment_text(run)}, "
            f"{len(run['strategies'])} strategies in one run, {m['repeats']} timed requests per strategy and "
            f"length after {m['warmup']} warm-ups, batch 1, random weights (exact for timing). Ceilings measured "
            f"in the run: {c['copy_bytes_per_s'] / 1e12:.2f} TB/s device copy, {c['matmul_flops_per_s'] / 1e12:.0f} "
            f"TFLOP/s {c['dtype']} matmul. Median TTFT in ms. {agreement_text(df)}")


def ttft_table(df: pd.DataFrame, headline: str, peer: str, order: list[str], lead: dict[int, RatioEstimate]) -> str:
    """Per length: floor, the headline strategy (bold), its efficiency, its lead over the peer (`lead`, from
    leads()) and speed-up over the baseline with their intervals, then the median TTFT in ms of every other
    strategy of `order` the run measured; then where a speed-up was left out."""
    strategies = [s for s in order if s != headline and not p50(df, s).empty]
    head, floor = p50(df, headline), floors(df)
    header = (["Prompt Length", "floor", headline, "efficiency (floor / p50)", f"lead over {peer}",
               "speed-up over baseline"] + strategies)
    rows = []
    for n in head.index:
        # the peer may not be in the run
        ahead = with_interval(lead[n].ratio, lead[n].low, lead[n].high) if n in lead else "-"
        cells = [str(n), f"{floor[n]:.2f}", f"**{head[n]:.2f}**",
                 f"{floor[n] / head[n]:.2f} ({head[n] / floor[n]:.2f}x)", ahead, speedup_text(df, headline, n)]
        rows.append(cells + [median_cell(p50(df, s), n) for s in strategies])
    notes = [f"Ratios carry their {DEFAULT_LEVEL:.0%} bootstrap interval in brackets{coverage_text(df)}.",
             left_out_text(df, list(head.index))]
    return markdown_table(header, rows) + "\n\n" + " ".join(filter(None, notes))


def median_cell(medians: pd.Series, n: int) -> str:
    """A strategy's median at length n, or '-' where the run has no measured point there."""
    return f"{medians[n]:.2f}" if n in medians.index else "-"


def coverage_text(df: pd.DataFrame) -> str:
    """What a run's intervals cannot cover when it was measured in one round (before measure.rounds)."""
    if (df.rounds > 1).any():  # a column with no measured point is all missing: no max to compare
        return ""
    return ("; the run was measured in one round, so they cover the noise among its requests, not the drift "
            "between rounds or runs")


def client_server_table(run: dict, df: pd.DataFrame) -> str:
    """A run over the generator server: client and server median TTFT per length and strategy, the socket's
    cost between them, and the baseline's server TTFT range."""
    rows = df[df.server_ttft_p50_ms.notna()]
    table = markdown_table(["Prompt Length", "strategy", "client", "server", "IPC overhead"],
                           [[str(r.prompt_len), r.strategy, f"{r.ttft_p50_ms:.2f}", f"{r.server_ttft_p50_ms:.2f}",
                             f"{r.ipc_overhead_ms:.2f}"]
                            for r in rows.sort_values(["prompt_len", "strategy"]).itertuples()])
    base = rows[rows.strategy == BASELINE]
    return (f"On {environment_text(run)}, {run['config']['measure']['repeats']} requests per point. Median TTFT "
            f"in ms:\n\n{table}\n\nThe socket costs {ranged(rows.ipc_overhead_ms, 2, ' ms')} a request; the "
            f"baseline's server TTFT ranges over {ranged(base.server_ttft_p50_ms, 1, ' ms')}.")


def gpus_text(run: dict) -> str:
    """The GPUs a run used: its GPU name, times the tensor-parallel ranks where there were several."""
    ranks = run["config"]["model"].get("tensor_parallel") or 1
    return run["environment"]["gpu"] + ("" if ranks == 1 else f" x {ranks}")


def model_text(run: dict) -> str:
    """The model a run measured: its preset, its checkpoint's name, or a config.json's depth and size."""
    model, shape = run["config"]["model"], run.get("roofline", {}).get("model")
    if model.get("preset"):
        return model["preset"]
    if model.get("name_or_path"):
        return Path(model["name_or_path"]).name
    return "config.json" + (f" ({shape['layers']} layers, {shape['params'] / 1e9:.1f} B parameters)" if shape else "")


def started_text(run: dict) -> str:
    """When a run started, in UTC to the minute (the runs of one day stay apart)."""
    started = dt.datetime.fromisoformat(run["started"]).astimezone(dt.timezone.utc)
    return started.strftime("%Y-%m-%d %H:%M UTC")


def runs_index(results: Path, link_prefix: str) -> str:
    """Every run folder under results measured on a GPU, newest first: when it started, on what, its model,
    strategies, timed requests per point, status and commit, linked to its table.md (link_prefix + folder)."""
    runs = [(folder, *load_checked(folder)) for folder in sorted(p.parent for p in Path(results).glob("*/run.json"))]
    gpu_runs = sorted(((folder, run, samples) for folder, run, samples in runs if run["environment"].get("gpu")),
                      key=lambda item: dt.datetime.fromisoformat(item[1]["started"]), reverse=True)
    rows = []
    for folder, run, samples in gpu_runs:
        requests = samples.groupby(["strategy", "prompt_len"]).size()  # what was measured, not asked
        rows.append([started_text(run), f"[`{folder.name}`]({link_prefix}{folder.name}/table.md)", gpus_text(run),
                     model_text(run), str(len(run["strategies"])), str(requests.max() if len(requests) else 0),
                     run["status"], (run["environment"].get("git_commit") or "unknown")[:7]])
    return markdown_table(["started", "run", "GPUs", "model", "strategies", "timed requests per point", "status",
                           "commit"], rows)
