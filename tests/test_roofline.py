"""The roofline floor against hand-computed figures, and its columns in the summary."""
from __future__ import annotations

import pandas as pd
import pytest

from bench.measuring.floor import floor_ms
from bench.measuring.roofline import model_shape
from bench.models.build import preset_config
from bench.reporting.summary import build_summary

# measured on the lent H100: 3.02 TB/s device copy, 752 TFLOP/s fp16 matmul
H100 = {"copy_bytes_per_s": 3.02e12, "matmul_flops_per_s": 752e12, "dtype": "float16"}


def llama2_shape() -> dict:
    return {**model_shape(preset_config("llama-2-7b")), "bytes_per_param": 2}


def test_llama2_shape_is_counted_without_weights():
    shape = llama2_shape()
    assert shape["params"] == 6_738_415_616  # Llama-2-7B's published parameter count
    assert shape["embedding_params"] == shape["lm_head_params"] == 32000 * 4096
    assert shape["tied_embeddings"] is False


# By hand, Llama-2-7B on H100: body = 6,738,415,616 - 2 x 131,072,000 = 6,476,271,616 params.
# n=10: bytes (body + 131,072,000 lm_head + 10 x 4096 rows) x 2 = 13.2148e9 / 3.02e12 = 4.3758 ms;
#       FLOPs 2 x body x 10 + 2 x 131,072,000 + 2 x 10^2 x 4096 x 32 = 1.2981e11 / 752e12 = 0.173 ms.
# n=400: bytes 13.2180e9 -> 4.3768 ms; FLOPs 2 x body x 400 + 2.62e8 + 2 x 400^2 x 4096 x 32 = 5.2232e12
#       -> 6.9458 ms (7.085 if the lm_head ran for all 400 positions).
@pytest.mark.parametrize("n,by_hand", [(10, 4.3758), (400, 6.9458)])
def test_floor_by_hand_for_llama2(n, by_hand):
    assert floor_ms(llama2_shape(), H100, n) == pytest.approx(by_hand, rel=1e-4)


def test_a_tied_lm_head_reads_the_embedding_table_once():
    """params counts the tied table once; the lm_head still reads all of it."""
    shape = {"params": 1_000_000, "embedding_params": 100_000, "lm_head_params": 100_000,
             "tied_embeddings": True, "hidden_size": 100, "layers": 2, "bytes_per_param": 2}
    slow_matmul = {"copy_bytes_per_s": 1e12, "matmul_flops_per_s": 1e6}  # FLOPs bound
    fast_matmul = {"copy_bytes_per_s": 1e6, "matmul_flops_per_s": 1e15}  # bytes bound
    # bytes: (900,000 body + 100,000 lm_head + 4 x 100 rows) x 2 = 2,000,800 / 1e6 B/s
    assert floor_ms(shape, fast_matmul, 4) == pytest.approx(2_000.8)
    # FLOPs: 2 x 900,000 x 4 + 2 x 100,000 + 2 x 16 x 100 x 2 = 7,406,400 / 1e6 FLOP/s
    assert floor_ms(shape, slow_matmul, 4) == pytest.approx(7_406.4)


def test_model_shape_sees_a_tied_lm_head():
    from transformers import Qwen2Config

    config = Qwen2Config(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, vocab_size=256, tie_word_embeddings=True)
    shape = model_shape(config)
    assert shape["tied_embeddings"] is True and shape["lm_head_params"] == shape["embedding_params"] == 256 * 64
    untied = model_shape(Qwen2Config(**{**config.to_dict(), "tie_word_embeddings": False}))
    assert untied["params"] == shape["params"] + 256 * 64


def test_run_json_without_lm_head_keys_is_read_as_untied():
    old = {key: value for key, value in llama2_shape().items() if key not in ("lm_head_params", "tied_embeddings")}
    assert floor_ms(old, H100, 400) == pytest.approx(6.9458, rel=1e-4)


def test_summary_gets_floor_and_efficiency_from_run_json():
    run = {"strategies": {"baseline": {}}, "roofline": {"model": llama2_shape(), "ceilings": H100},
           "points": [{"strategy": "baseline", "prompt_len": 400, "status": "ok"}]}
    samples = pd.DataFrame({"strategy": ["baseline"] * 3, "prompt_len": [400] * 3,
                            "ttft_ns": [14_000_000, 14_000_000, 14_000_000], "server_ttft_ns": [float("nan")] * 3})
    row = build_summary(run, samples).iloc[0]
    assert row.floor_ms == pytest.approx(6.9458, rel=1e-4)  # by hand, above
    assert row.efficiency == pytest.approx(6.9458 / 14.0, rel=1e-4)


def test_cpu_runs_leave_the_columns_empty():
    run = {"strategies": {}, "roofline": {"note": "roofline: the ceilings are measured on CUDA GPUs only"},
           "points": [{"strategy": "baseline", "prompt_len": 10, "status": "skipped", "note": "x"}]}
    df = build_summary(run, pd.DataFrame(columns=["strategy", "prompt_len", "ttft_ns", "server_ttft_ns"]))
    assert df.floor_ms.isna().all() and df.efficiency.isna().all()


def test_tensor_parallel_floor_splits_the_body_and_adds_the_all_reduces():
    """Per GPU: half the body (the split Linears), the whole lm_head, plus 2 all-reduces a layer."""
    shape = {"params": 1_000_000, "embedding_params": 100_000, "lm_head_params": 100_000,
             "tied_embeddings": False, "hidden_size": 100, "layers": 2, "bytes_per_param": 2}
    tp = {"tensor_parallel": 2, "allreduce_ms": {"4": 0.5}, "allreduce_method": "graph"}
    fast_matmul = {"copy_bytes_per_s": 1e6, "matmul_flops_per_s": 1e15, **tp}  # bytes bound
    slow_matmul = {"copy_bytes_per_s": 1e12, "matmul_flops_per_s": 1e6, **tp}  # FLOPs bound
    # bytes: (800,000 body / 2 + 100,000 lm_head + 4 x 100 rows) x 2 = 1,000,800 -> 1,000.8 ms; + 2 x 2 x 0.5 ms
    assert floor_ms(shape, fast_matmul, 4) == pytest.approx(1_002.8)
    # FLOPs: (2 x 800,000 x 4 + 2 x 16 x 100 x 2) / 2 + 2 x 100,000 = 3,403,200 -> 3,403.2 ms; + 2 ms
    assert floor_ms(shape, slow_matmul, 4) == pytest.approx(3_405.2)
    assert floor_ms(shape, slow_matmul, 5) != floor_ms(shape, slow_matmul, 5)  # no all-reduce measured: NaN
    # timed eagerly (one call at a time: an upper bound, not a floor): left out
    eager = {**slow_matmul, "allreduce_method": "eager"}
    assert floor_ms(shape, eager, 4) == pytest.approx(3_403.2)
    assert floor_ms(shape, {k: v for k, v in slow_matmul.items() if k != "allreduce_method"}, 4) == pytest.approx(3_403.2)
