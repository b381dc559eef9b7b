"""The README's result tables and the sentences with numbers around them, generated from the
committed results folders between marker comments, so no number in them is typed by hand.

    python -m bench.reporting.readme_tables README.md results     # what `make readme` runs

Each section sits between `<!-- generated: NAME -->` and `<!-- end generated: NAME -->`; the text
outside the markers is left as it is. Numbers are rounded once, from the raw samples.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from bench.config.names import BASELINE
from bench.reporting.compare import compare_markdown, compare_runs, load_run_samples
from bench.reporting.readme_tp import HEADLINE, PEER, correct, large, scaling, wider
from bench.reporting.report import load_summary

ORDER = (HEADLINE, PEER, "cuda-graph", "jit-only", "hf-generate", BASELINE)  # fastest first, as measured
GRAPH_STRATEGIES = ("cuda-graph", "jit+cuda", PEER)  # the ones that replay a graph
FAMILIES = ("h100-qwen2-7b", "h100-mistral-7b", "h100-pythia-6.9b")  # the non-Llama runs
FAMILY_LENGTHS = (10, 100, 400)  # the lengths their configs measure
COMPARED = ("h100-peers-check", "h100-llama2-7b")  # two runs of one model on one GPU, commits apart


def ranged(values, digits: int = 2, unit: str = "") -> str:
    """'a-b unit' over values (or 'a unit' when they agree at this rounding)."""
    low, high = f"{min(values):.{digits}f}", f"{max(values):.{digits}f}"
    return (low if low == high else f"{low}-{high}") + unit


def p50(df: pd.DataFrame, strategy: str) -> pd.Series:
    """A strategy's TTFT p50 per length (ok points only)."""
    ok = df[(df.strategy == strategy) & (df.status == "ok")]
    return ok.set_index("prompt_len")["ttft_p50_ms"]


def environment_text(run: dict) -> str:
    env = run["environment"]
    return (f"{env.get('gpu')} (driver {env.get('driver')}, torch {env.get('torch')}, transformers "
            f"{env.get('transformers')}, commit {(env.get('git_commit') or 'unknown')[:10]})")


def agreement_text(df: pd.DataFrame) -> str:
    ok = df[df.status == "ok"]
    wrong = ok[ok.matches_baseline != True]  # noqa: E712 (NaN counts as not shown to match)
    if wrong.empty:
        return "Every strategy matches the baseline's first token at every length."
    return f"{len(wrong)} of {len(ok)} measured points do not match the baseline's first token (see table.md)."


def ttft_table(df: pd.DataFrame) -> str:
    """Per length: floor, the headline strategy (bold), its efficiency, its lead over the peer and
    speed-up over the baseline, then every strategy's median TTFT in ms."""
    strategies = [s for s in ORDER if not p50(df, s).empty]
    head, peer, base = p50(df, HEADLINE), p50(df, PEER), p50(df, BASELINE)
    floors = df.drop_duplicates("prompt_len").set_index("prompt_len")["floor_ms"]
    lines = ["| Prompt Length | floor | " + " | ".join(
        [HEADLINE, "efficiency (floor / p50)", f"lead over {PEER}", "speed-up over baseline"]
        + [s for s in strategies if s != HEADLINE]) + " |"]
    lines.append("|" + "---|" * (len(strategies) + 5))
    for n in head.index:
        lead = f"x{peer[n] / head[n]:.2f}" if n in peer.index else "-"  # the peer may not be in the run
        cells = [str(n), f"{floors[n]:.2f}", f"**{head[n]:.2f}**",
                 f"{floors[n] / head[n]:.2f} ({head[n] / floors[n]:.2f}x)", lead,
                 f"x{base[n] / head[n]:.2f}"]
        cells += [f"{p50(df, s).get(n, float('nan')):.2f}" for s in strategies if s != HEADLINE]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def gpu_run_intro(folder: str, run: dict, df: pd.DataFrame) -> str:
    m, c = run["config"]["measure"], run["roofline"]["ceilings"]
    return (f"`results/{folder}/`, from `configs/{folder}.yaml` on {environment_text(run)}, "
            f"{len(run['strategies'])} strategies in one run, {m['repeats']} timed requests per strategy and "
            f"length after {m['warmup']} warm-ups, batch 1, random weights (exact for timing). Ceilings measured "
            f"in the run: {c['copy_bytes_per_s'] / 1e12:.2f} TB/s device copy, {c['matmul_flops_per_s'] / 1e12:.0f} "
            f"TFLOP/s {c['dtype']} matmul. Median TTFT in ms. {agreement_text(df)}")


