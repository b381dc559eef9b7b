"""transport: ipc — the sweep measured from a client process through the generator server.

The worker starts `python -m bench serve` for the strategy, waits until it answers ping,
measures every length through the client (client TTFT, with the server's TTFT beside it),
then stops the server with SIGTERM. The first token is checked against the baseline's; the
logits stay in the server, so the logit difference is left to the in-process run.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.serving.client import GeneratorClient, connect_when_ready
from bench.config.schema import BenchConfig
from bench.measuring.clocks import timed_loop
from bench.models.build import hf_config
from bench.running.worker import Emit, References, prompts_for, unseen_prompt

READY_TIMEOUT_S = 1200  # a 7B inductor compile plus nine captures takes ~2 min; leave room for slower GPUs
STOP_TIMEOUT_S = 60  # the server finishes its request in flight, then exits


def timed_request(client: GeneratorClient, ids: list[int]) -> tuple[int, int, float]:
    """(token, client TTFT ns, server TTFT ms) of one request."""
    start = time.perf_counter_ns()
    token, response = client.infer(ids)
    return token, time.perf_counter_ns() - start, response["server_ttft_ms"]


def measure_length(cfg: BenchConfig, client: GeneratorClient, ids: list[int], reference: dict | None,
                   is_reference: bool) -> dict:
    token, cold_ns, _ = timed_request(client, ids)
    point = {"cold_ttft_ms": cold_ns / 1e6, "token": token}
    if cfg.sampling.mode != "greedy":
        point["note"] = "ipc with sampling: the sampled token is not compared (the server's RNG is its own)"
    elif is_reference:
        point.update(matches_baseline=True, note="ipc: the baseline's token is the reference")
    elif reference is None:
        point["note"] = "no baseline reference at this length: correctness not checked"
    else:
        point["matches_baseline"] = token == reference["token"]
        point["note"] = "ipc: first token compared with the baseline's" + (
            "" if point["matches_baseline"] else f"; MISMATCH: {token} != {reference['token']}")
    timed = timed_loop(lambda: timed_request(client, ids), cfg.measure.warmup, cfg.measure.repeats)
    return {**point, "samples_ns": [ns for _, ns, _ in timed],
            "server_samples_ns": [round(server_ms * 1e6) for _, _, server_ms in timed]}


def unseen_over_ipc(cfg: BenchConfig, client: GeneratorClient, refs: References) -> dict:
    """The cold-start probe through the socket: a length the server never prepared."""
    n, ids = unseen_prompt(cfg, hf_config(cfg.model))
    token, ns, _ = timed_request(client, ids)
    return refs.unseen_record(n, token, ns)


def measure_over_ipc(cfg: BenchConfig, name: str, refs: References, emit: Emit) -> None:
    prompts = prompts_for(cfg, hf_config(cfg.model))
    with tempfile.TemporaryDirectory(prefix="ttft-ipc-") as folder:  # mode 0700
        config_path, socket_path = Path(folder) / "config.json", Path(folder) / "generator.sock"
        config_path.write_text(json.dumps(cfg.raw))
        server = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--config", str(config_path),
                                   "--strategy", name, "--socket", str(socket_path)])
        try:
            client = connect_when_ready(str(socket_path), READY_TIMEOUT_S, alive=lambda: server.poll() is None)
            emit({"event": "ready", "time": time.time()})
            facts = client.stats()
            emit({"event": "strategy", "status": "ok", "transport": "ipc",
                  **{k: facts[k] for k in ("model_build_ms", "setup_ms", "mem_weights_gb", "note")}})
            for n in cfg.prompts.lengths:
                point = {"event": "point", "prompt_len": n, "mem_weights_gb": facts["mem_weights_gb"]}
                prepared = facts["prepare"][str(n)]
                if isinstance(prepared, dict):
                    emit({**point, "status": "error", "note": f"prepare failed: {prepared['error']}"})
                    continue
                point["jit_compile_ms"], point["graph_capture_ms"] = prepared
                result = measure_length(cfg, client, prompts[n], refs.get(n), refs.is_reference)
                if refs.is_reference:
                    refs.put(n, None, result["token"])
                emit({**point, "status": "ok", **result})
            emit({"event": "strategy", **unseen_over_ipc(cfg, client, refs)})
            emit({"event": "stats", "stats": client.stats()})
            client.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(STOP_TIMEOUT_S)
