"""The `load:` section: defaults, normalised levels, and every bad value refused in one line naming it."""
from __future__ import annotations

import pytest

from bench.config.errors import ConfigError
from bench.config.load import DEFAULT_CONCURRENCY, ServerBatching
from bench.config.overrides import Overrides, apply_overrides
from bench.config.schema import parse_config
from tests.conftest import tiny_raw

STRATEGIES = ["baseline", {"name": "jit-only", "options": {"forward_jit": "none"}}]


def load_of(**section):
    return parse_config(tiny_raw(strategies=STRATEGIES, load=section)).load


def test_no_section_no_load_and_an_empty_one_takes_the_defaults():
    assert parse_config(tiny_raw()).load is None
    load = load_of()
    assert load.concurrency == DEFAULT_CONCURRENCY and load.rates == () and load.batching == (ServerBatching(),)
    assert load.lengths is None and load.strategies is None and load.burstiness == 1.0


def test_levels_run_closed_loop_then_open_loop_each_ascending():
    load = load_of(concurrency=[4, 1], rates=[300, 50.5], batching=[{"max_batch": 16, "max_wait_us": 200},
                                                                     {"max_batch": 1}])
    assert load.levels() == [("concurrency", 1), ("concurrency", 4), ("rate", 50.5), ("rate", 300.0)]
    assert [b.label for b in load.batching] == ["batch16-wait200us", "batch1"]


@pytest.mark.parametrize("section,message", [
    ({"clients": [1]}, "load: unknown key 'clients'; allowed: concurrency, rates, burstiness, lengths"),
    ({"concurrency": [], "rates": []}, "load: give at least one level"),
    ({"concurrency": [0]}, "load.concurrency[0]: expected a positive integer, got 0"),
    ({"concurrency": [2, 2]}, "load.concurrency: duplicate values"),
    ({"concurrency": "1, 2"}, "load.concurrency: expected a list of integers"),
    ({"concurrency": [128]}, "load.concurrency: 128 clients exceed load.max_in_flight (64)"),
    ({"rates": [0]}, "load.rates[0]: expected a positive, finite number, got 0"),
    ({"rates": [float("inf")]}, "load.rates[0]: expected a positive, finite number"),
    ({"rates": [True]}, "load.rates[0]"),
    ({"burstiness": 0}, "load.burstiness: expected a positive, finite number"),
    ({"lengths": [9]}, "load.lengths: 9 is not among prompts.lengths [8, 24]"),
    ({"lengths": []}, "load.lengths: expected a non-empty list of integers"),
    ({"requests": 0}, "load.requests: expected a positive integer"),
    ({"warmup": -1}, "load.warmup: expected an integer >= 0"),
    ({"seed": -1}, "load.seed: expected an integer in [0, 2**63)"),
    ({"slo_ttft_ms": "50"}, "load.slo_ttft_ms: expected a positive, finite number, got '50'"),
    ({"max_in_flight": 0}, "load.max_in_flight: expected a positive integer"),
    ({"max_in_flight": 5000}, "load.max_in_flight: 5000 is above the limit of 1000"),
    ({"max_level_s": 0}, "load.max_level_s: expected a positive, finite number"),
    ({"batching": []}, "load.batching: expected a non-empty list"),
    ({"batching": [{"batch": 4}]}, "load.batching[0]: unknown key 'batch'; allowed: max_batch, max_wait_us"),
    ({"batching": [{"max_batch": 0}]}, "load.batching.max_batch: expected a positive integer, got 0"),
    ({"batching": [{"max_batch": 4, "max_wait_us": -5}]}, "load.batching.max_wait_us: expected an integer >= 0"),
    ({"batching": [{"max_batch": 4}, {"max_batch": 4, "max_wait_us": 0}]},
     "load.batching: each setting may appear once"),
    ({"strategies": ["cuda-graph"]}, "load.strategies: 'cuda-graph' is not a strategy of this config; allowed: "
                                     "baseline, jit-only"),
    ({"strategies": []}, "load.strategies: expected a non-empty list of strategy names"),
])
def test_a_bad_value_is_refused_naming_it(section, message):
    with pytest.raises(ConfigError) as caught:
        load_of(**section)
    assert message in str(caught.value)


def test_load_needs_greedy_sampling_and_one_process():
    with pytest.raises(ConfigError, match="load: needs sampling.mode greedy"):
        parse_config(tiny_raw(sampling={"mode": "temperature"}, load={}))
    with pytest.raises(ConfigError, match="model.tensor_parallel > 1 has none"):
        parse_config(tiny_raw(model={"preset": "tiny-llama", "dtype": "float32", "device": "cpu",
                                     "tensor_parallel": 2}, load={}))


def test_choosing_strategies_on_the_command_line_narrows_the_load_strategies():
    raw = tiny_raw(strategies=STRATEGIES, load={"strategies": ["baseline", "jit-only"]})

    def narrowed(*names):
        return parse_config(apply_overrides(raw, Overrides(strategies=names))).load.strategies
    assert narrowed("jit-only") == ("baseline", "jit-only")
    assert narrowed("baseline") == ("baseline",)
