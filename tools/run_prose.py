"""The sentences with numbers that the documents say about one GPU run: the headline, the claims under its
table, what it cost, its targets met or missed, a range over the baseline, and the families' table.
Every number comes from the run's record and summary; the targets come from docs/sections.yaml."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.config.names import BASELINE
from bench.reporting.doc_tables import agreement_text, floors, left_out_text, p50, ranged, speedup_text
from bench.reporting.stats import RatioEstimate
from bench.reporting.tables import markdown_table
from tools.summaries import summary


def correct(df: pd.DataFrame, strategy: str) -> bool:
    """Every point of the strategy measured and matching the baseline: only then does a target count."""
    rows = df[df.strategy == strategy]
    return len(rows) > 0 and bool((rows.status == "ok").all() and (rows.matches_baseline == True).all())  # noqa: E712


def shared_lengths(head: pd.Series, other) -> tuple[list[int], str]:
    """The strategy's lengths that `other` (a peer's lengths) also has, and where that is not all of them (a run
    that ended early), the phrase naming them: ' at the 7 lengths both measured (10-300)'; else ''."""
    both = [n for n in head.index if n in other]
    where = (f" at the {len(both)} lengths both measured ({min(both)}-{max(both)})"
             if both and len(both) < len(head) else "")
    return both, where


def lead_text(head: pd.Series, lead: dict[int, RatioEstimate]) -> tuple[str, str]:
    """('x1.07-1.14 (95% intervals within x1.05-1.16)', where): the lead over the peer across the lengths both
    measured and its intervals' outer ends, and shared_lengths' phrase. ('', '') where they share none."""
    both, where = shared_lengths(head, lead)
    if not both:
        return "", ""
    ests = [lead[n] for n in both]
    return (f"x{ranged([e.ratio for e in ests])} ({ests[0].level:.0%} intervals within "
            f"x{min(e.low for e in ests):.2f}-{max(e.high for e in ests):.2f})"), where


def headline(run: dict, df: pd.DataFrame, strategy: str, peer: str, lead: dict[int, RatioEstimate]) -> str:
    """A few lines for the front page: the machine and model, the strategy's median range, its lead over the
    peer (`lead`, from doc_tables.leads) and its distance from the floor, and whether every strategy agreed
    with the baseline."""
    head = p50(df, strategy)
    env, model = run["environment"], run["config"]["model"]
    text, where = lead_text(head, lead)
    lead = f", {text} ahead of `{peer}`{where}" if text else ""
    return (f"On one {env['gpu']} ({run['started'][:10]}), {model.get('preset') or 'the model'} shape in "
            f"{model.get('dtype')}, batch 1: `{strategy}` answers in {ranged(head, 2, ' ms')} (median) over "
            f"{len(head)} prompt lengths ({head.index.min()}-{head.index.max()} tokens){lead}, "
            f"{ranged(head / floors(df)[head.index])}x the roofline floor. {agreement_text(df)}")


def claims(df: pd.DataFrame, strategy: str, peer: str, graph_strategies: list[str],
           lead: dict[int, RatioEstimate]) -> str:
    """The strategy's lead over the peer (`lead`, from doc_tables.leads) and distance from the floor, the
    baseline's spread, the graphs' tails."""
    head, base = p50(df, strategy), p50(df, BASELINE)
    floor = floors(df)[head.index]
    graphs = df[df.strategy.isin(graph_strategies) & (df.status == "ok")]
    tail = graphs.ttft_p99_ms / graphs.ttft_p50_ms - 1
    text, where = lead_text(head, lead)
    lead = (f"leads `{peer}` by {text}{where or f' at the {len(head)} lengths'} and " if text
            else f"was measured without `{peer}` in this run; it ")
    return (f"`{strategy}` {lead}"
            f"sits {ranged(head / floor)}x above the floor. The baseline's median ranges over "
            f"{ranged(base, 1, ' ms')} across lengths; the graph strategies' p99 lies "
            f"{ranged(100 * tail, 0, '%')} above their median.")


def ready_text(strategies: dict, names: list[str]) -> str:
    """Ready time (process start until every length is prepared) of each named strategy, where measured."""
    return ", ".join(f"{strategies[k]['ready_s']:.1f} s for `{k}`" for k in names
                     if strategies.get(k, {}).get("ready_s") is not None)


def costs(run: dict, df: pd.DataFrame, strategy: str, peer: str, unseen_of: list[str]) -> str:
    """What the strategy's speed costs: its compiles, captures, graph memory, ready time, the unseen length."""
    head = df[(df.strategy == strategy) & (df.status == "ok")].sort_values("prompt_len")
    first = head.loc[head.jit_compile_ms.idxmax()]
    rest = head.drop(index=first.name).jit_compile_ms.dropna()
    s = run["strategies"]
    unseen = ", ".join(f"{s[k]['unseen_ttft_ms']:.1f} ms for `{k}`" for k in unseen_of
                       if s.get(k, {}).get("unseen_ttft_ms") is not None)
    return (f"`{strategy}` compiles once in {first.jit_compile_ms / 1e3:.0f} s (at {first.prompt_len} tokens), "
            f"then {ranged(rest, 0, ' ms')} per further length; a graph captures in "
            f"{ranged(head.graph_capture_ms.dropna(), 0, ' ms')}; its graphs hold "
            f"{head.mem_graphs_gb.max():.2f} GB beside {head.mem_weights_gb.max():.2f} GB of weights. Ready (process "
            f"start until every length is prepared): {ready_text(s, [strategy, peer])}. The first request at an "
            f"unseen length ({s[strategy]['unseen_len']} tokens): {unseen}.")


