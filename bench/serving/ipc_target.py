"""transport: ipc — the strategy runs in a generator server; this target asks it over a Unix socket.

start() launches `python -m bench serve --job FILE` for the strategy and waits until it answers
ping; each request's TTFT is the client's, with the server's beside it; close() stops the server
with SIGTERM; if the worker is killed instead, the server dies with it (a parent-death signal) and
the runner removes the temp folder. The logits stay in the server, so only tokens are compared
with the baseline's.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.jobs.job import Job
from bench.processes.lifetime import child_env, temp_folder
from bench.serving.client import connect_when_ready
from bench.targets.base import Started, Target, Timed

READY_TIMEOUT_S = 1200  # a 7B inductor compile plus nine captures takes ~2 min; leave room for slower GPUs
STOP_TIMEOUT_S = 60  # the server finishes its request in flight, then exits
JOB_FILE = "job.json"
SOCKET_FILE = "generator.sock"


class IpcTarget(Target):
    transport = "ipc"
    seeded = False  # the server's RNG is its own: sampled tokens differ from request to request

    def __init__(self, job: Job, server_flags: tuple[str, ...] = ()):
        """server_flags: more `python -m bench serve` flags (the load scenario's batching and connections)."""
        self.job = job
        self.server_flags = server_flags
        self.folder = temp_folder("ipc")  # mode 0700: the socket is private
        self.socket_path = str(Path(self.folder.name) / SOCKET_FILE)
        self.server: subprocess.Popen | None = None
        self.client = None

    def start(self) -> Started:
        folder = Path(self.folder.name)
        (folder / JOB_FILE).write_text(json.dumps(self.job.to_dict()))
        self.server = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--job", str(folder / JOB_FILE),
                                        "--socket", self.socket_path, *self.server_flags],
                                       env=child_env())  # the server dies with this worker, even by SIGKILL
        try:
            self.client = connect_when_ready(self.socket_path, READY_TIMEOUT_S,
                                             alive=lambda: self.server.poll() is None)
        except TimeoutError:
            if self.server.poll() is not None:  # its own error is in the log above this line
                raise RuntimeError(f"the generator server exited with code {self.server.returncode} before it "
                                   "answered") from None
            raise
        facts = self.client.stats()
        prepared = {int(n): tuple(p) if isinstance(p, list) else p["error"] for n, p in facts["prepare"].items()}
        record = {k: facts[k] for k in ("model_build_ms", "setup_ms", "mem_weights_gb", "note")}
        return Started({**record, "transport": self.transport}, facts["mem_weights_gb"], prepared)

    def first_token(self, input_ids: list[int]) -> Timed:
        start = time.perf_counter_ns()
        token, response = self.client.infer(input_ids)
        return Timed(token, time.perf_counter_ns() - start, round(response["server_ttft_ms"] * 1e6))

    def notes(self) -> list[str]:
        return ["ipc: tokens compared with the baseline's (the logits stay in the server)"]

    def stats(self) -> dict:
        return self.client.stats()

    def close(self) -> None:
        try:
            if self.client is not None:
                self.client.close()
        finally:
            try:
                self.stop_server()
            finally:
                self.folder.cleanup()

    def stop_server(self) -> None:
        """SIGTERM, and SIGKILL if the server has not stopped within STOP_TIMEOUT_S."""
        if self.server is None:
            return
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
