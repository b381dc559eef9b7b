"""The design document's wire format, read robustly.

Each message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
Unlike the design document's single `recv`, a message is read exactly, across partial
reads, within a deadline, and a length prefix over the limit is refused before anything is
allocated. JSON nested deeper than MAX_NESTING is refused before parsing, by one scan in time linear
in the message's size (a 1 MiB hostile frame is answered in milliseconds); an integer longer than
Python's digit limit (sys.get_int_max_str_digits(), 4,300 by default) is refused by the parser.
"""
from __future__ import annotations

import itertools
import json
import math
import re
import socket
import struct
import sys
import time
from dataclasses import dataclass

PREFIX = struct.Struct(">I")  # 4-byte big-endian length, as the design document sends
MAX_MESSAGE_BYTES = 1 << 20  # 1 MiB: a 128k-token prompt as JSON is ~800 KB; anything bigger is abuse
MAX_NESTING = 16  # a request nests two levels (an object holding a list); Python's parser would recurse ~1,000 deep
SHOWN_CHARS = 40  # a bad value is quoted in the error up to this many characters

# a JSON string, or the rest of the text after an unterminated one: possessive (*+) and ending in an
# optional quote, a match never backtracks, so each character is read once. (Without that, an opening
# quote with no closing one was matched to the end and given up again, from every quote in turn:
# '\\"[' repeated took 10 s at 32 KB and hours at 1 MiB, during which every other client waited.)
JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]++")
DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class ProtocolError(Exception):
    """A request the server answers with an error and keeps the connection for."""


class FramingError(Exception):
    """The byte stream can't be trusted any more: answer if possible, then close."""


class PeerClosed(Exception):
    """The peer hung up (cleanly between messages, or mid-message)."""


