"""The summary on a terminal: counts as integers, skipped and error rows with their reason, the
stability warnings found from the summary's `unstable` column (the stats module's verdict)."""
from __future__ import annotations

import pandas as pd

from bench.reporting.tables import agreement, fmt

HEADER = ["strategy", "len", "status", "n", "p50 ms", "p50 95% CI", "p99 ms", "speed-up", "agreed", "note"]


def console_rows(df: pd.DataFrame) -> list[list[str]]:
    """One row of text cells per point; a row that was not measured carries its reason as its note."""
    rows = []
    for r in df.itertuples():
        if r.status != "ok":
            rows.append([r.strategy, str(r.prompt_len), r.status] + ["-"] * 6 + [r.note or "-"])
            continue
        rows.append([r.strategy, str(r.prompt_len), r.status, str(r.n), fmt(r.ttft_p50_ms),
                     f"{fmt(r.ttft_p50_ci_low_ms)}-{fmt(r.ttft_p50_ci_high_ms)}", fmt(r.ttft_p99_ms),
                     fmt(r.speedup_vs_baseline), agreement(r.prompts_judged, r.prompts_agreed, r.near_ties), ""])
    return rows


def console_table(df: pd.DataFrame) -> str:
    """The summary's main columns, aligned; notes (reasons) last, uncut."""
    rows = [HEADER] + console_rows(df)
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows).rstrip()


def console_warnings(df: pd.DataFrame) -> list[str]:
    """A line per point the stability rules flagged."""
    flagged = df[(df.status == "ok") & df.unstable.astype(bool)]
    return [f"warning: {r.strategy} @ {r.prompt_len}: {r.note}" for r in flagged.itertuples()]
