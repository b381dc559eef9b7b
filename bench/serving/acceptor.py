"""Accepting connections under limits: one thread per connection up to a cap, a refusal message
beyond it or during shutdown, and accept errors (EMFILE, ENFILE, ENOBUFS...) survived with backoff.

A refused connection is answered, its write side shut, and kept open for REFUSAL_LINGER_S while
its request is drained: closing a Unix socket whose peer's request is still unread resets the
connection, and a client that sends after the close gets a broken pipe; either way the client
would never read why it was refused.
"""
from __future__ import annotations

import socket
import sys
import threading
import time
from collections import deque
from typing import Callable

from bench.serving.protocol import send_message

POLL_S = 0.2  # how often the accept loop looks at its stop flag and at the refused connections
BACKOFF_FIRST_S = 0.01  # after a failed accept; doubled per failure in a row...
BACKOFF_MAX_S = 1.0  # ...up to this: a descriptor freed is used within a second, and a lasting failure costs little CPU
REFUSAL_LINGER_S = 1.0  # a refused client's request is drained this long before the close (see above)
REFUSAL_SEND_S = 1.0  # the refusal is ~100 bytes into an empty socket buffer: this never waits in practice
DRAIN_BYTES = 1 << 20  # at most one maximal message is drained from a refused client; more is abuse
SHUTTING_DOWN = "server is shutting down"


def log(message: str) -> None:
    """One line to stderr (the worker's log)."""
    print(f"server: {message}", file=sys.stderr, flush=True)


class Acceptor:
    """Accepts on its own thread until close(); each connection runs handle(conn) on a thread of its own."""

    def __init__(self, listener: socket.socket, max_connections: int, handle: Callable[[socket.socket], None],
                 stopping: threading.Event):
        """stopping: once set, new connections are refused with SHUTTING_DOWN."""
        self.listener = listener
        self.max_connections = max_connections
        self.handle = handle
        self.stopping = stopping
        self.finished = threading.Event()
        self.lock = threading.Lock()
        self.open = 0
        self.counters = {"connections": 0, "refused_connections": 0, "accept_errors": 0}
        self.handlers: list[threading.Thread] = []
        self.refused: deque[tuple[float, socket.socket]] = deque()  # (close after, connection), oldest first
        self.thread = threading.Thread(target=self._accept_loop, name="accept", daemon=True)

    def start(self) -> None:
        """Start accepting."""
        self.thread.start()

    def stats(self) -> dict:
        """Connection counters for the server's `stats` answer."""
        with self.lock:
            return {**self.counters, "open_connections": self.open}

    def join_handlers(self, timeout: float) -> None:
        """Wait up to `timeout` s in all for the connection threads to end."""
        deadline = time.monotonic() + timeout
        with self.lock:
            handlers = list(self.handlers)
        for thread in handlers:
            thread.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Stop accepting: later connects are refused by the kernel (ECONNREFUSED, not a reset), those
        already queued get SHUTTING_DOWN; returns once every refused connection is closed."""
        self.finished.set()
        self.thread.join()
        self.listener.shutdown(socket.SHUT_RD)  # AF_UNIX: connect() now fails at once; the queue stays acceptable
        self.listener.setblocking(False)
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # EAGAIN: the queue is empty
                break
            self._refuse(conn, SHUTTING_DOWN)
        self._close_refused(until=float("inf"))

    # -- the accept thread -------------------------------------------------------------------
    def _accept_loop(self) -> None:
        self.listener.settimeout(POLL_S)
        failures, first_failure = 0, 0.0
        while not self.finished.is_set():
            self._close_refused(until=time.monotonic())
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError as exc:  # EMFILE and the like: this connection waits in the queue; try again later
                with self.lock:
                    self.counters["accept_errors"] += 1
                if failures == 0:
                    first_failure = time.monotonic()
                    log(f"accept failed ({exc}); retrying with backoff")
                failures += 1
                self.finished.wait(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (failures - 1)))
                continue
            if failures:
                log(f"accepting again after {failures} failed accepts over {time.monotonic() - first_failure:.1f} s")
                failures = 0
            self._admit(conn)

    def _admit(self, conn: socket.socket) -> None:
        if self.stopping.is_set():
            self._refuse(conn, SHUTTING_DOWN)
            return
        with self.lock:
            full = self.open >= self.max_connections
            if not full:
                self.open += 1
                self.counters["connections"] += 1
                thread = threading.Thread(target=self._run_handler, args=(conn,), daemon=True)
                self.handlers = [t for t in self.handlers if t.is_alive()] + [thread]
        if full:
            self._refuse(conn, f"server is at its limit of {self.max_connections} connections "
                               "(--max-connections); try again later")
            return
        thread.start()

    def _run_handler(self, conn: socket.socket) -> None:
        try:
            self.handle(conn)
        finally:
            with self.lock:
                self.open -= 1

    def _refuse(self, conn: socket.socket, reason: str) -> None:
        with self.lock:
            self.counters["refused_connections"] += 1
        try:
            conn.settimeout(REFUSAL_SEND_S)
            send_message(conn, {"status": "error", "error": reason})
            conn.shutdown(socket.SHUT_WR)
        except OSError:  # the client is gone already
            conn.close()
            return
        self.refused.append((time.monotonic() + REFUSAL_LINGER_S, conn))

    def _close_refused(self, until: float) -> None:
        """Drain and close the refused connections whose linger ends before `until` (inf: all, waiting)."""
        while self.refused and self.refused[0][0] <= until:
            close_after, conn = self.refused.popleft()
            time.sleep(max(0.0, close_after - time.monotonic()))
            drain(conn)
            conn.close()


def drain(conn: socket.socket) -> None:
    """Read what the peer sent, without waiting, so the close does not reset its connection."""
    conn.setblocking(False)
    drained = 0
    while drained < DRAIN_BYTES:
        try:
            chunk = conn.recv(1 << 16)
        except OSError:  # EAGAIN: nothing more now, or the peer is gone
            return
        if not chunk:
            return
        drained += len(chunk)
