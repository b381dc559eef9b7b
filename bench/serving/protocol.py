"""The design document's wire format, read robustly.

Each message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
Unlike the design document's single `recv`, a message is read exactly, across partial
reads, and a length prefix over the limit is refused before anything is allocated.
"""
from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass

PREFIX = struct.Struct(">I")  # 4-byte big-endian length, as the design document sends
MAX_MESSAGE_BYTES = 1 << 20  # 1 MiB: a 128k-token prompt as JSON is ~800 KB; anything bigger is abuse


class ProtocolError(Exception):
    """A request the server answers with an error and keeps the connection for."""


class FramingError(Exception):
    """The byte stream can't be trusted any more: answer if possible, then close."""


class PeerClosed(Exception):
    """The peer hung up (cleanly between messages, or mid-message)."""


def read_exact(sock: socket.socket, n: int) -> bytes:
    """Exactly n bytes, across partial reads; PeerClosed if the peer hangs up first."""
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 16))
        if not chunk:
            raise PeerClosed(f"peer closed after {got} of {n} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket, max_bytes: int = MAX_MESSAGE_BYTES, stall_timeout: float | None = None) -> bytes:
    """One message's payload. The first byte may take as long as the socket's timeout allows
    (an idle connection); once it came, the rest must flow within stall_timeout."""
    first = read_exact(sock, 1)
    if stall_timeout is not None:
        sock.settimeout(stall_timeout)
    (length,) = PREFIX.unpack(first + read_exact(sock, PREFIX.size - 1))
    if length > max_bytes:
        raise FramingError(f"message of {length} bytes exceeds the limit of {max_bytes} bytes")
    return read_exact(sock, length)


def decode(payload: bytes) -> dict:
    """JSON object from a frame's payload, or ProtocolError naming the problem."""
    try:
        message = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProtocolError("message is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"malformed JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"message must be a JSON object, got {type(message).__name__}")
    return message


def send_message(sock: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode("utf-8")
    sock.sendall(PREFIX.pack(len(data)) + data)


def receive_message(sock: socket.socket, max_bytes: int = MAX_MESSAGE_BYTES) -> dict:
    return decode(read_frame(sock, max_bytes))


@dataclass(frozen=True)
class Inference:
    input_tokens: list[int]
    temperature: float | None
    do_sample: bool | None


REQUEST_TYPES = ("inference", "ping", "stats")
INFERENCE_KEYS = ("type", "input_tokens", "temperature", "do_sample")


def parse_request(message: dict, vocab_size: int, max_positions: int | None) -> str | Inference:
    """'ping' / 'stats', or a validated Inference; ProtocolError naming what is wrong."""
    kind = message.get("type")
    if kind not in REQUEST_TYPES:
        raise ProtocolError(f"unknown or missing 'type' {kind!r}; allowed: {', '.join(REQUEST_TYPES)}")
    if kind != "inference":
        return kind
    unknown = [k for k in message if k not in INFERENCE_KEYS]
    if unknown:
        raise ProtocolError(f"unknown field {unknown[0]!r}; allowed: {', '.join(INFERENCE_KEYS)}")
    tokens = message.get("input_tokens")
    if not isinstance(tokens, list):
        raise ProtocolError(f"'input_tokens' must be a list of integers, got {type(tokens).__name__}")
    if not tokens:
        raise ProtocolError("'input_tokens' is empty: a prompt needs at least one token")
    if max_positions is not None and len(tokens) > max_positions:
        raise ProtocolError(f"prompt of {len(tokens)} tokens exceeds the model's maximum positions ({max_positions})")
    for i, t in enumerate(tokens):
        if isinstance(t, bool) or not isinstance(t, int):
            raise ProtocolError(f"input_tokens[{i}] = {t!r} is not an integer")
        if not 0 <= t < vocab_size:
            raise ProtocolError(f"input_tokens[{i}] = {t} is outside the vocabulary [0, {vocab_size})")
    temperature = message.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                    or temperature <= 0):
        raise ProtocolError(f"'temperature' must be a positive number, got {temperature!r}")
    do_sample = message.get("do_sample")
    if do_sample is not None and not isinstance(do_sample, bool):
        raise ProtocolError(f"'do_sample' must be true or false, got {do_sample!r}")
    return Inference(tokens, None if temperature is None else float(temperature), do_sample)
