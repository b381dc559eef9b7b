"""The README's tensor-parallel sections, generated from the committed TP runs and the one-GPU run of the
same model (bench.reporting.readme_tables fills them in): TP=N against TP=1 with the bootstrap interval of
the ratio of medians, the floor, per-GPU memory and ready times, and the targets met or missed."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.config.names import BASELINE
from bench.reporting.compare import RunSamples, compare_runs, differences, load_run_samples
from bench.reporting.report import load_summary

HEADLINE = "jit+cuda"  # the hybrid: the strategy the tables lead with (readme_tables uses these two too)
PEER = "torch-compile"  # the peer it is measured against
ONE_GPU = "h100-llama2-7b"  # TP=1: the same model, seed and weights on one GPU of the same machine, same call
SCALED = "h100x2-llama2-7b-tp2"  # the same 7B shape split over 2 GPUs
WIDER = "h100x4-llama2-7b-tp4"  # the same 7B shape split over 4 GPUs, in a later call
LARGE = "h100x4-llama2-70b-tp4"  # a model no single GPU holds, split over 4
SPEEDUP_TARGET = 1.2  # jit+cuda at TP=2 at least 1.2x faster than at TP=1 at every length
AT_10_TARGET_MS = 4.6  # and at most 4.6 ms at 10 tokens
LARGE_FLOOR_TARGET = 2.0  # 70B at TP=4: within 2x of its TP floor at 10 tokens
LARGE_PEER_TARGET = 1.10  # and at least 1.10x ahead of the torch-compile peer at every length
COMMAND_LIMIT_S = 600  # the device's 10-minute command: a strategy must get ready in one (--resume does the rest)
ORDER = (HEADLINE, PEER, "cuda-graph", "jit-only", BASELINE)


def at(df: pd.DataFrame, strategy: str, n: int, column: str = "ttft_p50_ms") -> float:
    """One ok point's value (NaN where the strategy has no ok point at n)."""
    hit = df[(df.strategy == strategy) & (df.prompt_len == n) & (df.status == "ok")]
    return float(hit[column].iloc[0]) if len(hit) else float("nan")


def ranks_of(df: pd.DataFrame) -> int:
    return int(df.tensor_parallel.dropna().iloc[0])


def correct(df: pd.DataFrame, strategy: str) -> bool:
    """Every point of the strategy measured and matching the baseline: only then does a target count."""
    rows = df[df.strategy == strategy]
    return len(rows) > 0 and bool((rows.status == "ok").all() and (rows.matches_baseline == True).all())  # noqa: E712


def cell(df: pd.DataFrame, strategy: str, n: int) -> str:
    """A median TTFT cell, marked ✗ where the point fails the correctness check; '-' where it has no ok point."""
    ok = df[(df.strategy == strategy) & (df.prompt_len == n) & (df.status == "ok")]
    if ok.empty:
        return "-"
    mark = "" if ok.matches_baseline.iloc[0] == True else " ✗"  # noqa: E712
    return f"{at(df, strategy, n):.2f}{mark}"


def verdict(reached: bool, df: pd.DataFrame) -> str:
    """'met' or 'missed', and never 'met' for a headline whose points fail the correctness check."""
    if not correct(df, HEADLINE):
        return ("not met: not every one of its points was measured and agrees with the baseline, so its times do "
                "not count")
    return "met" if reached else "missed"


def ready_text(run: dict, df: pd.DataFrame, ranks: int, strategy: str = HEADLINE) -> str:
    """A strategy's ready time at this TP size and how many lengths it prepared ('-' if it never got ready)."""
    ready = run["strategies"].get(strategy, {}).get("ready_s")
    lengths = df[df.strategy == strategy].prompt_len.nunique()
    return "-" if ready is None else f"{ready:.1f} s at TP={ranks} ({lengths} lengths)"


