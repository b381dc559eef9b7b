"""The roofline floor against DESIGN.md's figures, and its columns in the summary."""
from __future__ import annotations

import pandas as pd
import pytest

from bench.models.presets import preset_config
from bench.measuring.floor import floor_ms
from bench.measuring.roofline import model_shape
from bench.reporting.summary import build_summary

# DESIGN.md, measured on the lent H100: 3.02 TB/s device copy, 752 TFLOP/s fp16 matmul
H100 = {"copy_bytes_per_s": 3.02e12, "matmul_flops_per_s": 752e12, "dtype": "float16"}


def llama2_shape() -> dict:
    return {**model_shape(preset_config("llama-2-7b")), "bytes_per_param": 2}


def test_llama2_shape_is_counted_without_weights():
    shape = llama2_shape()
    assert shape["params"] == 6_738_415_616  # Llama-2-7B's published parameter count
    assert shape["embedding_params"] == 32000 * 4096


@pytest.mark.parametrize("n,design_floor", [(10, 4.4), (100, 4.4), (400, 7.0)])
def test_floor_matches_design_md(n, design_floor):
    assert floor_ms(llama2_shape(), H100, n) == pytest.approx(design_floor, abs=0.1)


def test_summary_gets_floor_and_efficiency_from_run_json():
    run = {"strategies": {"baseline": {}}, "roofline": {"model": llama2_shape(), "ceilings": H100},
           "points": [{"strategy": "baseline", "prompt_len": 400, "status": "ok"}]}
    samples = pd.DataFrame({"strategy": ["baseline"] * 3, "prompt_len": [400] * 3,
                            "ttft_ns": [14_000_000, 14_000_000, 14_000_000], "server_ttft_ns": [float("nan")] * 3})
    row = build_summary(run, samples).iloc[0]
    assert row.floor_ms == pytest.approx(floor_ms(llama2_shape(), H100, 400))
    assert row.efficiency == pytest.approx(row.floor_ms / 14.0)


def test_cpu_runs_leave_the_columns_empty():
    run = {"strategies": {}, "roofline": {"note": "roofline: the ceilings are measured on CUDA GPUs only"},
           "points": [{"strategy": "baseline", "prompt_len": 10, "status": "skipped", "note": "x"}]}
    df = build_summary(run, pd.DataFrame(columns=["strategy", "prompt_len", "ttft_ns", "server_ttft_ns"]))
    assert df.floor_ms.isna().all() and df.efficiency.isna().all()
