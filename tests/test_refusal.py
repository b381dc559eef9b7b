"""A strategy refuses a model it can't run (graphs and mixture-of-experts): every point skipped, with the reason."""
from __future__ import annotations

import dataclasses

from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.models.build import preset_config
from bench.reporting.records import StrategyRecord
from bench.running.worker import run_job
from bench.scenarios.events import PointEvent, StrategyEvent
from strategies.baseline import Baseline
from strategies.cuda_graph import CudaGraph
from strategies.jit_cuda import JitCuda
from strategies.option_types import OPTION_TYPES
from strategies.registry import REGISTRY
from tests.conftest import tiny_raw


def test_graph_strategies_refuse_mixture_of_experts_models():
    for preset in ("tiny-mixtral", "tiny-qwen2-moe"):
        for strategy in (CudaGraph, JitCuda):
            reason = strategy.refusal_reason(preset_config(preset))
            assert reason and "mixture-of-experts" in reason and "experts=4" in reason


def test_graph_strategies_take_dense_models_and_others_take_everything():
    assert CudaGraph.refusal_reason(preset_config("tiny-llama")) is None
    assert JitCuda.refusal_reason(preset_config("tiny-qwen2")) is None
    assert Baseline.refusal_reason(preset_config("tiny-mixtral")) is None


def test_a_refused_strategy_is_skipped_at_every_length_with_the_reason(monkeypatch, tmp_path):
    class Picky(Baseline):
        name = "picky"

        @classmethod
        def refusal_reason(cls, model_config):
            return f"refuses {model_config.model_type}"

    monkeypatch.setitem(REGISTRY, "picky", Picky)
    monkeypatch.setitem(OPTION_TYPES, "picky", Picky.options_type)
    job = dataclasses.replace(build_job(parse_config(tiny_raw(strategies=["picky"])), "picky"), run_folder=tmp_path)
    events = []
    run_job(job, events.append)
    points = [e.point for e in events if isinstance(e, PointEvent)]
    assert [(p.prompt_len, p.status, p.note) for p in points] == [(8, "skipped", "refuses llama"),
                                                                  (24, "skipped", "refuses llama")]
    assert StrategyEvent(StrategyRecord(status="skipped", note="refuses llama")) in events