def claims(df: pd.DataFrame) -> str:
    head, peer, base = p50(df, HEADLINE), p50(df, PEER), p50(df, BASELINE)
    floors = df.drop_duplicates("prompt_len").set_index("prompt_len")["floor_ms"][head.index]
    graphs = df[df.strategy.isin(GRAPH_STRATEGIES) & (df.status == "ok")]
    tail = graphs.ttft_p99_ms / graphs.ttft_p50_ms - 1
    lead = (f"leads `{PEER}` by x{ranged(peer[head.index] / head)} at the {len(head)} lengths and " if
            set(head.index) <= set(peer.index) else f"was measured without `{PEER}` in this run; it ")
    return (f"`{HEADLINE}` {lead}"
            f"sits {ranged(head / floors)}x above the floor. The baseline's median ranges over "
            f"{ranged(base, 1, ' ms')} across lengths; the graph strategies' p99 lies "
            f"{ranged(100 * tail, 0, '%')} above their median.")


def costs(run: dict, df: pd.DataFrame) -> str:
    head = df[(df.strategy == HEADLINE) & (df.status == "ok")].sort_values("prompt_len")
    first = head.loc[head.jit_compile_ms.idxmax()]
    rest = head.drop(index=first.name).jit_compile_ms.dropna()
    s = run["strategies"]
    unseen = ", ".join(f"{s[k]['unseen_ttft_ms']:.1f} ms for `{k}`" for k in (HEADLINE, "cuda-graph", PEER)
                       if s.get(k, {}).get("unseen_ttft_ms") is not None)
    return (f"`{HEADLINE}` compiles once in {first.jit_compile_ms / 1e3:.0f} s (at {first.prompt_len} tokens), "
            f"then {ranged(rest, 0, ' ms')} per further length; a graph captures in "
            f"{ranged(head.graph_capture_ms.dropna(), 0, ' ms')}; its graphs hold "
            f"{head.mem_graphs_gb.max():.2f} GB beside {head.mem_weights_gb.max():.2f} GB of weights. Ready (process "
            f"start until every length is prepared): {ready_text(s)}. The first request at an unseen length "
            f"({s[HEADLINE]['unseen_len']} tokens): {unseen}.")


READY_TARGET_S = 20.0  # the cold-start targets: ready for nine lengths within 20 s of process start,
RESTART_TARGET_S = 10.0  # within 10 s after a restart that finds the compile cache,
UNSEEN_TARGET_MS = 100.0  # an unseen length served within 0.1 s,
FLOOR_TARGET = 1.3  # a median within 1.3x the floor at every length,
LEAD_TARGET = 1.25  # and at least 1.25x ahead of the torch-compile peer at every length


def met(value: float, target: float, unit: str) -> str:
    """'met' or 'missed', with by how much."""
    gap = value - target
    return f"met ({value:.1f} {unit})" if gap <= 0 else f"missed by {gap:.1f} {unit} ({value:.1f} {unit})"


def targets(run: dict, df: pd.DataFrame) -> str:
    """The headline strategy against the cold-start and floor targets, from the run's records."""
    s = run["strategies"][HEADLINE]
    head = p50(df, HEADLINE)
    floors = df.drop_duplicates("prompt_len").set_index("prompt_len")["floor_ms"][head.index]
    within = int((head / floors <= FLOOR_TARGET).sum())
    text = (f"Targets for `{HEADLINE}`: ready for all {len(head)} lengths within {READY_TARGET_S:.0f} s of process "
            f"start (cold compile caches): {met(s['ready_s'], READY_TARGET_S, 's')}")
    if s.get("restart_ready_s") is not None:
        text += (f"; within {RESTART_TARGET_S:.0f} s after a restart that finds the compile cache: "
                 f"{met(s['restart_ready_s'], RESTART_TARGET_S, 's')}, of which the Python imports took "
                 f"{s['restart_imports_s']:.1f} s")
    text += (f"; an unseen length within {UNSEEN_TARGET_MS:.0f} ms: {met(s['unseen_ttft_ms'], UNSEEN_TARGET_MS, 'ms')}"
             f"; median within {FLOOR_TARGET}x the floor: {within} of {len(head)} lengths")
    peer = p50(df, PEER)
    if set(head.index) <= set(peer.index):
        lead = peer[head.index] / head
        text += (f"; at least x{LEAD_TARGET} ahead of `{PEER}` at every length: "
                 f"{'met' if lead.min() >= LEAD_TARGET else 'missed'} (x{ranged(lead)})")
    if not correct(df, HEADLINE):
        text += f"; none of these counts: `{HEADLINE}` fails the correctness check at some length"
    return text + "."


def ready_text(strategies: dict) -> str:
    """Ready time (process start until every length is prepared) of the headline and the peer, where measured."""
    return ", ".join(f"{strategies[k]['ready_s']:.1f} s for `{k}`" for k in (HEADLINE, PEER)
                     if strategies.get(k, {}).get("ready_s") is not None)


def ready_cell(strategy: dict) -> str:
    """Ready time, and after a restart where one ran."""
    ready = strategy.get("ready_s")
    if ready is None:
        return "-"
    restart = strategy.get("restart_ready_s")
    return f"{ready:.1f}" + ("" if restart is None else f" ({restart:.1f} after a restart)")


