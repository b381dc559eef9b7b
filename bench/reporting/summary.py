"""Raw records (run.json points + samples.csv) -> one summary row per strategy and length."""
from __future__ import annotations

import pandas as pd

from bench.config.names import BASELINE
from bench.measuring.floor import floor_ms
from bench.reporting.columns import POINT_COLUMNS, STRATEGY_COLUMNS, SUMMARY_COLUMNS
from bench.reporting.records import PointRecord, StrategyRecord
from bench.reporting.stats import percentile_cis, ratio_of_medians, stability, summarize

__all__ = ["SUMMARY_COLUMNS", "build_summary", "summary_row"]


def summary_row(strategy: str, point: PointRecord, info: StrategyRecord, samples_ns, server_ns, rounds=None) -> dict:
    """One row of the summary from a point, its strategy's record and its samples (rounds: each one's round,
    None: one round)."""
    row = {"strategy": strategy, "prompt_len": point.prompt_len, "status": point.status, "unstable": False}
    notes = [point.note or ""]
    if point.status == "ok":
        ms = [ns / 1e6 for ns in samples_ns]
        s = summarize(ms)
        p50_ci, p99_ci = percentile_cis(ms, [50, 99], rounds=rounds)
        row.update(ttft_p50_ci_low_ms=p50_ci.low, ttft_p50_ci_high_ms=p50_ci.high, ttft_p99_ci_low_ms=p99_ci.low,
                   ttft_p99_ci_high_ms=p99_ci.high, rounds=1 if rounds is None else len(set(rounds)))
        row.update(n=s.n, ttft_mean_ms=s.mean, ttft_p50_ms=s.p50, ttft_p90_ms=s.p90, ttft_p99_ms=s.p99,
                   ttft_min_ms=s.min, ttft_max_ms=s.max, ttft_std_ms=s.std)
        row.update({key: getattr(point, key) for key in POINT_COLUMNS})
        row.update({key: getattr(info, key) for key in STRATEGY_COLUMNS})
        if server_ns:
            row["server_ttft_p50_ms"] = summarize([ns / 1e6 for ns in server_ns]).p50
            row["ipc_overhead_ms"] = s.p50 - row["server_ttft_p50_ms"]
        verdict = stability(s)
        row["unstable"] = verdict.unstable
        notes += verdict.warnings
    row["note"] = "; ".join(dict.fromkeys(n for n in notes if n))  # dedupe, keep order
    return row


def speedup_intervals(df: pd.DataFrame, groups: dict) -> None:
    """Each ok point's speed-up interval: median(baseline) / median(point), both resampled by their rounds. The
    baseline's own row has none (its speed-up is 1 by definition)."""
    ok = df[(df.status == "ok") & (df.strategy != BASELINE)]
    for i, r in ok.iterrows():
        base = groups.get((BASELINE, r.prompt_len))
        if pd.isna(r.speedup_vs_baseline) or base is None:
            continue
        point = groups[(r.strategy, r.prompt_len)]
        est = ratio_of_medians(point.ttft_ns / 1e6, base.ttft_ns / 1e6, rounds_a=point["round"],
                               rounds_b=base["round"])
        df.loc[i, ["speedup_ci_low", "speedup_ci_high"]] = est.low, est.high


def build_summary(run: dict, samples: pd.DataFrame) -> pd.DataFrame:
    """The summary table, rows in the run's strategy order and ascending length."""
    if "server_ttft_ns" not in samples:
        samples = samples.assign(server_ttft_ns=float("nan"))  # format v1
    if "round" not in samples:
        samples = samples.assign(round=0)  # formats 1-6: one round
    groups = {key: g for key, g in samples.groupby(["strategy", "prompt_len"])}
    infos = {name: StrategyRecord.from_dict(s) for name, s in run["strategies"].items()}
    rows = []
    for p in run["points"]:
        g = groups.get((p["strategy"], p["prompt_len"]))
        client = [] if g is None else g["ttft_ns"].tolist()
        server = [] if g is None else g["server_ttft_ns"].dropna().tolist()
        rounds = None if g is None else g["round"].tolist()
        rows.append(summary_row(p["strategy"], PointRecord.from_dict(p), infos.get(p["strategy"], StrategyRecord()),
                                client, server, rounds))
    df = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    order = list(dict.fromkeys(p["strategy"] for p in run["points"]))
    df["_order"] = df["strategy"].map(order.index)
    df = df.sort_values(["_order", "prompt_len"], kind="stable").drop(columns="_order").reset_index(drop=True)
    base = df[(df.strategy == BASELINE) & (df.status == "ok")].set_index("prompt_len")["ttft_p50_ms"]
    df["speedup_vs_baseline"] = df["prompt_len"].map(base) / df["ttft_p50_ms"]
    speedup_intervals(df, groups)
    for count in ("n", "rounds", "prompts_judged", "prompts_agreed", "near_ties", "near_ties_limit", "timed_checked",
                  "timed_mismatches"):
        df[count] = df[count].astype("Int64")
    roofline = run.get("roofline", {})
    if "ceilings" in roofline:
        floors = {n: floor_ms(roofline["model"], roofline["ceilings"], n) for n in df.prompt_len.unique()}
        df["floor_ms"] = df.prompt_len.map(floors)
        df["efficiency"] = df.floor_ms / df.ttft_p50_ms
    return df