def read_exact(sock: socket.socket, n: int, deadline: float | None = None) -> bytes:
    """Exactly n bytes, across partial reads; PeerClosed if the peer hangs up first;
    socket.timeout once time.monotonic() passes deadline (None: the socket's own timeout per read)."""
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("deadline passed")
            sock.settimeout(left)
        chunk = sock.recv(min(n - got, 1 << 16))
        if not chunk:
            raise PeerClosed(f"peer closed after {got} of {n} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket, max_bytes: int = MAX_MESSAGE_BYTES, deadline_s: float | None = None) -> bytes:
    """One message's payload. The first byte may take as long as the socket's timeout allows
    (an idle connection); once it came, the whole message must arrive within deadline_s."""
    first = read_exact(sock, 1)
    deadline = None if deadline_s is None else time.monotonic() + deadline_s
    try:
        (length,) = PREFIX.unpack(first + read_exact(sock, PREFIX.size - 1, deadline))
        if length > max_bytes:
            raise FramingError(f"message of {length} bytes exceeds the limit of {max_bytes} bytes")
        return read_exact(sock, length, deadline)
    except socket.timeout:
        if deadline is None:
            raise
        raise FramingError(f"message not complete {deadline_s:g} s after its first byte (--stall-timeout); "
                           "closing the connection") from None


def decode(payload: bytes) -> dict:
    """JSON object from a frame's payload, or ProtocolError naming the problem."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("message is not valid UTF-8") from None
    check_nesting(text)
    try:
        message = json.loads(text, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"malformed JSON: {exc.msg} at position {exc.pos}") from None
    except ValueError:  # the only other ValueError json.loads raises: int() refusing too many digits
        raise ProtocolError(f"a number has more than {sys.get_int_max_str_digits()} digits") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"message must be a JSON object, got {type(message).__name__}")
    return message


def check_nesting(text: str) -> None:
    """ProtocolError for JSON nested deeper than MAX_NESTING, found before json.loads would recurse into it."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return  # the common case, at C speed: too few brackets to nest deeper
    brackets = NOT_A_BRACKET.sub("", JSON_STRING.sub("", text))
    # the running depth, summed in C: a Python loop took 0.2 s over a 1 MiB frame of '[]'
    if max(itertools.accumulate(map(DEPTH_STEP.__getitem__, brackets)), default=0) > MAX_NESTING:
        raise ProtocolError(f"JSON nested deeper than {MAX_NESTING} levels")


def refuse_constant(name: str):
    """json.loads hook: NaN and Infinity are not JSON."""
    raise ProtocolError(f"malformed JSON: {name} is not a JSON value")


def send_message(sock: socket.socket, message: dict) -> None:
    """Send one message: its length prefix, then its JSON."""
    data = json.dumps(message).encode("utf-8")
    sock.sendall(PREFIX.pack(len(data)) + data)


def receive_message(sock: socket.socket, max_bytes: int = MAX_MESSAGE_BYTES) -> dict:
    """Read one message (blocking within the socket's timeout) and decode it."""
    return decode(read_frame(sock, max_bytes))


@dataclass(frozen=True)
class Inference:
    input_tokens: list[int]
    temperature: float | None
    do_sample: bool | None


ALLOWED_KEYS = {"inference": ("type", "input_tokens", "temperature", "do_sample"), "ping": ("type",),
                "stats": ("type",)}


def parse_request(message: dict, vocab_size: int, max_positions: int | None) -> str | Inference:
    """'ping' / 'stats', or a validated Inference; ProtocolError naming what is wrong."""
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in ALLOWED_KEYS:  # a list or an object as the type is not hashable
        raise ProtocolError(f"unknown or missing 'type' {shown(kind)}; allowed: {', '.join(ALLOWED_KEYS)}")
    unknown = [k for k in message if k not in ALLOWED_KEYS[kind]]
    if unknown:
        raise ProtocolError(f"unknown field {unknown[0]!r} in a {kind!r} request; "
                            f"allowed: {', '.join(ALLOWED_KEYS[kind])}")
    if kind != "inference":
        return kind
    tokens = message.get("input_tokens")
    if not isinstance(tokens, list):
        raise ProtocolError(f"'input_tokens' must be a list of integers, got {type(tokens).__name__}")
    if not tokens:
        raise ProtocolError("'input_tokens' is empty: a prompt needs at least one token")
    if max_positions is not None and len(tokens) > max_positions:
        raise ProtocolError(f"prompt of {len(tokens)} tokens exceeds the model's maximum positions ({max_positions})")
    for i, t in enumerate(tokens):
        if isinstance(t, bool) or not isinstance(t, int):
            raise ProtocolError(f"input_tokens[{i}] = {shown(t)} is not an integer")
        if not 0 <= t < vocab_size:
            raise ProtocolError(f"input_tokens[{i}] = {shown(t)} is outside the vocabulary [0, {vocab_size})")
    temperature = message.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                    or not math.isfinite(temperature) or temperature <= 0):
        raise ProtocolError(f"'temperature' must be a positive, finite number, got {shown(temperature)}")
    do_sample = message.get("do_sample")
    if do_sample is not None and not isinstance(do_sample, bool):
        raise ProtocolError(f"'do_sample' must be true or false, got {shown(do_sample)}")
    return Inference(tokens, None if temperature is None else float(temperature), do_sample)


def shown(value) -> str:
    """repr(value), cut to SHOWN_CHARS characters: an error message quotes a value, not a megabyte of it."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"


def check_sampling(request: Inference, do_sample: bool, temperature: float) -> None:
    """ProtocolError if the request's sampling fields disagree with the server's configured sampling."""
    if request.do_sample is not None and request.do_sample != do_sample:
        raise ProtocolError(f"this server was prepared with do_sample={do_sample}; "
                            "restart it with the other sampling mode")
    if request.temperature is None:
        return
    if not do_sample:
        raise ProtocolError("'temperature' given, but this server is greedy (do_sample=False); "
                            "drop it or restart the server in temperature mode")
    if request.temperature != temperature:
        raise ProtocolError(f"this server samples at temperature {temperature}; restart it to change that")
