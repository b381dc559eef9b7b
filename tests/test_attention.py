"""model.attn_implementation: `auto` (the default) builds SDPA where the model supports it and eager, named in
the strategy's note, where it does not (GPT-J); an explicit choice the model refuses exits 2 naming the key."""
from __future__ import annotations

import dataclasses

import pytest
import torch
from transformers import AutoConfig

from bench.cli import main
from bench.config.errors import ConfigError
from bench.config.schema import ModelConfig, parse_config
from bench.models.attention import attention_note, check_attention
from bench.models.build import build_model, hf_config
from bench.jobs.build import build_job
from bench.running.worker import run_job
from bench.scenarios.events import FatalEvent, PointEvent, StrategyEvent
from tests.conftest import tiny_raw

CPU = torch.device("cpu")


@pytest.fixture
def tiny_gptj(tmp_path) -> str:
    """A tiny GPT-J config.json (transformers refuses SDPA for GPTJForCausalLM)."""
    config = AutoConfig.for_model("gptj", vocab_size=1024, n_embd=64, n_layer=2, n_head=4, n_positions=2048,
                                  rotary_dim=8, bos_token_id=1, eos_token_id=2)  # rotary over half of each 16-wide head
    config.save_pretrained(tmp_path)
    return str(tmp_path / "config.json")


def gptj_raw(path: str, **model_keys) -> dict:
    return tiny_raw(model={"config": path, "dtype": "float32", "device": "cpu", **model_keys})


def test_auto_is_the_default_and_takes_sdpa_where_the_model_supports_it():
    spec = ModelConfig(preset="tiny-llama", dtype="float32", device="cpu")
    assert spec.attn_implementation == "auto"
    model = build_model(spec, hf_config(spec), CPU)
    assert model.config._attn_implementation == "sdpa" and attention_note(spec, model) is None


def test_auto_takes_eager_with_a_note_where_the_model_refuses_sdpa(tiny_gptj):
    spec = ModelConfig(config=tiny_gptj, dtype="float32", device="cpu")
    model = build_model(spec, hf_config(spec), CPU)
    assert model.config._attn_implementation == "eager"
    assert "GPTJForCausalLM does not support SDPA, its attention runs 'eager'" in attention_note(spec, model)
    explicit = dataclasses.replace(spec, attn_implementation="eager")
    assert attention_note(explicit, build_model(explicit, hf_config(explicit), CPU)) is None  # asked for: no note


def test_an_explicit_choice_the_model_refuses_exits_2_naming_the_key(tiny_gptj, write_config, capsys):
    gptj = ModelConfig(config=tiny_gptj, attn_implementation="sdpa")
    with pytest.raises(ConfigError, match="model.attn_implementation: GPTJForCausalLM does not support 'sdpa'"):
        check_attention(gptj, hf_config(gptj))
    llama = ModelConfig(preset="tiny-llama", attn_implementation="sdpa")
    check_attention(llama, hf_config(llama))  # supported: no error
    code = main(["run", str(write_config(gptj_raw(tiny_gptj, attn_implementation="sdpa")))])
    err = capsys.readouterr().err
    assert code == 2 and "model.attn_implementation: GPTJForCausalLM" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_gptj_runs_the_baseline_with_the_default_config_through_a_workers_sweep(tiny_gptj, tmp_path):
    job = dataclasses.replace(build_job(parse_config(gptj_raw(tiny_gptj))), run_folder=tmp_path)
    events: list = []
    run_job(job, events.append)
    assert not [e for e in events if isinstance(e, FatalEvent)]
    started = next(e.record for e in events if isinstance(e, StrategyEvent) and e.record.note)
    assert started.status == "ok" and "does not support SDPA, its attention runs 'eager'" in started.note
    points = [e.point for e in events if isinstance(e, PointEvent)]
    assert [p.prompt_len for p in points] == [8, 24]
    assert all(p.status == "ok" and p.matches_baseline is True for p in points), points
