"""Shared fixtures: tiny configs written to temporary folders."""
from __future__ import annotations

import copy
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TINY = {
    "name": "tiny",
    "model": {"preset": "tiny-llama", "dtype": "float32", "device": "cpu"},
    "prompts": {"lengths": [8, 24], "seed": 0},
    "measure": {"warmup": 1, "repeats": 5},
    "strategies": [{"name": "baseline"}],
}


def tiny_raw(**sections) -> dict:
    """The tiny config with top-level sections replaced."""
    raw = copy.deepcopy(TINY)
    raw.update(sections)
    return raw


@pytest.fixture
def write_config(tmp_path):
    def write(raw: dict | str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw))
        return path
    return write


def other_token(answer, vocab_size: int):
    """A cheating strategy's answer: the next token id instead of the one computed, with the same logits."""
    import dataclasses
    return dataclasses.replace(answer, token=(answer.token + 1) % vocab_size)


@pytest.fixture
def medians():
    """A summary frame from (strategy, length, p50 ms) rows, every point ok and matching the baseline."""
    def frame(rows) -> pd.DataFrame:
        return pd.DataFrame([{"strategy": s, "prompt_len": n, "status": "ok", "matches_baseline": True,
                              "ttft_p50_ms": ms, "note": ""} for s, n, ms in rows])
    return frame


def tiny(preset: str = "tiny-llama", **config_keys):
    """A tiny preset's model on the CPU with perturbed random weights, config_keys set as a config.json would."""
    import torch  # here: the torch-free tests that share this file do not pay for importing it
    from transformers import AutoConfig, AutoModelForCausalLM

    from bench.config.presets import PRESETS
    from bench.models.random_weights import materialize

    values = {**PRESETS[preset], **config_keys}
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(values.pop("model_type"), **values))
    return materialize(model, 0, torch.device("cpu")).eval()


def ids_and_last(length: int, real: int, vocab: int):
    """Random prompt ids [1, length] (seeded by the length) and the index [1] of its last real token."""
    import torch

    ids = torch.randint(0, vocab, (1, length), generator=torch.Generator().manual_seed(length))
    return ids, torch.tensor([real - 1])
