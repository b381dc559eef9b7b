"""The generator process: loads the model and one strategy once, prepares the configured lengths,
then answers requests on a Unix socket until SIGTERM/SIGINT.

    python -m bench serve --config configs/default.yaml --strategy baseline --socket /tmp/ttft/s.sock

Connection threads read and validate requests; the main thread runs them on the GPU in arrival
order (a FIFO queue), one at a time, or with `--max-batch N` (bench/serving/batching.py) the requests
waiting at that moment as one batch, and each answer goes back to the connection it came on.
"""
from __future__ import annotations

import queue
import signal
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.serving.acceptor import POLL_S, SHUTTING_DOWN, Acceptor
from bench.serving.batching import Batching
from bench.serving.limits import ServerLimits
from bench.serving.protocol import (FramingError, Inference, PeerClosed, ProtocolError,
                                    check_sampling, decode, parse_request, read_frame, send_message)

if TYPE_CHECKING:  # the server itself runs whatever it is given; importing strategies would load torch
    from strategies.base import Strategy

IDLE_TIMEOUT_S = 600.0  # a connection may sit idle between requests this long (a benchmark client pauses to write)
SHUTDOWN_GRACE_S = 5.0  # time given to connection threads to send their last answers


@dataclass
class Job:
    request: Inference
    enqueued_ns: int = field(default_factory=time.perf_counter_ns)
    done: threading.Event = field(default_factory=threading.Event)
    response: dict | None = None


