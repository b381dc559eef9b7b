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
