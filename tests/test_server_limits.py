"""The server's limits, on a stub strategy (no model, no torch): validated values, the connection
cap, the listen backlog, the per-message deadline, accept errors (EMFILE) and shutdown."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.config.errors import ConfigError
from bench.serving.acceptor import REFUSAL_LINGER_S, SHUTTING_DOWN
from bench.serving.limits import BACKLOG, ServerLimits
from bench.serving.protocol import PREFIX, receive_message, send_message
from bench.serving.unix_socket import bind_private
from tests.conftest import REPO, TIMEOUT_S, ask, connect, wait_for

STUB_START_S = 60  # the stub imports no torch: it serves within seconds even on a loaded machine; a bound only

BAD_LIMITS = [
    ({"max_message": -1}, "--max-message: must be an integer of at least 1 and at most 4294967295, got -1"),
    ({"max_message": 0}, "--max-message"),
    ({"max_message": 1 << 32}, "--max-message"),
    ({"max_message": 1.5}, "--max-message"),
    ({"stall_timeout": -1}, "--stall-timeout: must be a positive, finite number of seconds, got -1"),
    ({"stall_timeout": 0}, "--stall-timeout"),
    ({"stall_timeout": float("nan")}, "--stall-timeout"),
    ({"stall_timeout": float("inf")}, "--stall-timeout"),
    ({"stall_timeout": True}, "--stall-timeout"),
    ({"max_connections": -1}, "--max-connections: must be an integer of at least 1, got -1"),
    ({"max_connections": 0}, "--max-connections"),
    ({"backlog": 0}, "--backlog: must be an integer of at least 1, got 0"),
    ({"backlog": "8"}, "--backlog"),
]


@pytest.mark.parametrize("values,message", BAD_LIMITS, ids=[str(v) for v, _ in BAD_LIMITS])
def test_bad_limits_are_refused_with_one_line_naming_the_flag(values, message):
    with pytest.raises(ConfigError) as info:
        ServerLimits(**values)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_the_smallest_limits_are_allowed():
    ServerLimits(max_message=1, stall_timeout=0.001, max_connections=1, backlog=1)
    ServerLimits(max_message=(1 << 32) - 1)


def test_connections_beyond_the_cap_are_refused_with_a_message(serve, socket_path):
    serve(ServerLimits(max_connections=2))
    first, second = connect(socket_path), connect(socket_path)
    assert ask(first, {"type": "ping"})["type"] == "pong" and ask(second, {"type": "ping"})["type"] == "pong"
    with connect(socket_path) as third:
        send_message(third, {"type": "ping"})
        time.sleep(REFUSAL_LINGER_S + 0.5)  # read only after the server closed: the refusal must still be there
        answer = receive_message(third)
        assert answer == {"status": "error", "error": "server is at its limit of 2 connections (--max-connections); "
                                                      "try again later"}
        assert third.recv(1) == b""  # then closed, cleanly: the ping was drained, so no reset
    first.close()  # a slot frees up once its thread sees the hang-up

    def answered() -> bool:
        with connect(socket_path) as late:
            return ask(late, {"type": "ping"}).get("type") == "pong"
    wait_for(answered, TIMEOUT_S, "a new client to get the slot the first one freed (answered, not refused)")
    assert ask(second, {"type": "stats"})["refused_connections"] >= 1
    second.close()


def test_the_backlog_queues_that_many_connects(socket_path):
    """Nobody accepts here: a non-blocking connect succeeds while the kernel queue has room."""
    def queued(backlog: int | None, tries: int) -> int:
        listener = bind_private(socket_path) if backlog is None else bind_private(socket_path, backlog)
        clients = []
        try:
            for _ in range(tries):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                clients.append(s)
                s.setblocking(False)
                try:
                    s.connect(str(socket_path))
                except BlockingIOError:  # the queue is full
                    return len(clients) - 1
            return tries
        finally:
            for s in clients:
                s.close()
            listener.close()
            socket_path.unlink()
    assert queued(4, 20) in (4, 5)  # Linux queues backlog + 1
    assert BACKLOG >= 600
    if int(Path("/proc/sys/net/core/somaxconn").read_text()) >= 600:  # the kernel's cap on any backlog
        assert queued(None, 600) == 600  # a burst of 600 connects, over the old default of 128


def test_the_whole_message_must_arrive_within_the_stall_timeout(serve, socket_path):
    """A client sending a byte every 0.25 s never stalls a single read for 1 s, but is cut off at 1 s."""
    serve(ServerLimits(stall_timeout=1))
    message = b'{"type": "ping"}' + b" " * 20  # 36 bytes: 9 s at this pace
    data = PREFIX.pack(len(message)) + message
    with connect(socket_path) as s:
        def drip():
            for i in range(len(data)):
                try:
                    s.sendall(data[i:i + 1])
                except OSError:  # cut off
                    return
                time.sleep(0.25)
        sender = threading.Thread(target=drip, daemon=True)
        started = time.monotonic()
        sender.start()
        answer = receive_message(s)
        elapsed = time.monotonic() - started
        assert answer["status"] == "error" and "not complete 1 s after its first byte" in answer["error"]
        assert 0.9 < elapsed < 3.0
        sender.join(TIMEOUT_S)


def run_stub(socket_path, log, *flags) -> subprocess.Popen:
    """The stub server in its own process, once it accepts."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.serving_stub", str(socket_path), *flags], cwd=REPO,
                            stderr=log, env={**os.environ, "PYTHONPATH": str(REPO)})
    wait_for(lambda: "serving" in Path(log.name).read_text() or proc.poll() is not None, STUB_START_S,
             lambda: f"the stub server to say 'serving'; its log: {Path(log.name).read_text()}")
    assert proc.poll() is None, f"the stub server exited ({proc.returncode}): {Path(log.name).read_text()}"
    return proc