class GeneratorServer:
    def __init__(self, listener: socket.socket, *, limits: ServerLimits = ServerLimits(),
                 batching: Batching = Batching()):
        """listener: bound by bind_private before the (slow) model load, so a conflict shows at once;
        whoever bound it closes it and removes its file once serve_forever returns.
        limits: what each client is allowed; batching: how many waiting requests one forward answers
        (both validated when built)."""
        self.listener = listener
        self.limits = limits
        self.batching = batching
        self.jobs: queue.Queue[Job] = queue.Queue()
        self.stopping = threading.Event()
        self.closed = threading.Event()  # set once the queue is drained: nobody will run a job any more
        self.lock = threading.Lock()
        self.counters = {"requests": 0, "errors": 0, "dropped_connections": 0}
        self.queue_delay = {"n": 0, "total_ms": 0.0, "max_ms": None}  # running, so a long-lived server stays small
        self.batch_sizes: Counter[int] = Counter()  # batches run, by their number of requests
        # open connections that have sent an inference request. Each has at most one in the server (its
        # thread reads the next request only after answering), so a batch holding `senders` requests
        # holds all that can come: waiting longer would only delay them
        self.senders = 0
        self.local = threading.local()  # per connection thread: whether it counts among the senders
        self.acceptor = Acceptor(listener, self.limits.max_connections, self._serve_connection, self.stopping)

    def attach(self, strategy: Strategy, vocab_size: int, max_positions: int | None, sampling: tuple[str, float],
               info: dict) -> None:
        """The prepared strategy this server runs; info: setup and preparation facts for `stats`."""
        self.strategy = strategy
        self.vocab_size = vocab_size
        self.max_positions = max_positions
        self.do_sample, self.temperature = sampling[0] == "temperature", sampling[1]
        self.info = info

    # -- lifecycle ---------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the server after the request in flight."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())

    def serve_forever(self) -> None:
        """Accept on a thread; run jobs here until told to stop; then clean up."""
        self.acceptor.start()
        try:
            while not self.stopping.is_set():
                try:
                    job = self.jobs.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                self._execute(self._gather(job) if self.batching.batched else [job])
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self.stopping.set()  # from here new connections and requests are answered SHUTTING_DOWN
        while True:  # queued behind the request in flight: answered, not dropped
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            self._finish(job, {"status": "error", "error": SHUTTING_DOWN})
        self.closed.set()
        self.acceptor.join_handlers(SHUTDOWN_GRACE_S)
        self.acceptor.close()

    # -- GPU side (main thread) --------------------------------------------------------------
    def _gather(self, first: Job) -> list[Job]:
        """first, the jobs queued behind it, then those arriving within max_wait_us of taking first,
        up to max_batch, in arrival order. No wait once every sender has its request in the batch."""
        batch = [first]
        deadline = time.perf_counter() + self.batching.max_wait_us / 1e6
        while len(batch) < self.batching.max_batch:
            left = deadline - time.perf_counter()
            try:
                if left > 0 and len(batch) < self.senders:
                    batch.append(self.jobs.get(timeout=left))
                else:
                    batch.append(self.jobs.get_nowait())
            except queue.Empty:
                break
        return batch

    def _execute(self, batch: list[Job]) -> None:
        """Run one batch (one job when not batching) and answer each job with its own prompt's token."""
        with self.lock:
            self.batch_sizes[len(batch)] += 1
        started = time.perf_counter_ns()
        prompts = [job.request.input_tokens for job in batch]
        try:
            if self.batching.batched:
                tokens = [answer.token for answer in self.strategy.first_tokens(prompts)]
            else:  # exactly the unbatched server's call
                tokens = [self.strategy.first_token(prompts[0]).token]
            if len(tokens) != len(batch):  # answering by position would give someone another's token
                raise RuntimeError(f"{len(tokens)} answers for a batch of {len(batch)} prompts")
        except Exception as exc:  # one failing request must not take the server down
            for job in batch:
                self._finish(job, {"status": "error", "error": f"inference failed: {type(exc).__name__}: {exc}"})
            return
        done = time.perf_counter_ns()
        queue_ms = [(started - job.enqueued_ns) / 1e6 for job in batch]
        with self.lock:
            delay = self.queue_delay
            delay["n"] += len(batch)
            delay["total_ms"] += sum(queue_ms)
            delay["max_ms"] = max(queue_ms if delay["max_ms"] is None else [delay["max_ms"], *queue_ms])
        for job, token, waited in zip(batch, tokens, queue_ms):
            self._finish(job, {"status": "success", "output_tokens": [token], "server_ttft_ms": (done - started) / 1e6,
                               "queue_ms": waited, "prompt_len": len(job.request.input_tokens),
                               "batch_size": len(batch)})

    def _finish(self, job: Job, response: dict) -> None:
        with self.lock:
            self.counters["requests"] += 1
            self.counters["errors"] += response["status"] != "success"
        job.response = response
        job.done.set()

    # -- connections (threads) ---------------------------------------------------------------
    def _serve_connection(self, conn: socket.socket) -> None:
        self.local.sender = False
        try:
            self._converse(conn)
        finally:
            if self.local.sender:
                with self.lock:
                    self.senders -= 1

    def _converse(self, conn: socket.socket) -> None:
        with conn:
            while not self.stopping.is_set():
                conn.settimeout(IDLE_TIMEOUT_S)
                try:
                    payload = read_frame(conn, self.limits.max_message, self.limits.stall_timeout)
                except FramingError as exc:
                    self._reply(conn, {"status": "error", "error": str(exc)})
                    self._drop()
                    return
                except (PeerClosed, OSError):  # hung up, or idle past IDLE_TIMEOUT_S (socket.timeout)
                    self._drop()
                    return
                if not self._reply(conn, self._answer(payload)):
                    return

    def _answer(self, payload: bytes) -> dict:
        try:
            request = parse_request(decode(payload), self.vocab_size, self.max_positions)
            if isinstance(request, Inference):
                check_sampling(request, self.do_sample, self.temperature)
        except ProtocolError as exc:
            return self._refuse(str(exc))
        except Exception as exc:  # a request no check foresaw: answered, and the connection kept
            print(f"server: request refused by an unforeseen error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return self._refuse(f"request not understood ({type(exc).__name__})")
        if request == "ping":
            return {"status": "success", "type": "pong"}
        if request == "stats":
            return {"status": "success", "type": "stats", **self.stats()}
        if self.stopping.is_set():
            return {"status": "error", "error": SHUTTING_DOWN}
        if not self.local.sender:
            self.local.sender = True
            with self.lock:
                self.senders += 1
        job = Job(request)
        self.jobs.put(job)
        while not job.done.wait(POLL_S):
            if self.closed.is_set():  # queued after the final drain
                return {"status": "error", "error": SHUTTING_DOWN}
        return job.response

    def _refuse(self, reason: str) -> dict:
        with self.lock:
            self.counters["errors"] += 1
        return {"status": "error", "error": reason}

    def _reply(self, conn: socket.socket, response: dict) -> bool:
        try:
            send_message(conn, response)
            return True
        except OSError:
            self._drop()
            return False

    def _drop(self) -> None:
        with self.lock:
            self.counters["dropped_connections"] += 1

    def stats(self) -> dict:
        """Counters, queueing delay, batches by size, the strategy's own counters and the preparation facts."""
        with self.lock:
            counters = dict(self.counters)
            delay = dict(self.queue_delay)
            batch_sizes = {str(size): n for size, n in sorted(self.batch_sizes.items())}
        queueing = {"n": delay["n"], "mean_ms": delay["total_ms"] / delay["n"] if delay["n"] else None,
                    "max_ms": delay["max_ms"]}
        return {**counters, **self.acceptor.stats(), "queue_delay": queueing, "batch_sizes": batch_sizes,
                "batching": {"max_batch": self.batching.max_batch, "max_wait_us": self.batching.max_wait_us},
                "strategy": self.strategy.stats(),
                "graph_mem_bytes": self.strategy.graph_memory_bytes(), **self.info}
