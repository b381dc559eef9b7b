"""The load generator's client: many requests in flight to a generator server, each on a connection of
its own, each timed on the host from its send to its answer (torch-free).

    result = closed_loop(socket_path, frames, clients=8, max_level_s=30)
    result = open_loop(socket_path, frames, offsets_ns, max_in_flight=64, max_level_s=30)

Closed loop: `clients` connections, each sending its next request once the answer to its last came.
Open loop: request i is sent at offsets_ns[i] after the level's start, on an idle connection.
So that the client is not what is measured: every request's bytes are made before the level starts
(frame()), the connections are opened and answered a ping before it starts (so neither a connect nor
the server's start of a connection thread lands in a request), and one asyncio loop sends and
receives (one thread: no lock, no thread switch between a send and its clock).
A level beyond capacity stops: in open loop when max_in_flight requests wait for an answer (the
backlog), in both once it has run max_level_s; the requests already sent are then waited for (as long
again at most), so the next level finds the server idle.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from bench.serving.protocol import PREFIX

PING = {"type": "ping"}


def frame(message: dict) -> bytes:
    """A message as the server reads it: the 4-byte length, then the JSON."""
    data = json.dumps(message).encode("utf-8")
    return PREFIX.pack(len(data)) + data


def inference_frame(tokens) -> bytes:
    """An inference request for these prompt ids (sent as they are: the design document's client pads or
    truncates a prompt to its own length, which leaves it unchanged)."""
    return frame({"type": "inference", "input_tokens": list(tokens)})


@dataclass(frozen=True)
class Answer:
    """One request sent: when (ns since the level's start), how long until its answer, and the answer."""
    sent_ns: int
    ttft_ns: int | None = None  # None: no answer came
    response: dict | None = None


@dataclass(frozen=True)
class LevelResult:
    answers: tuple[Answer | None, ...]  # per planned request; None: never sent (the level stopped first)
    stopped: str  # why the level stopped before sending everything; "" if it did not

    @property
    def unanswered(self) -> int:
        """Requests sent that never got an answer: the server stopped answering."""
        return sum(a is not None and a.response is None for a in self.answers)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    def send(self, data: bytes) -> int:
        """Write a request now (the socket takes a few KB at once); its send time on the host clock."""
        sent = time.perf_counter_ns()
        self.writer.write(data)
        return sent

    async def receive(self) -> tuple[int, dict]:
        """The next answer and the host clock when its last byte was read."""
        (length,) = PREFIX.unpack(await self.reader.readexactly(PREFIX.size))
        payload = await self.reader.readexactly(length)
        return time.perf_counter_ns(), json.loads(payload)

    def close(self) -> None:
        self.writer.close()


async def connect(socket_path: str, count: int) -> list[Connection]:
    """`count` connections, each answered a ping: accepted and served by a thread of the server's."""
    connections = []
    try:
        for _ in range(count):
            connections.append(Connection(*await asyncio.open_unix_connection(socket_path)))
        ping = frame(PING)
        for connection in connections:
            connection.send(ping)
        for connection in connections:
            _, response = await connection.receive()
            if response.get("type") != "pong":
                raise ConnectionError(f"the server answered a ping with {response!r}")
    except BaseException:
        for connection in connections:
            connection.close()
        raise
    return connections


def closed_loop(socket_path: str, frames: list[bytes], clients: int, max_level_s: float) -> LevelResult:
    """Send `frames` from `clients` clients, each waiting for its answer before its next request."""
    return asyncio.run(_closed_loop(socket_path, frames, clients, max_level_s))


def open_loop(socket_path: str, frames: list[bytes], offsets_ns: list[int], max_in_flight: int,
              max_level_s: float) -> LevelResult:
    """Send frames[i] at offsets_ns[i] after the start, whatever the answers, while fewer than max_in_flight wait."""
    return asyncio.run(_open_loop(socket_path, frames, offsets_ns, max_in_flight, max_level_s))


async def _closed_loop(socket_path: str, frames: list[bytes], clients: int, max_level_s: float) -> LevelResult:
    connections = await connect(socket_path, min(clients, len(frames)))
    answers: list[Answer | None] = [None] * len(frames)
    pending = iter(range(len(frames)))  # shared: each request is taken by one client, once
    start = time.perf_counter_ns()
    deadline = start + int(max_level_s * 1e9)
    stopped = []

    async def client(connection: Connection) -> None:
        for i in pending:
            if time.perf_counter_ns() > deadline:
                stopped.append(f"time bound: {max_level_s:g} s passed before every request was sent")
                return
            sent = connection.send(frames[i])
            answers[i] = Answer(sent - start)
            received, response = await connection.receive()
            answers[i] = Answer(sent - start, received - sent, response)

    await finish([asyncio.ensure_future(client(c)) for c in connections], connections, max_level_s * 2)
    return LevelResult(tuple(answers), stopped[0] if stopped else "")


async def _open_loop(socket_path: str, frames: list[bytes], offsets_ns: list[int], max_in_flight: int,
                     max_level_s: float) -> LevelResult:
    connections = await connect(socket_path, min(max_in_flight, len(frames)))
    idle = list(connections)
    answers: list[Answer | None] = [None] * len(frames)
    tasks = []
    start = time.perf_counter_ns()
    deadline = start + int(max_level_s * 1e9)
    stopped = ""

    async def answer(i: int, connection: Connection, sent: int) -> None:
        received, response = await connection.receive()
        answers[i] = Answer(sent - start, received - sent, response)
        idle.append(connection)

    for i, offset in enumerate(offsets_ns):
        wait_s = (start + offset - time.perf_counter_ns()) / 1e9
        if wait_s > 0:
            await asyncio.sleep(wait_s)  # answers are read meanwhile
        if time.perf_counter_ns() > deadline:
            stopped = f"time bound: {max_level_s:g} s passed before every request was sent"
            break
        if not idle:
            stopped = f"backlog: {max_in_flight} requests in flight (load.max_in_flight) at request {i}"
            break
        connection = idle.pop()
        sent = connection.send(frames[i])
        answers[i] = Answer(sent - start)
        tasks.append(asyncio.ensure_future(answer(i, connection, sent)))
    remaining_s = max(0.0, (deadline - time.perf_counter_ns()) / 1e9)
    await finish(tasks, connections, remaining_s + max_level_s)
    return LevelResult(tuple(answers), stopped)


async def finish(tasks: list, connections: list[Connection], timeout_s: float) -> None:
    """Wait up to timeout_s for the requests in flight to be answered, then close every connection (an
    answer that has not come by then is recorded as none)."""
    try:
        if tasks:
            done, late = await asyncio.wait(tasks, timeout=timeout_s)
            for task in late:
                task.cancel()
            for task in done:
                task.result()  # a connection the server closed: raised here, not lost
    finally:
        for connection in connections:
            connection.close()