def over_one_gpu(tp: RunSamples, one: RunSamples) -> pd.DataFrame:
    """The headline's ratio of medians TP=1 / TP=N per length with its bootstrap interval, indexed by length."""
    ratios = compare_runs([tp, one])
    return ratios[ratios.strategy == HEADLINE].set_index("prompt_len").sort_index()


def number(value: float, digits: int = 2) -> str:
    """A table number, '-' where there is none (NaN)."""
    return "-" if pd.isna(value) else f"{value:.{digits}f}"


def ratio_and_floor(df: pd.DataFrame, n: int, head: pd.DataFrame) -> list[str]:
    """The TP run's cells of one length after its times: the ratio over TP=1 with its interval (head, from
    over_one_gpu; '-' where one of the two runs has no point there), floor, efficiency."""
    r = head.loc[n] if n in head.index else None
    compared = "-" if r is None else f"x{r.ratio:.2f} ({r.ci_low:.2f}-{r.ci_high:.2f})"
    return [compared, number(at(df, HEADLINE, n, "floor_ms")), number(at(df, HEADLINE, n, "efficiency"))]


def scaling(results: Path) -> str:
    """Per length: jit+cuda at TP=1 and TP=N, their ratio of medians with its interval, the TP=N floor and
    efficiency, the other strategies at both sizes and per-GPU peak memory; then the targets."""
    head = over_one_gpu(load_run_samples(results / SCALED), load_run_samples(results / ONE_GPU))
    run, df = load_summary(results / SCALED)
    one_run, one = load_summary(results / ONE_GPU)
    ranks = ranks_of(df)
    others = [s for s in ORDER if s != HEADLINE and s in set(df.strategy)]
    lines = [f"| Prompt Length | {HEADLINE} TP=1 | {HEADLINE} TP={ranks} | speed-up (95% interval) | TP={ranks} floor "
             f"| efficiency | " + " | ".join(f"{s} TP=1 / TP={ranks}" for s in others)
             + f" | peak GB per GPU TP=1 / TP={ranks} |", "|" + "---|" * (7 + len(others))]
    for n in sorted(df.prompt_len.unique()):
        cells = [str(n), cell(one, HEADLINE, n), f"**{cell(df, HEADLINE, n)}**"] + ratio_and_floor(df, n, head)
        cells += [f"{cell(one, s, n)} / {cell(df, s, n)}" for s in others]
        peaks = [number(at(frame, HEADLINE, n, "mem_peak_gb"), 1) for frame in (one, df)]
        cells.append(" / ".join(peaks))
        lines.append("| " + " | ".join(cells) + " |")
    at_10 = head.p50_reference_ms.get(10, float("nan"))
    return "\n".join(lines) + (
        f"\n\nTargets for `{HEADLINE}` at TP={ranks}: at least x{SPEEDUP_TARGET} over TP=1 at every length: "
        f"{verdict(head.ci_low.min() >= SPEEDUP_TARGET, df)} (x{head.ratio.min():.2f}-{head.ratio.max():.2f}; "
        f"every interval's lower end at least x{head.ci_low.min():.2f}); at most {AT_10_TARGET_MS} ms at 10 "
        f"tokens: {verdict(at_10 <= AT_10_TARGET_MS, df)} ({at_10:.2f} ms). Ready (process start until the "
        f"lengths are prepared): {ready_text(one_run, one, 1)}, {ready_text(run, df, ranks)}. "
        f"{allreduce_text(run)} Run status: {run['status']}{interrupted_text(run, df)}.")


