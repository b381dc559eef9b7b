"""The wire format and request rules, over socket pairs: framing limits, JSON bounds, allowed fields, sampling."""
from __future__ import annotations

import json
import re
import socket
import sys
import time

import pytest

from bench.serving.protocol import (MAX_NESTING, PREFIX, SHOWN_CHARS, FramingError, Inference, ProtocolError,
                                    check_sampling, decode, parse_request, read_frame)


def framed(payload: bytes) -> bytes:
    return PREFIX.pack(len(payload)) + payload


def test_a_message_of_exactly_the_limit_is_read_and_one_byte_more_is_refused():
    limit = 10
    a, b = socket.socketpair()
    with a, b:
        a.sendall(framed(b"x" * limit))
        assert read_frame(b, limit) == b"x" * limit
        a.sendall(framed(b"x" * (limit + 1)))
        with pytest.raises(FramingError, match=f"message of {limit + 1} bytes exceeds the limit of {limit} bytes"):
            read_frame(b, limit)


def test_a_message_arriving_in_pieces_is_read_whole():
    a, b = socket.socketpair()
    with a, b:
        data = framed(b'{"type": "ping"}')
        for i in range(len(data)):  # one byte per send: every read is partial
            a.sendall(data[i:i + 1])
        assert decode(read_frame(b, 100, deadline_s=5)) == {"type": "ping"}


def test_an_integer_past_pythons_digit_limit_is_a_named_error():
    limit = sys.get_int_max_str_digits()
    assert decode(f'{{"n": {"9" * limit}}}'.encode()) == {"n": int("9" * limit)}
    with pytest.raises(ProtocolError, match=f"a number has more than {limit} digits"):
        decode(f'{{"type": "inference", "input_tokens": [{"1" * 5000}]}}'.encode())


def test_a_long_bad_value_is_cut_in_the_error():
    with pytest.raises(ProtocolError) as info:
        parse_request({"type": "inference", "input_tokens": [int("7" * 4000)]}, 10, None)
    assert str(info.value) == f"input_tokens[0] = {'7' * SHOWN_CHARS}... (4000 characters) is outside the vocabulary [0, 10)"


def test_nesting_deeper_than_the_limit_is_a_named_error():
    deepest = "[" * (MAX_NESTING - 1) + "]" * (MAX_NESTING - 1)
    text = f'{{"a": {deepest}, "b": [[]]}}'  # more brackets than MAX_NESTING, none deeper
    assert decode(text.encode()) == {"a": json.loads(deepest), "b": [[]]}
    for depth in (MAX_NESTING + 1, 100_000):  # 100,000 is past Python's recursion limit
        with pytest.raises(ProtocolError, match=f"nested deeper than {MAX_NESTING} levels"):
            decode(b"[" * depth + b"]" * depth)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"type": "[" * 100 + '\\"{' * 50})
    assert decode(text.encode())["type"].startswith("[[[")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant):
    with pytest.raises(ProtocolError, match=f"{constant} is not a JSON value"):
        decode(f'{{"type": "inference", "input_tokens": [1], "temperature": {constant}}}'.encode())


@pytest.mark.parametrize("kind", ["ping", "stats"])
def test_unknown_fields_on_ping_and_stats_are_errors(kind):
    assert parse_request({"type": kind}, 10, None) == kind
    with pytest.raises(ProtocolError, match=f"unknown field 'x' in a '{kind}' request; allowed: type"):
        parse_request({"type": kind, "x": 1}, 10, None)


def test_an_infinite_temperature_is_refused():
    with pytest.raises(ProtocolError, match="'temperature' must be a positive, finite number"):
        parse_request({"type": "inference", "input_tokens": [1], "temperature": 1e400}, 10, None)


def test_sampling_fields_must_agree_with_the_server():
    greedy, sampled = (False, 1.0), (True, 0.7)
    check_sampling(Inference([1], None, False), *greedy)
    check_sampling(Inference([1], 0.7, True), *sampled)
    check_sampling(Inference([1], 0.7, None), *sampled)
    with pytest.raises(ProtocolError, match="'temperature' given, but this server is greedy"):
        check_sampling(Inference([1], 0.7, None), *greedy)
    with pytest.raises(ProtocolError, match="samples at temperature 0.7"):
        check_sampling(Inference([1], 0.8, None), *sampled)
    with pytest.raises(ProtocolError, match="prepared with do_sample=False"):
        check_sampling(Inference([1], None, True), *greedy)


@pytest.mark.parametrize("kind", [[], {}, 5, None])
def test_a_type_that_is_not_a_name_is_a_named_error(kind):
    expected = f"unknown or missing 'type' {kind!r}; allowed: inference, ping, stats"
    with pytest.raises(ProtocolError, match=re.escape(expected)):
        parse_request({"type": kind}, 10, None)


# frames whose strings and brackets made the nesting check's scan quadratic, each repeated to 32 KiB
HOSTILE_UNITS = {"escaped quotes then a bracket": '\\"[', "a bracket, a quote, an escaped quote": '["\\"',
                 "unterminated strings": '"\\', "bracket pairs": "[]", "quote then bracket": '"[',
                 "strings in lists": '["\\"]",'}
LINEAR_BOUND_S = 1.0  # a linear scan of 32 KiB takes milliseconds on a loaded 2-core machine; quadratic took 5-10 s


@pytest.mark.parametrize("unit", HOSTILE_UNITS.values(), ids=list(HOSTILE_UNITS))
def test_a_hostile_frame_is_refused_in_time_linear_in_its_size(unit):
    frame = (unit * ((32 << 10) // len(unit))).encode()
    started = time.monotonic()
    with pytest.raises(ProtocolError):
        decode(frame)
    assert time.monotonic() - started < LINEAR_BOUND_S
