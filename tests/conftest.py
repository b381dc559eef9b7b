"""Shared fixtures: tiny configs written to temporary folders."""
from __future__ import annotations

import copy
import shutil
import sys
import tempfile
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


def other_token(answer, vocab_size: int):
    """A cheating strategy's answer: the next token id instead of the one computed, with the same logits."""
    import dataclasses
    return dataclasses.replace(answer, token=(answer.token + 1) % vocab_size)


STUB_STOP_S = 15.0  # a stopping stub server finishes its request in flight (tests sleep seconds at most)


@pytest.fixture
def socket_path():
    folder = Path(tempfile.mkdtemp(prefix="srv"))  # short: a Unix socket path must fit in 107 bytes; mode 0700
    yield folder / "s.sock"
    shutil.rmtree(folder)


@pytest.fixture
def serve(socket_path):
    """serve(limits, job_s, **start_kwargs): a stub server (tests/serving_stub.py) on socket_path, on a thread;
    stopped after the test."""
    from bench.serving.unix_socket import bind_private
    from tests.serving_stub import start

    running = []

    def make(limits, job_s: float = 0.0, **kwargs):
        listener = bind_private(socket_path, limits.backlog)
        server = start(listener, limits, job_s, **kwargs)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread, listener))
        return server
    yield make
    for server, thread, listener in running:
        server.stopping.set()
        thread.join(STUB_STOP_S)
        listener.close()


LOAD_ENV = {"cpu": "Test CPU", "torch": "2.13", "transformers": "5.17", "python": "3.11", "git_commit": "abc"}


def write_load_run(folder: Path, levels: dict, slo_ttft_ms: float = 50.0, warmup: int = 2):
    """A run folder with a load section and no sweep point: levels maps (strategy, batching, mode, level) to
    (TTFTs in ms of the timed requests, status, wrong: how many answers disagree); requests are sent 10 ms
    apart, the warm-up at 1 ms. Returns the RunRecord (finished)."""
    from bench.reporting.load_io import add_level, set_load_run, start_load
    from bench.reporting.load_records import LoadLevelRecord, LoadRow
    from bench.reporting.results_io import RunRecord

    config = {"name": folder.name, "model": {"preset": "tiny-llama", "dtype": "float32"},
              "load": {"slo_ttft_ms": slo_ttft_ms, "warmup": warmup}}
    record = RunRecord.start(folder, folder.name, config, LOAD_ENV)
    start_load(record, slo_ttft_ms)
    for (strategy, batching, mode, level), (ttfts_ms, status, wrong) in levels.items():
        set_load_run(record, strategy, batching, status="ok", ready_s=1.0)
        rows = [LoadRow(k, True, 8, 5, k * 1_000_000, 1_000_000, token=1, agreed=True) for k in range(warmup)]
        rows += [LoadRow(warmup + k, False, 8 if k % 2 else 24, 5 + k, (warmup + k) * 10_000_000, int(ms * 1e6),
                         int(ms * 0.8e6), int(ms * 0.1e6), 1 + k % 4, 1, k >= wrong)
                 for k, ms in enumerate(ttfts_ms)]
        add_level(record, strategy, batching, LoadLevelRecord(
            mode, level, status, planned=len(rows), sent=len(rows), answered=len(rows), mismatches=wrong,
            correct=not wrong, note="backlog: 64 requests in flight" if status == "saturated" else ""), tuple(rows))
    record.finish("complete")
    return record
