"""The tensor-parallel sections of docs/results.md: the generic tables of bench.reporting.tp_tables, then
what the documents say about them: the targets met or missed (from docs/sections.yaml), the peer's lead,
ready times, the all-reduce, and the run's status. A target is never met by a strategy whose points fail
the correctness check, and a ✗ says whether tokens or only logits differed."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.reporting.compare import differences, load_run_samples
from bench.reporting.tp_tables import (allreduce_text, at, floor_table, over_one_gpu, ranks_of, scaling_table,
                                       wider_table)
from tools.run_prose import correct
from tools.summaries import summary


def verdict(reached: bool, df: pd.DataFrame, headline: str) -> str:
    """'met' or 'missed', and never 'met' for a headline whose points fail the correctness check."""
    if not correct(df, headline):
        return ("not met: not every one of its points was measured and agrees with the baseline, so its times do "
                "not count")
    return "met" if reached else "missed"


def ready_text(run: dict, df: pd.DataFrame, ranks: int, strategy: str) -> str:
    """A strategy's ready time at this TP size and how many lengths it prepared ('-' if it never got ready)."""
    ready = run["strategies"].get(strategy, {}).get("ready_s")
    lengths = df[df.strategy == strategy].prompt_len.nunique()
    return "-" if ready is None else f"{ready:.1f} s at TP={ranks} ({lengths} lengths)"


def readies(run: dict, df: pd.DataFrame, ranks: int, names: list[str]) -> str:
    """The named strategies' ready times, each named."""
    return ", ".join(f"`{s}` {ready_text(run, df, ranks, s)}" for s in names if s in run["strategies"])


def shown(key: str, value) -> str:
    """An environment value as the documents show it: a commit by its first 7 hex digits, as git abbreviates it."""
    return str(value)[:7] if key == "git_commit" else str(value)


def minutes(seconds: float) -> str:
    """A command limit as the documents name it, e.g. '10-minute'."""
    return f"{seconds / 60:g}-minute"


def slowest_ready_text(run: dict, limit_s: float) -> str:
    """Whether every strategy gets ready (its lengths prepared) within one device command of limit_s, as it must,
    since a resumed run starts an unfinished strategy over: the slowest strategy's ready time against the limit."""
    ready = {name: s["ready_s"] for name, s in run["strategies"].items() if s.get("ready_s") is not None}
    if not ready:
        return "No strategy got ready."
    name = max(ready, key=ready.get)
    limit = (f"the {minutes(limit_s)} device command in which a strategy must get ready and be "
             f"measured (`--resume` keeps finished strategies only)")
    if ready[name] <= limit_s:
        return f"The slowest to get ready, `{name}`, took {ready[name]:.1f} s, under {limit}."
    return (f"The slowest to get ready, `{name}`, took {ready[name]:.1f} s, over {limit}: it cannot finish under that "
            f"limit.")


def measured(df: pd.DataFrame) -> list[str]:
    """The strategies with at least one ok point, in the run's order."""
    return list(dict.fromkeys(df[df.status == "ok"].strategy))


def interrupted_text(run: dict, df: pd.DataFrame, limit_s: float) -> str:
    """For a run stopped by the command limit: which strategies it measured (one started without a point is
    not among them)."""
    if run["status"] != "interrupted":
        return ""
    return (f" (stopped by the device's {minutes(limit_s)} command limit; strategies with measured points: "
            f"{', '.join(f'`{s}`' for s in measured(df))})")


def mismatch_text(df: pd.DataFrame) -> str:
    """For each strategy marked ✗: whether its tokens differed or only its logits beyond the tolerance."""
    sentences = []
    failed = df[(df.status == "ok") & (df.matches_baseline != True)]  # noqa: E712 (NaN counts as not matching)
    for s, rows in failed.groupby("strategy", sort=False):
        tokens_differ = rows.timed_mismatches.sum() > 0 or rows.note.fillna("").str.contains("returned token").any()
        what = ("its tokens differ from the baseline's" if tokens_differ else
                f"no token mismatched the baseline's over {int(rows.timed_checked.sum())} timed requests and "
                f"{int(rows.prompts_judged.sum())} judged prompts ({int(rows.near_ties.sum())} near ties), but its "
                f"logits differ by up to {rows.max_abs_logit_diff.max():.2f}, beyond the tolerance")
        sentences.append(f"✗ `{s}`: {what}.")
    return " ".join(sentences) + ("\n\n" if sentences else "")


