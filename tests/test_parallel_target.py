"""Tensor parallel through the sweep on the CPU (gloo, 2 ranks, tiny Llama float32): a whole run is judged
against the one-device baseline, and a rank that raises or hangs gives error rows and leaves no process."""
from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from bench.cli import main
from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.judging.references import REFERENCE_FILE
from bench.measuring.clocks import GB
from bench.models.build import build_model, hf_config, parameter_bytes
from bench.parallel.target import RanksGone, TpTarget
from bench.scenarios.events import PointEvent
from bench.scenarios.sweep import run_sweep
from tests.conftest import tiny_raw

pytestmark = pytest.mark.slow  # each test launches a run on 2 ranks

LENGTHS = [8, 24]
TP_RUN = tiny_raw(model={"preset": "tiny-llama", "dtype": "float32", "device": "cpu", "tensor_parallel": 2},
                  prompts={"lengths": LENGTHS, "per_length": 2}, measure={"warmup": 1, "repeats": 2},
                  strategies=["baseline", {"name": "jit-only", "options": {"forward_jit": "none"}}])


def test_a_tp2_run_matches_the_one_device_baseline_at_every_point(write_config, tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(write_config(TP_RUN)), "--out", str(out)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2 * len(LENGTHS)
    assert (summary.status == "ok").all() and summary.matches_baseline.all(), summary.note.tolist()
    assert (summary.tensor_parallel == 2).all() and (summary.prompts_judged == 2).all()
    strategies = json.loads((out / "run.json").read_text())["strategies"]
    assert all(s["unseen_matches_baseline"] for s in strategies.values())
    # the references are the one-device baseline's: the whole model built in one process, same seed
    cfg = parse_config(TP_RUN)
    whole = build_model(cfg.model, hf_config(cfg.model), torch.device("cpu"))
    refs = torch.load(out / REFERENCE_FILE, weights_only=True)
    ids = torch.tensor([build_job(cfg).prompts[LENGTHS[0]][1]])
    with torch.inference_mode():
        assert torch.equal(refs[f"{LENGTHS[0]}/1"]["logits"], whole(ids).logits[0, -1].float())
    # and the strategies ran on shards: each rank holds less than the whole model
    assert (summary.mem_weights_gb < parameter_bytes(whole) / GB).all()


def faulty_rank(rank, world_size, job_dict, commands, replies, fault: str, pid_folder: str):
    """serve_rank, except that rank 1 raises or hangs on its first timed request; records its pid."""
    import bench.parallel.rank as tp_rank

    Path(pid_folder, f"rank{rank}").write_text(str(os.getpid()))
    real = tp_rank.run_command

    def run_command(loaded, device, command):
        if rank == 1 and command[0] == "first_token":
            if fault == "raise":
                raise RuntimeError("injected fault")
            time.sleep(3600)
        return real(loaded, device, command)

    tp_rank.run_command = run_command
    return tp_rank.serve_rank(rank, world_size, job_dict, commands, replies)


@pytest.mark.parametrize("fault,reason", [("raise", "rank 1: RuntimeError: injected fault"),
                                          ("hang", "no answer to first_token within 5 s")])
def test_a_rank_that_raises_or_hangs_gives_error_rows_and_leaves_no_process(fault, reason, tmp_path):
    raw = {**TP_RUN, "prompts": {"lengths": LENGTHS, "per_length": 1},
           "model": {**TP_RUN["model"], "tp_reference": "tensor-parallel"}}
    cfg = parse_config({**raw, "output": str(tmp_path)})
    job = build_job(cfg)
    job.run_folder.mkdir()
    rank_fn = functools.partial(faulty_rank, fault=fault, pid_folder=str(tmp_path))
    target = TpTarget(job, rank_fn=rank_fn, command_timeout_s=5)  # 5 s: a tiny request takes well under 1 s
    events = []
    try:
        with torch.inference_mode(), pytest.raises(RanksGone):  # the strategy's counters cannot come back
            run_sweep(job, target, events.append)
    finally:
        target.close()
    points = [e.point for e in events if isinstance(e, PointEvent)]
    assert [p.status for p in points] == ["error"] * len(LENGTHS)
    assert reason in points[0].note and "ranks gone" in points[1].note
    for pid_file in tmp_path.glob("rank*"):
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid_file.read_text()), 0)
