"""The end of a run on a terminal: the verdict (stability, the fastest correct strategy per range of
lengths with its speed-up and interval, ready time, failures, mismatches, skipped strategies once),
and on request the per-point table.

    print(console_verdict(run, df, samples))   # run.json's content, the summary, timed requests in ms
"""
from __future__ import annotations

import pandas as pd

from bench.config.names import BASELINE
from bench.reporting.records import StrategyRecord
from bench.reporting.stats import DEFAULT_LEVEL
from bench.reporting.tables import agreement, fmt
from bench.reporting.verdict import (BASELINE_FASTEST, FASTER, NO_BASELINE, Lead, Samples, correct, leads, lengths_text,
                                     mismatched, problems, skipped, stability_line)

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
    """The summary's main columns, aligned, per point; skipped points are left out (the verdict names
    each skipped strategy once, with its reason); notes last, uncut."""
    rows = [HEADER] + console_rows(df[df.status != "skipped"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows).rstrip()


def span(lengths: tuple[int, ...]) -> str:
    """'10-350 tokens' for a range of adjacent lengths, '400 tokens' for one."""
    return f"{lengths[0]}-{lengths[-1]} tokens" if len(lengths) > 1 else f"{lengths[0]} tokens"


def speedup_text(lead: Lead) -> str:
    """'x1.51-x1.74 over the baseline (intervals x1.45-x1.80)', or one length's 'x1.65 (interval ...)'."""
    ups = lead.speedups
    low, high = min(u.low for u in ups), max(u.high for u in ups)
    if len(ups) == 1:
        return f"x{ups[0].ratio:.2f} (interval x{low:.2f}-x{high:.2f})"
    least, most = f"x{min(u.ratio for u in ups):.2f}", f"x{max(u.ratio for u in ups):.2f}"
    return f"{least if least == most else f'{least}-{most}'} (intervals within x{low:.2f}-x{high:.2f})"


def ready_text(info: StrategyRecord) -> str:
    """'ready in 18.3 s (15.7 s after a restart)', or '' where no ready time was reported."""
    if info.ready_s is None:
        return ""
    restart = f" ({info.restart_ready_s:.1f} s after a restart)" if info.restart_ready_s is not None else ""
    return f"ready in {info.ready_s:.1f} s{restart}"


def lead_text(lead: Lead, run: dict) -> str:
    """One range of lengths: its leader, speed-up with interval or 'no significant difference', ready time,
    the strategies within noise of it, and where its points were unstable."""
    if lead.verdict == BASELINE_FASTEST:
        parts = [f"{span(lead.lengths)}: {lead.strategy} fastest (no strategy beat it)"]
    elif lead.verdict == NO_BASELINE:
        parts = [f"{span(lead.lengths)}: {lead.strategy} fastest (no baseline samples there: no speed-up)"]
    elif lead.verdict == FASTER:
        parts = [f"{span(lead.lengths)}: {lead.strategy} {speedup_text(lead)} faster than the baseline"]
    else:
        parts = [f"{span(lead.lengths)}: {lead.strategy} fastest, but no significant difference from the baseline "
                 f"({speedup_text(lead)})"]
    ready = ready_text(StrategyRecord.from_dict(run["strategies"].get(lead.strategy, {})))
    parts += [ready] if ready else []
    for other, where in lead.ties:
        at = "" if where == lead.lengths else f" at {lengths_text(where)}"
        parts.append(f"{other} not significantly slower{at}")
    if lead.unstable:
        parts.append(f"unstable at {lengths_text(lead.unstable)}")
    return "; ".join(parts)


def correctness_line(df: pd.DataFrame) -> str:
    """How many measured points of the other strategies computed the baseline's tokens, near ties said."""
    others = df[(df.status == "ok") & (df.strategy != BASELINE)]
    agreed = sum(correct(r) for r in others.itertuples())
    unjudged = len(others) - agreed - sum(mismatched(r) for r in others.itertuples())
    ties = int(others.near_ties.fillna(0).sum())
    notes = ([f"{ties} near tie{'s' if ties != 1 else ''} accepted"] if ties else []) + (
        [f"{unjudged} not judged against it"] if unjudged else [])
    notes_text = f" ({'; '.join(notes)})" if notes else ""
    return f"correctness: {agreed} of {len(others)} measured points agree with the baseline{notes_text}"


def console_verdict(run: dict, df: pd.DataFrame, samples: Samples, level: float = DEFAULT_LEVEL) -> str:
    """The verdict block: stability first, then the leaders by length range, correctness, failures,
    mismatches and skipped strategies."""
    lines = [f"{run['name']} ({run['status']})", f"stability: {stability_line(df)}"]
    found = leads(df, samples, level)
    if found:
        lines.append(f"fastest correct strategy by prompt length (median TTFT; speed-up = baseline median / its "
                     f"median, {level:.0%} bootstrap interval):")
        lines += ["  " + lead_text(lead, run) for lead in found]
    else:
        lines.append("fastest correct strategy: none (no point agreed with a measured baseline)")
    lines.append(correctness_line(df))
    return "\n".join(lines + problems(run, df) + skipped(run, df))