def peer_lead_text(run: dict, df: pd.DataFrame, headline: str, peer: str, target: float | None) -> str:
    """The peer's median over the headline's at the lengths both measured, judged against target ('met' only
    where both were measured at every length) or only stated where no target is set; a peer without a measured
    point says why (stopped before it, its points' error or skip note, not configured), and one whose points
    fail the correctness check does not count."""
    lengths = sorted(df.prompt_len.unique())
    peer_lengths = [n for n in lengths if pd.notna(at(df, peer, n))]
    if not peer_lengths:
        notes = [note for note in df[df.strategy == peer].note.dropna() if note]
        why = (f"none of its points was measured ({notes[0]})" if notes else
               "the run stopped before it (its whole-model compile of the sharded HF forward takes minutes)"
               if run["status"] == "interrupted" else "it is not among the run's strategies")
        return f"not measured: {why}"
    peer_ok = df[(df.strategy == peer) & (df.status == "ok")]
    if not (peer_ok.matches_baseline == True).all():  # noqa: E712 (NaN counts as not matching)
        return "not counted: its points fail the correctness check (✗), so its times do not count"
    both = [n for n in peer_lengths if pd.notna(at(df, headline, n))]
    if not both:
        return f"not compared: `{headline}` has no point at a length the peer was measured at"
    leads = [at(df, peer, n) / at(df, headline, n) for n in both]
    if target is None:
        where = ("every length" if len(both) == len(lengths) else
                 f"the {len(both)} of {len(lengths)} lengths where both were measured")
        return f"its median TTFT over `{headline}`'s x{min(leads):.2f}-x{max(leads):.2f} at {where} (above 1: behind)"
    if len(both) < len(lengths):
        return f"not met: both measured at {len(both)} of {len(lengths)} lengths (x{min(leads):.2f} at the least there)"
    return f"{verdict(min(leads) >= target, df, headline)} (x{min(leads):.2f} at the least)"


def scaling(results: Path, one_gpu: str, folder: str, headline: str, order: list[str], goal: dict,
            limit_s: float) -> str:
    """The TP=N run against TP=1: the scaling table, then the targets (speedup, at_10_ms), ready times, the
    all-reduce and the run's status."""
    ratios = over_one_gpu(load_run_samples(results / folder), load_run_samples(results / one_gpu), headline)
    run, df = summary(results / folder)
    one_run, one = summary(results / one_gpu)
    ranks = ranks_of(df)
    at_10 = ratios.p50_reference_ms.get(10, float("nan"))
    return scaling_table(one, df, ratios, headline, order) + (
        f"\n\nTargets for `{headline}` at TP={ranks}: at least x{goal['speedup']} over TP=1 at every length: "
        f"{verdict(ratios.ci_low.min() >= goal['speedup'], df, headline)} (x{ratios.ratio.min():.2f}-"
        f"{ratios.ratio.max():.2f}; every interval's lower end at least x{ratios.ci_low.min():.2f}); at most "
        f"{goal['at_10_ms']} ms at 10 tokens: {verdict(at_10 <= goal['at_10_ms'], df, headline)} ({at_10:.2f} ms). "
        f"Ready (process start until the lengths are prepared): {ready_text(one_run, one, 1, headline)}, "
        f"{ready_text(run, df, ranks, headline)}. {allreduce_text(run)} Run status: {run['status']}"
        f"{interrupted_text(run, df, limit_s)}.")


def wider(results: Path, one_gpu: str, middle: str, folder: str, headline: str, peer: str, order: list[str],
          limit_s: float) -> str:
    """The same shape over more GPUs: the table at TP=1, the middle size and this one, then the peer's lead (no
    target), ready times, the all-reduce, what differs from the TP=1 run (another call) and the run's status."""
    widest, one_samples = load_run_samples(results / folder), load_run_samples(results / one_gpu)
    ratios = over_one_gpu(widest, one_samples, headline)
    run, df = summary(results / folder)
    one, two = summary(results / one_gpu)[1], summary(results / middle)[1]
    ranks = ranks_of(df)
    changed = [f"{key} {shown(key, values[1])} (TP=1: {shown(key, values[0])})"
               for key, values in differences([one_samples, widest])
               if not key.startswith("config.") and shown(key, values[0]) != shown(key, values[1])]
    return wider_table(one, two, df, ratios, headline, order) + "\n\n" + mismatch_text(df) + (
        f"`{peer}` at TP={ranks} (no target set): {peer_lead_text(run, df, headline, peer, None)}. Ready (process "
        f"start until the lengths are prepared): {readies(run, df, ranks, [headline, peer])}. {allreduce_text(run)} "
        f"Measured in another call than TP=1 and TP={ranks_of(two)}; the environment differs in "
        f"{'; '.join(changed) if changed else 'nothing recorded'}. Run status: {run['status']}"
        f"{interrupted_text(run, df, limit_s)}.")


def large(results: Path, folder: str, headline: str, peer: str, order: list[str], goal: dict, limit_s: float) -> str:
    """A model no single GPU holds: every measured strategy per length against the TP floor, then its targets
    (floor_ratio_at_10, peer_lead), ready times, the slowest against one command, the all-reduce, the status."""
    run, df = summary(results / folder)
    floor_ratio = at(df, headline, 10) / at(df, headline, 10, "floor_ms")
    ranks = ranks_of(df)
    return floor_table(df, headline, order) + "\n\n" + mismatch_text(df) + (
        f"Targets for `{headline}` at TP={ranks}: within {goal['floor_ratio_at_10']:.0f}x of the TP floor at 10 "
        f"tokens: {verdict(floor_ratio <= goal['floor_ratio_at_10'], df, headline)} ({floor_ratio:.2f}x); at least "
        f"x{goal['peer_lead']:.2f} ahead of `{peer}`: {peer_lead_text(run, df, headline, peer, goal['peer_lead'])}. "
        f"Ready (process start until the lengths are prepared): {readies(run, df, ranks, [headline, peer])}. "
        f"{slowest_ready_text(run, limit_s)} {allreduce_text(run)} Run status: {run['status']}"
        f"{interrupted_text(run, df, limit_s)}.")
