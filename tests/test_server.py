"""The generator server over its Unix socket, on the tiny model: protocol, bad input, load, lifecycle."""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

import pytest
import torch

from bench.serving.client import GeneratorClient, ServerError, connect_when_ready
from bench.config.schema import ModelConfig
from bench.models.build import build_model, hf_config
from bench.serving.protocol import receive_message, send_message
from tests.conftest import REPO, tiny_raw

pytestmark = pytest.mark.slow  # every test here starts `bench serve` in a process of its own

VOCAB = 1024  # tiny-llama
MAX_POSITIONS = 2048


def start_server(tmp_path, name="s.sock", strategy="baseline", extra=()):
    folder = tmp_path / "sock"
    folder.mkdir(mode=0o700, exist_ok=True)
    config = tmp_path / "serve.json"
    config.write_text(json.dumps(tiny_raw(strategies=["baseline", {"name": "jit-only", "options": {"forward_jit": "none"}}])))
    path = folder / name
    proc = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--config", str(config), "--strategy", strategy,
                             "--socket", str(path), "--stall-timeout", "1", *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = connect_when_ready(str(path), 120, alive=lambda: proc.poll() is None)
    return proc, path, client


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc, path, client = start_server(tmp_path_factory.mktemp("srv"))
    yield proc, path, client
    client.close()
    code, err = stop(proc)
    assert code == 0, err[-2000:]
    assert "Traceback" not in err, err[-2000:]  # no connection thread died on what the tests sent
    assert not path.exists()


@pytest.fixture(scope="module")
def expected():
    """First tokens of the same tiny model, computed here in-process."""
    spec = ModelConfig(preset="tiny-llama", dtype="float32", device="cpu")
    model = build_model(spec, hf_config(spec), torch.device("cpu"))

    def first_token(ids):
        with torch.inference_mode():
            return int(model(input_ids=torch.tensor([ids])).logits[0, -1].argmax())
    return first_token


def raw_request(path, payload: bytes) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(path))
        s.sendall(struct.pack(">I", len(payload)) + payload)
        return receive_message(s)


def test_round_trip_ping_inference_stats(server, expected):
    _, path, client = server
    assert client.ping()
    token, response = client.infer([5, 6, 7, 8])
    assert token == expected([5, 6, 7, 8])
    assert response["server_ttft_ms"] > 0 and response["prompt_len"] == 4
    with pytest.raises(ServerError, match="unknown or missing 'type'"):
        client.call({"type": "dance"})
    stats = client.stats()
    assert stats["requests"] >= 1 and stats["queue_delay"]["n"] >= 1 and "prepare" in stats


def test_socket_is_private(server):
    _, path, _ = server
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


BAD = [
    (b"{not json", "malformed JSON"),
    (b"\xff\xfe", "not valid UTF-8"),
    (b"[1, 2]", "must be a JSON object"),
    (json.dumps({"input_tokens": [1]}).encode(), "unknown or missing 'type'"),
    (json.dumps({"type": "dance"}).encode(), "unknown or missing 'type' 'dance'"),
    (json.dumps({"type": "inference"}).encode(), "'input_tokens' must be a list"),
    (json.dumps({"type": "inference", "input_tokens": "1 2 3"}).encode(), "'input_tokens' must be a list"),
    (json.dumps({"type": "inference", "input_tokens": [1, "2"]}).encode(), "input_tokens[1] = '2' is not an integer"),
    (json.dumps({"type": "inference", "input_tokens": [1, 2.5]}).encode(), "input_tokens[1] = 2.5 is not an integer"),
    (json.dumps({"type": "inference", "input_tokens": [1, True]}).encode(), "input_tokens[1] = True"),
    (json.dumps({"type": "inference", "input_tokens": [1, VOCAB]}).encode(), f"outside the vocabulary [0, {VOCAB})"),
    (json.dumps({"type": "inference", "input_tokens": [-1]}).encode(), "outside the vocabulary"),
    (json.dumps({"type": "inference", "input_tokens": []}).encode(), "'input_tokens' is empty"),
    (json.dumps({"type": "inference", "input_tokens": [1] * (MAX_POSITIONS + 1)}).encode(),
     f"exceeds the model's maximum positions ({MAX_POSITIONS})"),
    (json.dumps({"type": "inference", "input_tokens": [1], "temperature": -1}).encode(), "'temperature' must be"),
    (json.dumps({"type": "inference", "input_tokens": [1], "do_sample": "yes"}).encode(), "'do_sample' must be"),
    (json.dumps({"type": "inference", "input_tokens": [1], "do_sample": True}).encode(), "do_sample=False"),
    (json.dumps({"type": "inference", "input_tokens": [1], "top_k": 5}).encode(), "unknown field 'top_k'"),
    (json.dumps({"type": "ping", "verbose": True}).encode(), "unknown field 'verbose' in a 'ping' request"),
    (json.dumps({"type": "inference", "input_tokens": [1], "temperature": 0.7}).encode(),
     "'temperature' given, but this server is greedy"),
    (b'{"type": "inference", "input_tokens": [1], "temperature": NaN}', "NaN is not a JSON value"),
    (b'{"type": "inference", "input_tokens": [' + b"1" * 5000 + b"]}", "a number has more than 4300 digits"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON nested deeper than 16 levels"),
]


@pytest.mark.parametrize("payload,message", BAD, ids=[m for _, m in BAD])
def test_bad_request_gets_a_named_error_and_the_connection_survives(server, expected, payload, message):
    _, path, _ = server
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(path))
        s.sendall(struct.pack(">I", len(payload)) + payload)
        response = receive_message(s)
        assert response["status"] == "error" and message in response["error"]
        send_message(s, {"type": "inference", "input_tokens": [3, 4]})  # same connection, good request
        assert receive_message(s)["output_tokens"] == [expected([3, 4])]


