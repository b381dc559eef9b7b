"""A run's verdict, read from its summary and samples: which points were unstable, the fastest
correct strategy per range of prompt lengths with its speed-up over the baseline and that
speed-up's bootstrap interval, and what failed, disagreed with the baseline or was skipped.

A speed-up is never given without its interval (stats.ratio_of_medians on the two points' timed
requests); where the interval includes 1 the verdict says "no significant difference".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from bench.config.names import BASELINE
from bench.reporting.records import StrategyRecord
from bench.reporting.stats import (DEFAULT_LEVEL, UNSTABLE_MINMAX_RATIO, UNSTABLE_STD_RATIO, Summary, ratio_of_medians,
                                  stability)

Samples = Mapping[tuple[str, int], np.ndarray]  # timed requests in ms, per (strategy, prompt length)
RULES = (f"std >= {UNSTABLE_STD_RATIO:.0%} of the mean, or min/max >= {UNSTABLE_MINMAX_RATIO:.0%} away from it")
FASTER, NO_DIFFERENCE, BASELINE_FASTEST = "faster", "no significant difference", "baseline fastest"
NO_BASELINE = "no baseline samples"


@dataclass(frozen=True)
class Speedup:
    """Baseline median / the strategy's median at one length, with its bootstrap interval."""
    ratio: float
    low: float
    high: float


@dataclass(frozen=True)
class Lead:
    """Adjacent lengths where one strategy is the fastest correct one, with one verdict over the baseline."""
    strategy: str
    verdict: str  # FASTER, NO_DIFFERENCE, BASELINE_FASTEST or NO_BASELINE
    lengths: tuple[int, ...]
    speedups: tuple[Speedup, ...]  # per length; empty where the baseline leads or was not timed
    ties: tuple[tuple[str, tuple[int, ...]], ...] = ()  # others not significantly slower, and where
    unstable: tuple[int, ...] = ()  # lengths where the leader's point was unstable


def unstable_points(df: pd.DataFrame) -> list[tuple[str, int, dict[str, float]]]:
    """(strategy, length, {rule: how far}) of every measured point flagged unstable; a rule is 'std'
    (std / mean), 'min' (how far below the mean) or 'max' (how far above), as a fraction."""
    out = []
    for r in df[(df.status == "ok") & df.unstable.astype(bool)].itertuples():
        s = Summary(int(r.n), r.ttft_mean_ms, r.ttft_p50_ms, r.ttft_p90_ms, r.ttft_p99_ms, r.ttft_min_ms,
                    r.ttft_max_ms, r.ttft_std_ms)
        fired = {w.split()[1] for w in stability(s).warnings if w.startswith("unstable: ")}  # 'unstable: std is ...'
        distance = {"std": s.std / s.mean, "min": 1 - s.min / s.mean, "max": s.max / s.mean - 1}
        out.append((r.strategy, int(r.prompt_len), {rule: distance[rule] for rule in distance if rule in fired}))
    return out


RULE_WORDS = {"std": "std up to {:.0%} of the mean", "min": "min up to {:.0%} below the mean",
              "max": "max up to {:.0%} above the mean"}


def stability_line(df: pd.DataFrame) -> str:
    """'N of M points unstable (rules): strategy @ lengths (the worst of each rule that fired); ...',
    or that none of M was."""
    measured = int((df.status == "ok").sum())
    flagged = unstable_points(df)
    if not flagged:
        return f"0 of {measured} points unstable ({RULES})."
    lengths: dict[str, list[int]] = {}
    worst: dict[str, dict[str, float]] = {}
    for strategy, n, rules in flagged:
        lengths.setdefault(strategy, []).append(n)
        for rule, distance in rules.items():
            worst.setdefault(strategy, {})[rule] = max(distance, worst.get(strategy, {}).get(rule, 0.0))
    listed = "; ".join(f"{s} @ {lengths_text(ns)} ({', '.join(RULE_WORDS[k].format(v) for k, v in worst[s].items())})"
                       for s, ns in lengths.items())
    return f"{len(flagged)} of {measured} points unstable ({RULES}): {listed}."


def correct(r) -> bool:
    """A measured point that computes the baseline's tokens (the baseline by definition)."""
    judged_equal = not pd.isna(r.matches_baseline) and bool(r.matches_baseline)
    return r.status == "ok" and (r.strategy == BASELINE or judged_equal)


def mismatched(r) -> bool:
    """A measured point judged against the baseline that disagreed (not one that was never judged)."""
    return r.status == "ok" and r.strategy != BASELINE and not pd.isna(r.matches_baseline) and not r.matches_baseline


def speedup(samples: Samples, strategy: str, n: int, level: float) -> Speedup:
    """The strategy's speed-up over the baseline at length n, with its interval."""
    est = ratio_of_medians(samples[(strategy, n)], samples[(BASELINE, n)], level=level)
    return Speedup(est.ratio, est.low, est.high)


