"""Shared fixtures: tiny configs written to temporary folders."""
from __future__ import annotations

import copy
import os
import sys
import threading
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


FIFO_RELEASE_S = 10.0  # a reader that checks the file type returns at once; one that blocks is released after this


@pytest.fixture
def make_fifo():
    """make_fifo(path): a named pipe at path. A reader left waiting on it is released after FIFO_RELEASE_S
    (it reads end of file), so a test of a reader that blocks fails instead of hanging."""
    done = threading.Event()

    def release(path: Path) -> None:
        done.wait(FIFO_RELEASE_S)
        while True:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO while no reader waits
            except OSError:
                pass
            if done.wait(0.1):
                return

    def make(path: Path) -> Path:
        os.mkfifo(path)
        threading.Thread(target=release, args=(path,), daemon=True).start()
        return path
    yield make
    done.set()