def family_table(results: Path, folders: tuple[str, ...]) -> str:
    """One row per run: model, status, TTFT p50 of every strategy at each length, points matching."""
    lines = ["| Run | model | status | strategy | " + " | ".join(f"{n} tokens" for n in FAMILY_LENGTHS)
             + " | points matching | fused forward | ready (s) |", "|" + "---|" * (len(FAMILY_LENGTHS) + 7)]
    for folder in folders:
        run, df = load_summary(results / folder)
        for strategy in dict.fromkeys(df.strategy):
            rows = df[df.strategy == strategy]
            ok = rows[rows.status == "ok"]
            cells = [f"{p50(df, strategy).get(n, float('nan')):.2f}" for n in FAMILY_LENGTHS]
            note = " ".join(rows.note.dropna().astype(str))
            fused = "HF forward" if "fused forward not used" in note else ("fused" if strategy.startswith("jit") else "")
            lines.append(f"| `{folder}` | {run['config']['model'].get('preset')} | {run['status']} | {strategy} | "
                         + " | ".join(cells) + f" | {int((ok.matches_baseline == True).sum())}/{len(rows)} | "  # noqa: E712
                         + f"{fused} | {ready_cell(run['strategies'].get(strategy, {}))} |")
    return "\n".join(lines)


def seed_faithful(df: pd.DataFrame) -> str:
    head, speedup = p50(df, HEADLINE), df[(df.strategy == HEADLINE) & (df.status == "ok")].speedup_vs_baseline
    return (f"{head.iloc[0]:.2f} ms at {head.index[0]} tokens to {head.iloc[-1]:.2f} ms at {head.index[-1]}, "
            f"x{speedup.iloc[0]:.2f} to x{speedup.iloc[-1]:.2f} over the baseline. {agreement_text(df)}")


def ipc(run: dict, df: pd.DataFrame) -> str:
    rows = df[df.server_ttft_p50_ms.notna()]
    table = ["| Prompt Length | strategy | client | server | IPC overhead |", "|---|---|---|---|---|"]
    table += [f"| {r.prompt_len} | {r.strategy} | {r.ttft_p50_ms:.2f} | {r.server_ttft_p50_ms:.2f} | "
              f"{r.ipc_overhead_ms:.2f} |" for r in rows.sort_values(["prompt_len", "strategy"]).itertuples()]
    base = rows[rows.strategy == BASELINE]
    return (f"On {environment_text(run)}, {run['config']['measure']['repeats']} requests per point. Median TTFT "
            f"in ms:\n\n" + "\n".join(table) + f"\n\nThe socket costs {ranged(rows.ipc_overhead_ms, 2, ' ms')} a "
            f"request; the baseline's server TTFT ranges over {ranged(base.server_ttft_p50_ms, 1, ' ms')}.")


def comparison(results: Path) -> str:
    runs = [load_run_samples(results / name) for name in COMPARED]
    text = compare_markdown(runs, compare_runs(runs), 0.95).replace(str(results) + "/", "results/")
    command = "python -m bench compare " + " ".join(f"results/{n}" for n in COMPARED)
    return f"```sh\n{command}\n```\n\n" + re.sub(r"^#", "####", text, flags=re.M).strip()


def sections(results: Path) -> dict[str, str]:
    """Every generated section's text by name."""
    out = {}
    for folder in ("h100-llama2-7b", "h100-llama3-8b"):
        run, df = load_summary(results / folder)
        out[f"{folder}-intro"] = gpu_run_intro(folder, run, df)
        out[f"{folder}-table"] = ttft_table(df)
        out[f"{folder}-claims"] = claims(df)
    run, df = load_summary(results / "h100-llama2-7b")
    out["h100-llama2-7b-costs"] = costs(run, df)
    out["h100-llama2-7b-targets"] = targets(run, df)
    out["seed-faithful"] = seed_faithful(load_summary(results / "seed-faithful")[1])
    out["h100-llama2-7b-ipc"] = ipc(*load_summary(results / "h100-llama2-7b-ipc"))
    out["compare"] = comparison(results)
    out["families"] = family_table(results, FAMILIES)
    out["tensor-parallel-7b"] = scaling(results)
    out["tensor-parallel-7b-tp4"] = wider(results)
    out["tensor-parallel-70b"] = large(results)
    return out


def fill(text: str, generated: dict[str, str]) -> str:
    """text with each marked section replaced; a marker pair without a section is an error."""
    pattern = re.compile(r"(<!-- generated: (\S+) -->\n).*?(\n<!-- end generated: \2 -->)", re.S)

    def replace(m: re.Match) -> str:
        if m.group(2) not in generated:
            raise ValueError(f"README marker names no generated section: {m.group(2)}")
        return m.group(1) + generated[m.group(2)] + m.group(3)

    return pattern.sub(replace, text)


def main(argv: list[str]) -> int:
    readme, results = Path(argv[0]), Path(argv[1])
    readme.write_text(fill(readme.read_text(), sections(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