def wider(results: Path) -> str:
    """The same shape over 4 GPUs: jit+cuda at TP=1, TP=2 and TP=4, TP=4's ratio of medians over TP=1 with its
    interval, the TP=4 floor and efficiency, every other strategy and per-GPU memory at TP=4; then its lead
    over the peer, its ready time, what differs from the TP=1 run (another call) and the run's status."""
    four, one_gpu = load_run_samples(results / WIDER), load_run_samples(results / ONE_GPU)
    head = over_one_gpu(four, one_gpu)
    run, df = load_summary(results / WIDER)
    two = load_summary(results / SCALED)[1]
    ranks = ranks_of(df)
    others = [s for s in ORDER if s != HEADLINE and s in set(df.strategy)]
    lines = [f"| Prompt Length | {HEADLINE} TP=1 / TP={ranks_of(two)} / TP={ranks} | TP={ranks} over TP=1 (95% "
             f"interval) | TP={ranks} floor | efficiency | " + " | ".join(f"{s} TP={ranks}" for s in others)
             + f" | peak GB per GPU TP={ranks} |", "|" + "---|" * (6 + len(others))]
    one = load_summary(results / ONE_GPU)[1]
    for n in sorted(df.prompt_len.unique()):
        times = f"{cell(one, HEADLINE, n)} / {cell(two, HEADLINE, n)} / **{cell(df, HEADLINE, n)}**"
        cells = [str(n), times] + ratio_and_floor(df, n, head)
        cells += [cell(df, s, n) for s in others]
        cells.append(number(at(df, HEADLINE, n, "mem_peak_gb"), 1))
        lines.append("| " + " | ".join(cells) + " |")
    changed = [f"{key} {shown(key, values[1])} (TP=1: {shown(key, values[0])})"
               for key, values in differences([one_gpu, four])
               if not key.startswith("config.") and shown(key, values[0]) != shown(key, values[1])]
    return "\n".join(lines) + "\n\n" + mismatch_text(df) + (
        f"`{PEER}` at TP={ranks} (no target set): {peer_lead_text(run, df, None)}. Ready (process start until the "
        f"lengths are prepared): {readies(run, df, ranks)}. {allreduce_text(run)} "
        f"Measured in another call than TP=1 and TP=2; the environment differs in "
        f"{'; '.join(changed) if changed else 'nothing recorded'}. Run status: {run['status']}"
        f"{interrupted_text(run, df)}.")


def readies(run: dict, df: pd.DataFrame, ranks: int) -> str:
    """The headline's and the peer's ready times, each named."""
    return ", ".join(f"`{s}` {ready_text(run, df, ranks, s)}" for s in (HEADLINE, PEER) if s in run["strategies"])


def shown(key: str, value) -> str:
    """An environment value as the README shows it: a commit by its first 7 hex digits, as git abbreviates it."""
    return str(value)[:7] if key == "git_commit" else str(value)


def slowest_ready_text(run: dict) -> str:
    """Whether every strategy gets ready (its lengths prepared) within one device command, as it must, since a
    resumed run starts an unfinished strategy over: the slowest strategy's ready time against the limit."""
    ready = {name: s["ready_s"] for name, s in run["strategies"].items() if s.get("ready_s") is not None}
    if not ready:
        return "No strategy got ready."
    name = max(ready, key=ready.get)
    limit = (f"the {COMMAND_LIMIT_S // 60}-minute device command in which a strategy must get ready and be "
             f"measured (`--resume` keeps finished strategies only)")
    if ready[name] <= COMMAND_LIMIT_S:
        return f"The slowest to get ready, `{name}`, took {ready[name]:.1f} s, under {limit}."
    return (f"The slowest to get ready, `{name}`, took {ready[name]:.1f} s, over {limit}: it cannot finish under that "
            f"limit.")


def allreduce_text(run: dict) -> str:
    """What one all-reduce of an [n, hidden] activation cost on the run's GPUs, and how it was timed."""
    ceilings = run["roofline"]["ceilings"]
    measured = ", ".join(f"{ms * 1e3:.0f} us at {n} tokens" for n, ms in ceilings["allreduce_ms"].items())
    how = ("inside a CUDA graph" if ceilings.get("allreduce_method") == "graph" else
           "one call at a time, an upper bound that counts the wait for the last rank's launch (left out of the floor)")
    return f"An all-reduce of one activation took {measured}, timed {how}; a forward makes two a layer."


