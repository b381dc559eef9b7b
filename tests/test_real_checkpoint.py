"""configs/smollm2-135m.yaml through the CLI: a real checkpoint with its tokenizer and English text, where
every CPU strategy must compute the baseline's token on every prompt; and the same check, given a run
whose strategy drops the final norm's weights, must find it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SMOLLM2_CONFIG

CPU_STRATEGIES = {"baseline", "jit-only", "torch-compile", "hf-generate"}
GRAPH_STRATEGIES = {"cuda-graph", "jit+cuda"}
PER_LENGTH = 8  # the config's prompts.per_length default: every length judges 8 windows of the text
# one short length keeps each strategy to its compiles and a few seconds of forwards on 2 cores; the judged
# prompts (all 8), the timed requests and the unseen-length probe are checked as in a full run
FLAGS = ("--lengths", "10", "--repeats", "2")
RUN_TIMEOUT_S = 3600  # generous: the compiles of a 30-layer model on a loaded 2-core machine take minutes
# one thread per process: on 2 cores shared with other work, two OpenMP threads wait on each other at every
# op (a 10-token forward of this model measured 11.6 s with two, 0.7 s with one, at load 15); the check
# compares strategies of the same run, so the thread count changes nothing it judges
THREADS = "1"
# imported by every Python process of the run below (its folder leads PYTHONPATH): hf-generate's worker
# gets a model whose final norm has lost its weights, a bug random weights near 1 would hide
BROKEN_FORWARD = '''
import torch
import strategies.hf_generate as peer

original_setup = peer.HfGenerate.setup

def setup_without_the_final_norm_weights(self, model, ctx):
    with torch.no_grad():
        model.model.norm.weight.fill_(1.0)
    original_setup(self, model, ctx)

peer.HfGenerate.setup = setup_without_the_final_norm_weights
'''


def run_cli(out: Path, *flags: str, pythonpath: str = str(REPO)) -> tuple[subprocess.CompletedProcess, dict]:
    """`python -m bench run configs/smollm2-135m.yaml --out OUT FLAGS...`; its outcome and run.json."""
    proc = subprocess.run([sys.executable, "-m", "bench", "run", str(SMOLLM2_CONFIG), "--out", str(out), *flags],
                          cwd=REPO, env={**os.environ, "PYTHONPATH": pythonpath, "OMP_NUM_THREADS": THREADS}, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    return proc, json.loads((out / "run.json").read_text())


def disagreements(run: dict) -> list[str]:
    """Every sign in run.json that a strategy did not compute the baseline's token: a point not ok (but
    the graph strategies' skips), a judged prompt or timed request that disagreed, a failed probe."""
    found = []
    for p in run["points"]:
        where = f"{p['strategy']} @ {p['prompt_len']}"
        if p["status"] == "skipped" and p["strategy"] in GRAPH_STRATEGIES:
            continue
        if p["status"] != "ok":
            found.append(f"{where}: {p['status']}: {p.get('note')}")
        elif not (p["matches_baseline"] and p["prompts_agreed"] == p["prompts_judged"] == PER_LENGTH
                  and not p.get("timed_mismatches")):
            found.append(f"{where}: {p['prompts_agreed']}/{p['prompts_judged']} agreed, "
                         f"{p.get('timed_mismatches')} timed mismatches: {p.get('note')}")
    for name, info in run["strategies"].items():
        if info.get("status") == "ok" and info.get("unseen_matches_baseline") is False:
            found.append(f"{name}: the unseen-length probe disagreed")
    return found


@pytest.mark.slow
def test_every_cpu_strategy_agrees_with_the_baseline_on_every_real_prompt(smollm2_checkpoint, tmp_path):
    proc, run = run_cli(tmp_path / "run", *FLAGS)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert disagreements(run) == []
    ok = {p["strategy"] for p in run["points"] if p["status"] == "ok"}
    skipped = [p for p in run["points"] if p["status"] == "skipped"]
    assert ok == CPU_STRATEGIES and {p["strategy"] for p in skipped} == GRAPH_STRATEGIES
    assert all("CUDA" in p["note"] for p in skipped)
    # every ok point reports its near ties (a count, 0 where none), and the report carries them
    assert all(isinstance(p["near_ties"], int) for p in run["points"] if p["status"] == "ok")
    assert "near_ties" in (tmp_path / "run" / "summary.csv").read_text().splitlines()[0].split(",")


@pytest.mark.slow
def test_the_check_finds_a_strategy_whose_forward_drops_the_final_norm_weights(smollm2_checkpoint, tmp_path):
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(BROKEN_FORWARD)
    _, run = run_cli(tmp_path / "run", "--strategies", "hf-generate", *FLAGS, pythonpath=f"{inject}{os.pathsep}{REPO}")
    found = disagreements(run)
    assert found and all(line.startswith("hf-generate") for line in found), found