def leader_at(df: pd.DataFrame, samples: Samples, n: int, level: float):
    """(leader, verdict, its speed-up or None, others not significantly slower) at length n, or None
    where no correct point with samples was measured."""
    rows = [r for r in df[df.prompt_len == n].itertuples() if correct(r) and (r.strategy, n) in samples]
    if not rows:
        return None
    best = min(rows, key=lambda r: r.ttft_p50_ms)
    ties = [r.strategy for r in rows if r.strategy not in (best.strategy, BASELINE)
            and ratio_of_medians(samples[(best.strategy, n)], samples[(r.strategy, n)], level=level).low <= 1]
    if best.strategy == BASELINE:
        return best.strategy, BASELINE_FASTEST, None, ties
    if (BASELINE, n) not in samples:  # its reference was written, then its timing failed
        return best.strategy, NO_BASELINE, None, ties
    up = speedup(samples, best.strategy, n, level)
    return best.strategy, FASTER if up.low > 1 else NO_DIFFERENCE, up, ties


def leads(df: pd.DataFrame, samples: Samples, level: float = DEFAULT_LEVEL) -> list[Lead]:
    """The fastest correct strategy per length, adjacent lengths with the same leader and verdict grouped."""
    unstable = {(s, n) for s, n, _ in unstable_points(df)}
    out: list[Lead] = []
    adjacent = False  # the previous length had a leader: a length without one ends a range
    for n in sorted(int(x) for x in df.prompt_len.unique()):
        found = leader_at(df, samples, n, level)
        if found is None:
            adjacent = False
            continue
        strategy, verdict, up, ties = found
        last = out[-1] if out and adjacent else None
        if last is None or (last.strategy, last.verdict) != (strategy, verdict):
            last = Lead(strategy, verdict, (), ())
            out.append(last)
        adjacent = True
        tied = dict(last.ties)
        for other in ties:
            tied[other] = tied.get(other, ()) + (n,)
        out[-1] = Lead(strategy, verdict, last.lengths + (n,), last.speedups + ((up,) if up else ()),
                       tuple(tied.items()), last.unstable + ((n,) if (strategy, n) in unstable else ()))
    return out


def lengths_text(lengths) -> str:
    """'10, 50, 100'."""
    return ", ".join(str(n) for n in lengths)


def problems(run: dict, df: pd.DataFrame) -> list[str]:
    """One line per failure and per disagreement with the baseline: points, the unseen-length probe, restarts."""
    lines = []
    failed: dict[tuple[str, str], list[int]] = {}
    for r in df[df.status == "error"].itertuples():
        failed.setdefault((r.strategy, r.note or "no reason given"), []).append(int(r.prompt_len))
    lines += [f"failed: {s} @ {lengths_text(ns)}: {note}" for (s, note), ns in failed.items()]
    for r in df[df.status == "ok"].itertuples():
        if mismatched(r):
            lines.append(f"MISMATCH: {r.strategy} @ {r.prompt_len}: {mismatch_detail(r)}")
    for name, raw in run["strategies"].items():
        s = StrategyRecord.from_dict(raw)
        if s.unseen_matches_baseline is False:
            lines.append(f"MISMATCH: {name} at the unseen length {s.unseen_len}: {s.unseen_note or 'another token'}")
        if s.restart_status in ("running", "error"):
            lines.append(f"failed: {name}'s restart: {s.restart_note or 'no reason given'}")
        elif (s.restart_prompts_judged or 0) > (s.restart_prompts_agreed or 0):
            lines.append(f"MISMATCH: {name} after a restart: {s.restart_prompts_agreed}/{s.restart_prompts_judged} "
                         "prompts agreed")
    return lines


def mismatch_detail(r) -> str:
    """What disagreed at a point: judged prompts, timed tokens, the note."""
    parts = []
    if not pd.isna(r.prompts_judged):
        parts.append(f"{r.prompts_agreed}/{r.prompts_judged} prompts agreed")
    if not pd.isna(r.timed_mismatches) and r.timed_mismatches:
        parts.append(f"{r.timed_mismatches} of {r.timed_checked} timed tokens differ")
    if r.note:
        parts.append(r.note)
    return "; ".join(parts) or "its token differs from the baseline's"


def skipped(run: dict, df: pd.DataFrame) -> list[str]:
    """One line per reason: the strategies skipped for it (with their lengths where only some were)."""
    lengths = sorted(int(n) for n in df.prompt_len.unique())
    by_reason: dict[str, list[str]] = {}
    for name, group in df[df.status == "skipped"].groupby("strategy", sort=False):
        info = StrategyRecord.from_dict(run["strategies"].get(name, {}))
        reason = (info.note if info.status == "skipped" and info.note else group.note.iloc[0]) or "no reason given"
        where = sorted(int(n) for n in group.prompt_len)
        by_reason.setdefault(reason, []).append(name if where == lengths else f"{name} @ {lengths_text(where)}")
    return [f"skipped: {', '.join(names)} ({reason})" for reason, names in by_reason.items()]