def measured(df: pd.DataFrame) -> list[str]:
    """The strategies with at least one ok point, in the run's order."""
    return list(dict.fromkeys(df[df.status == "ok"].strategy))


def interrupted_text(run: dict, df: pd.DataFrame) -> str:
    """For a run stopped by the command limit: which strategies it measured (one started without a point is
    not among them)."""
    if run["status"] != "interrupted":
        return ""
    return (f" (stopped by the device's 10-minute command limit; strategies with measured points: "
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


def peer_lead_text(run: dict, df: pd.DataFrame, target: float | None) -> str:
    """The peer's median over the headline's at the lengths both measured, judged against target ('met' only
    where both were measured at every length) or only stated where no target is set; a peer without a measured
    point says why (stopped before it, its points' error or skip note, not configured), and one whose points
    fail the correctness check does not count."""
    lengths = sorted(df.prompt_len.unique())
    peer_lengths = [n for n in lengths if pd.notna(at(df, PEER, n))]
    if not peer_lengths:
        notes = [note for note in df[df.strategy == PEER].note.dropna() if note]
        why = (f"none of its points was measured ({notes[0]})" if notes else
               "the run stopped before it (its whole-model compile of the sharded HF forward takes minutes)"
               if run["status"] == "interrupted" else "it is not among the run's strategies")
        return f"not measured: {why}"
    peer_ok = df[(df.strategy == PEER) & (df.status == "ok")]
    if not (peer_ok.matches_baseline == True).all():  # noqa: E712 (NaN counts as not matching)
        return "not counted: its points fail the correctness check (✗), so its times do not count"
    both = [n for n in peer_lengths if pd.notna(at(df, HEADLINE, n))]
    if not both:
        return f"not compared: `{HEADLINE}` has no point at a length the peer was measured at"
    leads = [at(df, PEER, n) / at(df, HEADLINE, n) for n in both]
    if target is None:
        where = ("every length" if len(both) == len(lengths) else
                 f"the {len(both)} of {len(lengths)} lengths where both were measured")
        return f"its median TTFT over `{HEADLINE}`'s x{min(leads):.2f}-x{max(leads):.2f} at {where} (above 1: behind)"
    if len(both) < len(lengths):
        return f"not met: both measured at {len(both)} of {len(lengths)} lengths (x{min(leads):.2f} at the least there)"
    return f"{verdict(min(leads) >= target, df)} (x{min(leads):.2f} at the least)"


def large(results: Path) -> str:
    """The model no GPU holds: every measured strategy per length against the TP floor, and its targets."""
    run, df = load_summary(results / LARGE)
    strategies = [s for s in ORDER if s in set(df.strategy)]
    lengths = sorted(df.prompt_len.unique())
    lines = ["| Prompt Length | TP floor | " + " | ".join(strategies) + " |", "|" + "---|" * (2 + len(strategies))]
    for n in lengths:
        cells = [str(n), number(at(df, HEADLINE, n, "floor_ms"))]
        cells += [cell(df, s, n) for s in strategies]
        lines.append("| " + " | ".join(cells) + " |")
    head_10, floor_10 = at(df, HEADLINE, 10), at(df, HEADLINE, 10, "floor_ms")
    floor_ratio = head_10 / floor_10
    return "\n".join(lines) + "\n\n" + mismatch_text(df) + (
        f"Targets for `{HEADLINE}` at TP={ranks_of(df)}: within {LARGE_FLOOR_TARGET:.0f}x of the TP floor at 10 "
        f"tokens: {verdict(floor_ratio <= LARGE_FLOOR_TARGET, df)} ({floor_ratio:.2f}x); at least "
        f"x{LARGE_PEER_TARGET:.2f} ahead of `{PEER}`: {peer_lead_text(run, df, LARGE_PEER_TARGET)}. Ready "
        f"(process start until the lengths are prepared): {readies(run, df, ranks_of(df))}. "
        f"{slowest_ready_text(run)} {allreduce_text(run)} Run status: {run['status']}{interrupted_text(run, df)}.")
