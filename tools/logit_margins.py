"""How far the baseline's top logit leads the runner-up on each judged prompt, real weights against random.

    make checkpoint && PYTHONPATH=. python tools/logit_margins.py   # a minute or two on a CPU
    # writes results/smollm2-135m-cpu/margins.csv and margins.md

For each config (the real checkpoint, and its random-weight twin of the same shape) the baseline is
built as a run builds it and asked for the next-token logits of the prompts the run judged (the
config fixes them). Per prompt: the top logit, its margin over the runner-up, that margin relative
to the top logit and to the correctness tolerance (bench/judging/correctness.py), and the tokens
other than the top within the tolerance of it: each one a token the check would accept as a near
tie. margins.md adds the runs' near ties per point, from their summary.csv.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from bench.config.schema import load_config
from bench.jobs.build import build_job
from bench.judging.correctness import CALIBRATED_LAYERS, tolerance
from bench.measuring.logits import host_copy
from bench.models.dtypes import TORCH_DTYPES
from bench.reporting.tables import markdown_table
from bench.targets.loading import load_strategy

REAL = ("configs/smollm2-135m.yaml", "results/smollm2-135m-cpu")
RANDOM = ("configs/smollm2-135m-random.yaml", "results/smollm2-135m-random-cpu")


@dataclass(frozen=True)
class Margin:
    """One judged prompt's top two logits against the tolerance of the run's dtype."""
    config: str
    prompt_len: int
    prompt_index: int
    top_logit: float
    top2_margin: float
    margin_over_top: float
    tolerance: float
    margin_over_tolerance: float
    rivals_within_tolerance: int  # tokens other than the top within the tolerance of it
    # the same margin against the tolerances of the half-precision runs (the GPU results are float16 and
    # bfloat16): below 1, a rival could pass as a near tie if these logits had been computed in that dtype
    margin_over_float16_tolerance: float
    margin_over_bfloat16_tolerance: float


def prompt_margin(logits: torch.Tensor, dtype: torch.dtype, layers: int) -> dict:
    """logits: [V] fp32; the Margin fields that depend on them alone."""
    top2 = torch.topk(logits, 2).values
    top, margin = float(top2[0]), float(top2[0] - top2[1])
    tol = tolerance(dtype, logits, layers)
    return {"top_logit": top, "top2_margin": margin, "margin_over_top": margin / abs(top), "tolerance": tol,
            "margin_over_tolerance": margin / tol, "rivals_within_tolerance": int((logits >= top - tol).sum()) - 1,
            "margin_over_float16_tolerance": margin / tolerance(torch.float16, logits, layers),
            "margin_over_bfloat16_tolerance": margin / tolerance(torch.bfloat16, logits, layers)}


def config_margins(config_path: str) -> list[Margin]:
    """Build the config's baseline and measure every judged prompt of every length."""
    job = build_job(load_config(config_path))
    dtype = TORCH_DTYPES[job.config.model.dtype]
    with torch.inference_mode():
        baseline = load_strategy(job).strategy
        return [Margin(job.config.name, n, i, **prompt_margin(host_copy(baseline.first_token(list(ids)).logits), dtype,
                                                              job.model.layers))
                for n, prompts in sorted(job.prompts.items()) for i, ids in enumerate(prompts)]


def near_ties(run_folder: Path) -> pd.DataFrame:
    """The run's ok points that judged prompts: strategy, prompt_len, near_ties (from summary.csv)."""
    df = pd.read_csv(run_folder / "summary.csv")
    return df[(df["status"] == "ok") & (df["prompts_judged"] > 0)][["strategy", "prompt_len", "near_ties"]]


def within(ratios: pd.Series) -> str:
    """'k/n': prompts whose margin is at most the tolerance (ratio <= 1)."""
    return f"{int((ratios <= 1).sum())}/{len(ratios)}"


def summary_markdown(by_config: dict[str, list[Margin]], ties: dict[str, pd.DataFrame]) -> str:
    """A table with one row per config (margins, near ties), then the same facts as a paragraph."""
    rows, sentences = [], []
    for name, margins in by_config.items():
        m = pd.DataFrame([dataclasses.asdict(x) for x in margins])
        t = ties[name]
        rivals = f"{int((m.rivals_within_tolerance > 0).sum())}/{len(m)}"
        fp16, bf16 = within(m.margin_over_float16_tolerance), within(m.margin_over_bfloat16_tolerance)
        total, most = int(t.near_ties.sum()), int(t.near_ties.max())
        rows.append([name, str(len(m)), f"{m.top_logit.median():.2f}", f"{m.top2_margin.median():.3g}",
                     f"{m.top2_margin.min():.3g}", f"{m.margin_over_top.median():.2%}",
                     f"{m.margin_over_tolerance.min():.3g}", rivals, fp16, bf16,
                     f"{total} in {len(t)} points (max {most})"])
        sentences.append(f"On `{name}` the top logit leads the runner-up by a median {m.top2_margin.median():.3g} "
                         f"({m.margin_over_top.median():.2%} of the top logit) and by {m.top2_margin.min():.3g} at "
                         f"the least, {m.margin_over_tolerance.min():.3g} times the run's tolerance; {rivals} "
                         f"prompts have a rival token within that tolerance, {fp16} within the float16 one and "
                         f"{bf16} within the bfloat16 one; its run counted {total} near ties in {len(t)} points, at "
                         f"most {most} in one.")
    header = ["config", "prompts", "top logit (median)", "top-2 margin (median)", "top-2 margin (min)",
              "margin / top (median)", "margin / tolerance (min)", "prompts with a rival within tolerance",
              "within the float16 tolerance", "within the bfloat16 tolerance", "near ties in the run"]
    # up to CALIBRATED_LAYERS a tolerance is a fixed fraction of the largest |logit|: the value at a largest of 1
    fractions = ", ".join(f"{str(d).removeprefix('torch.')} {tolerance(d, torch.ones(1), 1):.3g}"
                          for d in (torch.float32, torch.float16, torch.bfloat16))
    return ("# The baseline's top-2 logit margins: SmolLM2-135M, real and random weights (float32, CPU)\n\n"
            "Written by `tools/logit_margins.py` from the judged prompts of the two runs beside it "
            f"(per prompt: `margins.csv`). Tolerances as a fraction of the largest |logit|, up to "
            f"{CALIBRATED_LAYERS} decoder layers, as here: {fractions}.\n\n"
            + markdown_table(header, rows) + "\n\n" + " ".join(sentences) + "\n")


def write_csv(path: Path, margins: list[Margin]) -> None:
    """margins.csv: one row per config and judged prompt, values rounded to what the check can tell apart."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([field.name for field in dataclasses.fields(Margin)])
        for m in margins:
            writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in dataclasses.astuple(m)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(REAL[1]), help="where margins.csv and margins.md go")
    args = parser.parse_args(argv)
    by_config, ties = {}, {}
    for config_path, run_folder in (REAL, RANDOM):
        margins = config_margins(config_path)
        by_config[margins[0].config] = margins
        ties[margins[0].config] = near_ties(Path(run_folder))
    write_csv(args.out / "margins.csv", [m for margins in by_config.values() for m in margins])
    (args.out / "margins.md").write_text(summary_markdown(by_config, ties))
    print(f"written: {args.out}/margins.csv, {args.out}/margins.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
