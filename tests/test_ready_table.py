"""The ready-time breakdown: parts in seconds from run.json, the rest as `other`, partial sums marked."""
from __future__ import annotations

from bench.reporting.ready_table import ready_breakdown


def point(strategy: str, n: int, compile_ms, capture_ms) -> dict:
    return {"strategy": strategy, "prompt_len": n, "status": "ok", "jit_compile_ms": compile_ms,
            "graph_capture_ms": capture_ms}


RUN = {
    "config": {"prompts": {"lengths": [10, 100, 400]}},
    "strategies": {
        "baseline": {"status": "ok", "imports_s": 1.0, "model_build_ms": 500.0, "setup_ms": 0.0, "ready_s": 2.0},
        "jit+cuda": {"status": "ok", "imports_s": 1.0, "model_build_ms": 500.0, "setup_ms": 250.0, "ready_s": 3.0,
                     "restart_ready_s": 2.5},
        "torch-compile": {"status": "ok", "imports_s": 1.5, "model_build_ms": 500.0, "setup_ms": 0.0, "ready_s": 9.0},
        "cuda-graph": {"status": "skipped", "note": "needs CUDA"},  # never ready: no row
    },
    "points": [point("baseline", n, None, None) for n in (10, 100, 400)]
              + [point("jit+cuda", 10, 100.0, None), point("jit+cuda", 100, 200.0, 50.0),
                 point("jit+cuda", 400, None, None)]
              + [point("torch-compile", 10, 1000.0, None)],  # the run ended before its other two lengths
}


def test_each_part_in_seconds_and_other_is_what_the_parts_leave_of_ready():
    lines = ready_breakdown(RUN).splitlines()
    assert lines[0] == ("| strategy | imports | model build | setup | compile (all lengths) | capture (all lengths) "
                        "| other | ready | ready after restart |")
    assert lines[2] == "| baseline | 1.00 | 0.50 | 0.00 | - | - | 0.50 | **2.00** | - |"
    assert lines[3] == "| jit+cuda | 1.00 | 0.50 | 0.25 | 0.30 | 0.05 | 0.90 | **3.00** | 2.50 |"
    assert len(lines) == 5  # the skipped strategy has no ready time


def test_a_sum_over_fewer_lengths_than_the_run_says_so():
    row = ready_breakdown(RUN).splitlines()[4]
    assert row == "| torch-compile | 1.50 | 0.50 | 0.00 | 1.00 (1 of 3 lengths) | - | 6.00 | **9.00** | - |"


def test_no_restart_column_without_a_restart():
    run = {**RUN, "strategies": {k: v for k, v in RUN["strategies"].items() if k != "jit+cuda"}}
    assert "restart" not in ready_breakdown(run)
