"""Shared fixtures: tiny configs written to temporary folders."""
from __future__ import annotations

import copy
import sys
from pathlib import Path

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


def two_tops(first: int, second: int, gap: float):
    """[50] fp32 logits: the best two at ids first and second, `gap` apart (5.25 at the top: float16's tolerance is
    0.164 there), over a falling floor (0 at id 0 to -0.98 at id 49: the last ids lie beyond a top 32)."""
    import torch
    logits = -torch.arange(50.0) / 50
    logits[first], logits[second] = 5.25, 5.25 - gap
    return logits


def other_token(answer, vocab_size: int):
    """A cheating strategy's answer: the next token id instead of the one computed, with the same logits."""
    import dataclasses
    return dataclasses.replace(answer, token=(answer.token + 1) % vocab_size)