def test_oversized_length_prefix_is_refused_and_closed(server):
    _, path, client = server
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(path))
        s.sendall(struct.pack(">I", (1 << 20) + 1))
        response = receive_message(s)
        assert response["status"] == "error" and "exceeds the limit of 1048576 bytes" in response["error"]
        assert s.recv(1) == b""  # closed
    assert client.ping()


def test_client_hanging_up_mid_message_costs_only_its_connection(server):
    _, path, client = server
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(path))
    s.sendall(struct.pack(">I", 100) + b'{"type": "inf')
    s.close()  # killed mid-message
    assert client.ping()


def test_stalled_client_is_told_and_dropped_after_the_stall_timeout(server):
    _, path, client = server
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(path))
        s.sendall(struct.pack(">I", 100) + b'{"ty')
        start = time.monotonic()
        response = receive_message(s)  # the stall timeout is 1 s
        assert response["status"] == "error" and "not complete 1 s after its first byte" in response["error"]
        assert s.recv(1) == b""  # then closed
        assert time.monotonic() - start < 10
    assert client.ping()


def test_load_8_clients_x_50_requests_each_gets_its_own_answer(server, expected):
    _, path, client = server
    prompts = {c: [(c * 37 + i) % VOCAB for i in range(5 + 3 * c)] for c in range(8)}
    want = {c: expected(p) for c, p in prompts.items()}
    failures = []

    def run_client(c):
        cl = GeneratorClient(str(path), timeout=60)
        try:
            for _ in range(50):
                token, response = cl.infer(prompts[c])
                if token != want[c] or response["prompt_len"] != len(prompts[c]):
                    failures.append((c, token, response))
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, not raised in a thread
            failures.append((c, repr(exc)))
        finally:
            cl.close()

    threads = [threading.Thread(target=run_client, args=(c,)) for c in range(8)]
    before = client.stats()["requests"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures[:3]
    stats = client.stats()
    assert stats["requests"] - before >= 400
    assert stats["queue_delay"]["max_ms"] is not None
    assert client.ping()


def test_live_socket_is_refused_with_a_clear_error(server, tmp_path):
    _, path, _ = server
    config = tmp_path / "c.json"
    config.write_text(json.dumps(tiny_raw()))
    proc = subprocess.run([sys.executable, "-m", "bench", "serve", "--config", str(config), "--strategy", "baseline",
                           "--socket", str(path)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "held by a live server" in proc.stderr and "Traceback" not in proc.stderr


def test_socket_in_a_shared_directory_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    config = tmp_path / "c.json"
    config.write_text(json.dumps(tiny_raw()))
    proc = subprocess.run([sys.executable, "-m", "bench", "serve", "--config", str(config), "--strategy", "baseline",
                           "--socket", str(shared / "s.sock")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "mode 0700" in proc.stderr


def test_restart_over_a_stale_socket(tmp_path, expected):
    proc, path, client = start_server(tmp_path)
    client.close()
    proc.kill()  # a crash: no cleanup, the socket file stays
    proc.wait(30)
    assert path.exists()
    proc2, path2, client2 = start_server(tmp_path)
    assert client2.infer([9, 10])[0] == expected([9, 10])
    client2.close()
    assert stop(proc2)[0] == 0 and not path.exists()


def test_sigterm_finishes_the_request_in_flight_then_removes_the_socket(tmp_path):
    proc, path, client = start_server(tmp_path)
    frames = b"".join(struct.pack(">I", len(p)) + p for p in
                      [json.dumps({"type": "inference", "input_tokens": [i % 1000 + 1 for i in range(1500)]}).encode()] * 40)
    client.sock.sendall(frames)  # a queue of long requests
    first = receive_message(client.sock)
    proc.send_signal(signal.SIGTERM)
    answers = [first]
    client.sock.settimeout(30)
    while True:
        try:
            answers.append(receive_message(client.sock))
        except Exception:  # noqa: BLE001 - the server closed the connection
            break
    code = proc.wait(60)
    assert code == 0 and not path.exists()
    assert first["status"] == "success"
    statuses = [a["status"] == "success" or a["error"] == "server is shutting down" for a in answers]
    assert all(statuses) and len(answers) < 40


@pytest.mark.parametrize("strategy", ["baseline", "jit-only"])
def test_the_tiny_model_in_batches_answers_every_client_its_own_token(tmp_path, expected, strategy):
    """8 clients, prompts of 3 to 40 tokens, each request's different: the real batched forward, padded."""
    proc, path, client = start_server(tmp_path, strategy=strategy, extra=("--max-batch", "4", "--max-wait-us", "2000"))
    prompts = {(c, i): [(c * 31 + i * 7 + k) % VOCAB for k in range(3 + (c * 5 + i) % 38)]
               for c in range(8) for i in range(10)}
    want = {key: expected(p) for key, p in prompts.items()}
    failures = []

    def run_client(c):
        cl = GeneratorClient(str(path), timeout=60)
        try:
            for i in range(10):
                token, response = cl.infer(prompts[c, i])
                if token != want[c, i] or response["prompt_len"] != len(prompts[c, i]):
                    failures.append((c, i, token, want[c, i], response))
        finally:
            cl.close()

    threads = [threading.Thread(target=run_client, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stats = client.stats()
    client.close()
    code, err = stop(proc)
    assert not failures, failures[:3]
    assert stats["requests"] == 80 and max(int(size) for size in stats["batch_sizes"]) > 1, stats["batch_sizes"]
    assert code == 0 and "Traceback" not in err
