"""Shared fixtures: tiny configs written to temporary folders; a stub generator server on a socket."""
from __future__ import annotations

import copy
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.serving.batching import Batching  # noqa: E402  (after the path above)
from bench.serving.limits import ServerLimits  # noqa: E402
from bench.serving.protocol import receive_message, send_message  # noqa: E402
from bench.serving.unix_socket import bind_private  # noqa: E402
from tests.serving_stub import start  # noqa: E402

TIMEOUT_S = 10.0  # any answer the stub server's tests wait for comes in milliseconds; this only bounds a failing test

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


def wait_until(predicate, timeout: float) -> bool:
    """Whether predicate() came true within timeout seconds (polled every 0.1 s)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def gone(pid: int) -> bool:
    """Whether no live process has this pid (a zombie, dead but not reaped, counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


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


@pytest.fixture
def socket_path():
    folder = Path(tempfile.mkdtemp(prefix="srv"))  # short: a Unix socket path must fit in 107 bytes; mode 0700
    yield folder / "s.sock"
    shutil.rmtree(folder)


@pytest.fixture
def serve(socket_path):
    """serve(limits, job_s, batching): a stub server (tests/serving_stub.py) on socket_path, on a thread;
    stopped after the test."""
    running = []

    def make(limits: ServerLimits = ServerLimits(), job_s: float = 0.0, batching: Batching = Batching()):
        listener = bind_private(socket_path, limits.backlog)
        server = start(listener, limits, job_s, batching=batching)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread, listener))
        return server
    yield make
    for server, thread, listener in running:
        server.stopping.set()
        thread.join(TIMEOUT_S + 5)
        listener.close()


def connect(path) -> socket.socket:
    """A client socket connected to path, every read bounded by TIMEOUT_S."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT_S)
    s.connect(str(path))
    return s


def ask(s: socket.socket, message: dict) -> dict:
    """Send one message and read its answer."""
    send_message(s, message)
    return receive_message(s)