def stop(proc) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(TIMEOUT_S + 10)


def test_accept_errors_are_logged_and_survived(socket_path, tmp_path):
    """With 8 spare descriptors, 30 connects exhaust them (EMFILE); once they close, a new client is answered."""
    with open(tmp_path / "stderr", "w+") as log:
        proc = run_stub(socket_path, log, "--spare-fds", "8")
        try:
            crowd = [connect(socket_path) for _ in range(30)]
            wait_for(lambda: "accept failed" in Path(log.name).read_text(), TIMEOUT_S,
                     "the stub server to log an accept error (EMFILE) after 30 connects")
            for s in crowd:
                s.close()
            with connect(socket_path) as late:
                assert ask(late, {"type": "ping"})["type"] == "pong"
        finally:
            code = stop(proc)
        text = Path(log.name).read_text()
    assert code == 0, text
    assert "accept failed ([Errno 24] Too many open files); retrying with backoff" in text
    assert "accepting again after" in text and "Traceback" not in text


def test_connections_during_shutdown_get_the_shutdown_error(socket_path, tmp_path):
    """SIGTERM during a 2 s request: clients connecting meanwhile are answered SHUTTING_DOWN, or find the
    server gone (refused, or no socket file); none is reset or left hanging."""
    with open(tmp_path / "stderr", "w+") as log:
        proc = run_stub(socket_path, log, "--job-s", "2")
        busy = connect(socket_path)
        send_message(busy, {"type": "inference", "input_tokens": [1, 2]})
        time.sleep(0.3)  # the request is in flight
        proc.send_signal(signal.SIGTERM)
        outcomes = []
        for i in range(20):
            try:
                with connect(socket_path) as s:
                    if i % 4 == 3:
                        time.sleep(0.3)  # a slow client: connects, then takes its time to send
                    outcomes.append(ask(s, {"type": "ping"}).get("error"))
                    assert s.recv(1) == b""  # then closed cleanly, not reset
            except (ConnectionRefusedError, FileNotFoundError):
                outcomes.append("gone")
            except ConnectionResetError:
                outcomes.append("reset")
            time.sleep(0.1)
        assert receive_message(busy)["output_tokens"] == [3]  # the request in flight is finished
        busy.close()
        assert proc.wait(TIMEOUT_S + 10) == 0
    # known limit: in about one run of three of this file after test_lifetime.py, one slow client's
    # connection was reset as the server closed its listener; more than one is a regression
    assert outcomes.count("reset") <= 1, outcomes
    # the main thread runs the signal handler between bytecodes: on a loaded machine a client may come
    # before it ran and get a plain answer (None: no error); once shutting down, never again
    first_refusal = next(i for i, o in enumerate(outcomes) if o is not None)
    assert set(outcomes[:first_refusal]) <= {None} and first_refusal <= 3, outcomes
    assert set(outcomes[first_refusal:]) <= {SHUTTING_DOWN, "gone", "reset"}, outcomes
    assert outcomes.count(SHUTTING_DOWN) >= 5, outcomes


def test_a_hostile_megabyte_is_answered_quickly_and_another_client_meanwhile(socket_path, tmp_path):
    """One 1 MiB frame of escaped quotes and brackets (quadratic to scan before: hours) is answered with
    an error within seconds, and a ping from another client sent meanwhile is answered too."""
    frame = b'\\"[' * ((1 << 20) // 3)
    with open(tmp_path / "stderr", "w+") as log:
        proc = run_stub(socket_path, log)
        try:
            with connect(socket_path) as hostile, connect(socket_path) as other:
                started = time.monotonic()
                hostile.sendall(PREFIX.pack(len(frame)) + frame)  # returns once the server read most of it
                assert ask(other, {"type": "ping"})["type"] == "pong"
                answer = receive_message(hostile)
                assert answer["status"] == "error" and "malformed JSON" in answer["error"]
                assert time.monotonic() - started < TIMEOUT_S
                assert ask(hostile, {"type": "ping"})["type"] == "pong"  # the connection is kept
        finally:
            try:
                code = stop(proc)
            except subprocess.TimeoutExpired:  # a server stuck in a parse never runs its SIGTERM handler
                proc.kill()
                raise
    assert code == 0


@pytest.mark.parametrize("kind", [[], {}, 1.5, None])
def test_a_request_whose_type_is_not_a_name_is_answered_with_an_error(serve, socket_path, kind):
    serve(ServerLimits())
    with connect(socket_path) as s:
        answer = ask(s, {"type": kind})
        assert answer["status"] == "error" and "unknown or missing 'type'" in answer["error"]
        assert ask(s, {"type": "ping"})["type"] == "pong"  # the connection is kept


def test_a_request_no_check_foresaw_is_answered_with_an_error(serve, socket_path, monkeypatch):
    def unforeseen(*_):
        raise TypeError("a bug in a check")

    monkeypatch.setattr("bench.serving.server.parse_request", unforeseen)
    serve(ServerLimits())
    with connect(socket_path) as s:
        assert ask(s, {"type": "ping"}) == {"status": "error", "error": "request not understood (TypeError)"}
        assert ask(s, {"type": "ping"})["status"] == "error"  # the connection is kept
