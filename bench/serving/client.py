"""The design document's client: TorchScript preprocessing, then a request over the Unix socket."""
from __future__ import annotations

import socket
import sys
import time

import torch

from bench.serving.protocol import receive_message, send_message
from strategies.token_ops import pad_or_truncate, script_or_eager

CONNECT_RETRY_S = 0.1  # how often to retry while a starting server has not bound its socket yet


class ServerError(RuntimeError):
    """The server answered with status 'error'."""


class GeneratorClient:
    def __init__(self, socket_path: str, timeout: float | None = None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(socket_path))
        notes: list[str] = []
        self.preprocess = script_or_eager(pad_or_truncate, notes)
        for note in notes:  # the worker's log is where a reader of the run looks
            print(f"client: {note}", file=sys.stderr, flush=True)

    def call(self, message: dict) -> dict:
        """Send one request and return its answer; ServerError if the answer is an error."""
        send_message(self.sock, message)
        response = receive_message(self.sock, max_bytes=1 << 30)  # trust the server's answers
        if response.get("status") != "success":
            raise ServerError(response.get("error", f"malformed response {response!r}"))
        return response

    def infer(self, input_tokens: list[int]) -> tuple[int, dict]:
        """Preprocess on the client as the design document does, then ask for the first token."""
        ids = torch.tensor([input_tokens], dtype=torch.long)
        ids = self.preprocess(ids, len(input_tokens), 0)  # the seed pads/truncates to the prompt's own length
        response = self.call({"type": "inference", "input_tokens": ids[0].tolist()})
        return response["output_tokens"][0], response

    def ping(self) -> bool:
        """Whether the server answers ping with pong."""
        return self.call({"type": "ping"}).get("type") == "pong"

    def stats(self) -> dict:
        """The server's counters and preparation facts."""
        return self.call({"type": "stats"})

    def close(self) -> None:
        """Hang up."""
        self.sock.close()


def connect_when_ready(socket_path: str, timeout: float, alive=lambda: True) -> GeneratorClient:
    """A client of a starting server, once it answers ping; gives up after `timeout` or if not alive()."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            client = GeneratorClient(socket_path, timeout=max(1.0, deadline - time.monotonic()))
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(CONNECT_RETRY_S)
            continue
        if client.ping():
            client.sock.settimeout(None)
            return client
        client.close()
    raise TimeoutError(f"no server answered ping on {socket_path} within {timeout:.0f} s")
