"""How fast the load client goes when the server is not the limit: a stub server (tests/serving_stub.py, in
a process of its own) answers every request at once; the client drives it closed and open loop.

    PYTHONPATH=. python -m tests.load_client_capacity [--requests 3000] [--rates 600 1200 2400]

Run by hand, not by pytest (its numbers depend on the machine and its load; say both beside them).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.scenarios.load_plan import arrival_offsets_ns, level_rng
from bench.serving.load_client import LevelResult, closed_loop, inference_frame, open_loop
from tests.conftest import REPO

PROMPT = list(range(1, 101))  # 100 tokens, as configs/h200-llama2-7b-load.yaml's prompts
MAX_IN_FLIGHT = 64  # load.max_in_flight's default
START_S = 60  # the stub imports no torch: it serves within seconds even on a loaded machine


def achieved(result: LevelResult) -> str:
    """Requests/s over the answered requests' window, and their TTFT p50/p99."""
    answered = [a for a in result.answers if a is not None and a.response is not None]
    window_s = (max(a.sent_ns + a.ttft_ns for a in answered) - min(a.sent_ns for a in answered)) / 1e9
    p50, p99 = np.percentile([a.ttft_ns / 1e6 for a in answered], [50, 99])
    return f"{len(answered) / window_s:,.0f} requests/s, TTFT p50 {p50:.2f} ms, p99 {p99:.2f} ms"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--rates", type=float, nargs="+", default=[600.0, 1200.0, 2400.0])
    args = p.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lc"))  # short: a socket path must fit in 107 bytes
    socket_path, log = str(folder / "s.sock"), folder / "stub.log"
    with open(log, "w") as out:
        stub = subprocess.Popen([sys.executable, "-m", "tests.serving_stub", socket_path], cwd=REPO, stderr=out,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + START_S
        while "serving" not in log.read_text():
            if stub.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"hit the deadline ({START_S} s) waiting for the stub server to serve, or it "
                                 f"exited: {log.read_text()}")
            time.sleep(0.05)
        frames = [inference_frame(PROMPT)] * args.requests
        for clients in (1, 16):
            result = closed_loop(socket_path, frames, clients, max_level_s=60)
            print(f"closed loop, {clients} clients: {achieved(result)}")
        for rate in args.rates:
            offsets = arrival_offsets_ns(len(frames), rate, 1.0, level_rng(0, "rate", rate))
            result = open_loop(socket_path, frames, offsets, MAX_IN_FLIGHT, max_level_s=60)
            late = [a.sent_ns - o for a, o in zip(result.answers, offsets) if a is not None]
            print(f"open loop, {rate:g} requests/s asked: {achieved(result)}; sent late by p50 "
                  f"{np.percentile(late, 50) / 1e3:.0f} us, p99 {np.percentile(late, 99) / 1e3:.0f} us"
                  + (f"; stopped: {result.stopped}" if result.stopped else ""))
    finally:
        stub.terminate()
        stub.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