def met(value: float, target: float, unit: str) -> str:
    """'met' or 'missed', with by how much."""
    gap = value - target
    return f"met ({value:.1f} {unit})" if gap <= 0 else f"missed by {gap:.1f} {unit} ({value:.1f} {unit})"


def targets(run: dict, df: pd.DataFrame, strategy: str, peer: str, goal: dict) -> str:
    """The strategy against the cold-start and floor targets of `goal` (ready_s, restart_ready_s, unseen_ms,
    floor_ratio, peer_lead), from the run's records."""
    s = run["strategies"][strategy]
    head = p50(df, strategy)
    within = int((head / floors(df)[head.index] <= goal["floor_ratio"]).sum())
    text = (f"Targets for `{strategy}`: ready for all {len(head)} lengths within {goal['ready_s']:.0f} s of process "
            f"start (cold compile caches): {met(s['ready_s'], goal['ready_s'], 's')}")
    if s.get("restart_ready_s") is not None:
        text += (f"; within {goal['restart_ready_s']:.0f} s after a restart that finds the compile cache: "
                 f"{met(s['restart_ready_s'], goal['restart_ready_s'], 's')}, of which the Python imports took "
                 f"{s['restart_imports_s']:.1f} s")
    text += (f"; an unseen length within {goal['unseen_ms']:.0f} ms: "
             f"{met(s['unseen_ttft_ms'], goal['unseen_ms'], 'ms')}"
             f"; median within {goal['floor_ratio']}x the floor: {within} of {len(head)} lengths")
    peer_p50 = p50(df, peer)
    both, where = shared_lengths(head, peer_p50.index)
    if both:
        lead = peer_p50[both] / head[both]
        text += (f"; at least x{goal['peer_lead']} ahead of `{peer}` at every length: "
                 f"{'met' if lead.min() >= goal['peer_lead'] else 'missed'} (x{ranged(lead)}{where})")
    if not correct(df, strategy):
        text += f"; none of these counts: `{strategy}` fails the correctness check at some length"
    return text + "."


def range_over_baseline(df: pd.DataFrame, strategy: str) -> str:
    """The strategy's median and speed-up over the baseline (with its interval, or left out where the baseline
    was unstable) at the shortest and the longest length."""
    head = p50(df, strategy)
    ends = [head.index[0], head.index[-1]]
    first, last = (speedup_text(df, strategy, n) for n in ends)
    speedups = f", {first} to {last} over the baseline" if "-" not in (first, last) else ""
    return " ".join(filter(None, [f"{head.iloc[0]:.2f} ms at {ends[0]} tokens to {head.iloc[-1]:.2f} ms at "
                                  f"{ends[1]}{speedups}.", left_out_text(df, ends), agreement_text(df)]))


def ready_cell(strategy: dict) -> str:
    """Ready time, and after a restart where one ran."""
    ready = strategy.get("ready_s")
    if ready is None:
        return "-"
    restart = strategy.get("restart_ready_s")
    return f"{ready:.1f}" + ("" if restart is None else f" ({restart:.1f} after a restart)")


def family_table(results: Path, folders: list[str], lengths: list[int]) -> str:
    """One row per run and strategy: model, status, TTFT p50 at each length, points matching, whether the JIT
    strategies used the fused forward, ready time."""
    rows = []
    for folder in folders:
        run, df = summary(results / folder)
        for strategy in dict.fromkeys(df.strategy):
            points = df[df.strategy == strategy]
            ok = points[points.status == "ok"]
            note = " ".join(points.note.dropna().astype(str))
            jit = strategy.startswith("jit")  # the JIT strategies are the ones that may fuse the projections
            fused = "HF forward" if "fused forward not used" in note else ("fused" if jit else "")
            rows.append([f"`{folder}`", str(run["config"]["model"].get("preset")), run["status"], strategy]
                        + [f"{p50(df, strategy).get(n, float('nan')):.2f}" for n in lengths]
                        + [f"{int((ok.matches_baseline == True).sum())}/{len(points)}", fused,  # noqa: E712
                           ready_cell(run["strategies"].get(strategy, {}))])
    header = ["Run", "model", "status", "strategy"] + [f"{n} tokens" for n in lengths] + [
        "points matching", "fused forward", "ready (s)"]
    return markdown_table(header, rows)
