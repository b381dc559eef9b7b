"""Raw load rows (load_samples.csv + run.json's load levels) -> one summary row per strategy, batching
setting, mode and level: load_summary.csv, whose first eleven columns are a contract other tools read.

Statistics are over a level's timed requests that were answered with a token (warm-up left out);
its window runs from the first of them sent to the last answer received.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from bench.reporting.load_records import LoadLevelRecord
from bench.reporting.stats import percentile_cis, summarize

NS_PER_MS, NS_PER_S = 1e6, 1e9

# every column of load_summary.csv, in order, with its meaning (the contract first)
LOAD_SUMMARY_COLUMNS = (
    ("strategy", "strategy name"),
    ("batching", "the server's batching setting: batch<max_batch>[-wait<max_wait_us>us]"),
    ("mode", "concurrency (closed loop: clients) or rate (open loop: requests/s, gamma arrivals)"),
    ("level", "clients, or offered requests/s"),
    ("requests", "timed requests answered with a token: what the statistics are over"),
    ("ttft_p50_ms", "median client TTFT: the host clock from a request's send to its answer"),
    ("ttft_p99_ms", "99th percentile client TTFT"),
    ("queue_p50_ms", "median time a request waited in the server's queue before its forward"),
    ("throughput_rps", "achieved requests/s over the level's window"),
    ("correct", "every request sent was answered with the baseline's token for its prompt"),
    ("saturated", "past capacity: stopped by load.max_in_flight or load.max_level_s, or not run after a lower "
                  "level of its mode was"),
    ("status", "ok, saturated, not-run or error"),
    ("near_ties", "answers other than the baseline's token accepted as a near tie (counted as agreeing)"),
    ("sent", "requests sent, warm-up included"),
    ("ttft_p50_ci_low_ms", "median TTFT: low end of its 95% bootstrap interval"),
    ("ttft_p50_ci_high_ms", "median TTFT: high end of its 95% bootstrap interval"),
    ("ttft_p90_ms", "90th percentile client TTFT"),
    ("ttft_p90_ci_low_ms", "p90 TTFT: low end of its 95% bootstrap interval"),
    ("ttft_p90_ci_high_ms", "p90 TTFT: high end of its 95% bootstrap interval"),
    ("ttft_p99_ci_low_ms", "p99 TTFT: low end of its 95% bootstrap interval"),
    ("ttft_p99_ci_high_ms", "p99 TTFT: high end of its 95% bootstrap interval"),
    ("server_ttft_p50_ms", "median of the server's time for the forward that answered a request"),
    ("queue_p99_ms", "99th percentile queueing delay"),
    ("batch_size_mean", "mean requests per forward that answered a request (where the server says)"),
    ("prompt_tokens_per_s", "achieved prompt tokens/s over the level's window"),
    ("goodput_rps", "requests/s whose TTFT met load.slo_ttft_ms"),
    ("offered_rps", "rate mode: the requests/s asked for"),
    ("meets_slo", "p99 TTFT within load.slo_ttft_ms, every answer correct, not saturated"),
    ("capacity_level", "per strategy, batching and mode: the highest level that meets the SLO"),
    ("capacity_rps", "the achieved throughput at that level"),
    ("note", "why a level stopped or failed"),
)
LOAD_SUMMARY_FILE = "load_summary.csv"
COLUMNS = [name for name, _ in LOAD_SUMMARY_COLUMNS]


def level_row(level: LoadLevelRecord, rows: pd.DataFrame, slo_ms: float) -> dict:
    """The statistics of one level from its rows."""
    row = {"mode": level.mode, "level": level.level, "status": level.status, "sent": level.sent,
           "near_ties": level.near_ties,
           "correct": level.correct, "saturated": level.saturated, "note": level.note,
           "offered_rps": level.level if level.mode == "rate" else np.nan}
    timed = rows[~rows.warmup.astype(bool) & rows.token.notna()]
    row["requests"] = len(timed)
    if len(timed):
        ttft = timed.ttft_ns.to_numpy(dtype=np.float64) / NS_PER_MS
        s = summarize(ttft)
        ci50, ci90, ci99 = percentile_cis(ttft, [50, 90, 99])
        row.update(ttft_p50_ms=s.p50, ttft_p90_ms=s.p90, ttft_p99_ms=s.p99,
                   ttft_p50_ci_low_ms=ci50.low, ttft_p50_ci_high_ms=ci50.high, ttft_p90_ci_low_ms=ci90.low,
                   ttft_p90_ci_high_ms=ci90.high, ttft_p99_ci_low_ms=ci99.low, ttft_p99_ci_high_ms=ci99.high)
        row.update(percentiles(timed.server_ttft_ns, {"server_ttft_p50_ms": 50}))
        row.update(percentiles(timed.queue_ns, {"queue_p50_ms": 50, "queue_p99_ms": 99}))
        sizes = timed.batch_size.dropna()
        row["batch_size_mean"] = float(sizes.mean()) if len(sizes) else np.nan
        window_s = (float((timed.sent_ns + timed.ttft_ns).max()) - float(timed.sent_ns.min())) / NS_PER_S
        if len(timed) > 1 and window_s > 0:  # one request has no rate
            row.update(throughput_rps=len(timed) / window_s,
                       prompt_tokens_per_s=float(timed.prompt_len.sum()) / window_s,
                       goodput_rps=int((ttft <= slo_ms).sum()) / window_s)
    row["meets_slo"] = bool(level.status == "ok" and level.correct and row.get("ttft_p99_ms", np.inf) <= slo_ms)
    return row


def percentiles(ns: pd.Series, wanted: dict[str, float]) -> dict:
    """{column: the q-th percentile in ms} of the values the server reported; NaN where it reported none."""
    values = ns.dropna().to_numpy(dtype=np.float64) / NS_PER_MS
    if not len(values):
        return {name: np.nan for name in wanted}
    return {name: float(np.percentile(values, q)) for name, q in wanted.items()}


def build_load_summary(section: dict, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (strategy, batching, mode, level), in the order the levels ran; capacity at the SLO per
    (strategy, batching, mode)."""
    slo_ms = section["slo_ttft_ms"]
    groups = {key: g for key, g in rows.groupby(["strategy", "batching", "mode", "level"], sort=False)}
    out = []
    for stored in section["levels"]:
        level = LoadLevelRecord(**{k: v for k, v in stored.items() if k not in ("strategy", "batching")})
        key = (stored["strategy"], stored["batching"], level.mode, level.level)
        g = groups.get(key, rows.iloc[0:0])
        out.append({"strategy": key[0], "batching": key[1], **level_row(level, g, slo_ms)})
    df = pd.DataFrame(out, columns=COLUMNS)
    for (_, _, _), g in df.groupby(["strategy", "batching", "mode"], sort=False):
        met = g[g.meets_slo.astype(bool)]
        if len(met):
            best = met.loc[met.level.idxmax()]
            df.loc[g.index, "capacity_level"] = best.level
            df.loc[g.index, "capacity_rps"] = best.throughput_rps
    df["requests"] = df["requests"].astype("Int64")
    df["sent"] = df["sent"].astype("Int64")
    return df
