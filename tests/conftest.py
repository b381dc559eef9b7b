"""Shared fixtures: tiny configs written to temporary folders."""
from __future__ import annotations

import copy
import os
import sys
import threading
from pathlib import Path

import pytest
import yaml

from bench.reporting.records import PointRecord
from bench.reporting.results_io import RunRecord

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TINY = {
    "name": "tiny",
    "model": {"preset": "tiny-llama", "dtype": "float32", "device": "cpu"},
    "prompts": {"lengths": [8, 24], "seed": 0},
    "measure": {"warmup": 1, "repeats": 5},
    "strategies": [{"name": "baseline"}],
}


RUN_CONFIG = {"measure": {"repeats": 5}}
RUN_ENVIRONMENT = {"python": "3.12", "torch": "2.13.0", "transformers": "5.17.0", "cpu": "test CPU"}
RUN_LENGTHS = (8, 24)


def make_run(folder: Path, strategies=("baseline", "jit-only"), config: dict | None = None,
             samples_ns=tuple(range(1000, 1005))) -> RunRecord:
    """A finished run, written through RunRecord: every strategy ok at RUN_LENGTHS with samples_ns."""
    record = RunRecord.start(folder, "tiny", RUN_CONFIG if config is None else config, RUN_ENVIRONMENT)
    for name in strategies:
        record.set_strategy(name, status="ok")
        for n in RUN_LENGTHS:
            record.add_point(name, PointRecord(prompt_len=n, status="ok", samples_ns=tuple(samples_ns)))
    record.finish("complete")
    return record


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
