"""A config file that is not plain, small, unambiguous YAML is refused in one line, before it costs anything."""
from __future__ import annotations

import time
import tracemalloc

import pytest
import yaml

from bench.config.errors import ConfigError
from bench.config.schema import load_config
from tests.conftest import tiny_raw

TINY_YAML = yaml.safe_dump(tiny_raw())


def alias_bomb(where: str) -> str:
    """About 300 bytes that expand to 9**9 = 387 million strings, placed at `where`."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n" + where


def refusal(write_config, text: str | bytes) -> str:
    path = write_config("")
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300
    return message


def test_duplicate_key_is_refused_with_its_line(write_config):
    text = "name: tiny\nmodel: {preset: tiny-llama}\nmeasure:\n  repeats: 5\n  repeats: 500\n"
    assert refusal(write_config, text).endswith(": line 5: duplicate key 'repeats' in measure; "
                                                "YAML would silently keep the last one")


def test_duplicate_top_level_key_is_refused(write_config):
    assert "line 3: duplicate key 'name'" in refusal(write_config, "name: a\nmodel: {preset: tiny-llama}\nname: b\n")


def test_merge_keys_and_small_aliases_are_allowed(write_config):
    text = ("name: shared\nmodel: {preset: tiny-llama}\nprompts: {lengths: &lengths [8, 16]}\n"
            "strategies:\n  - name: cuda-graph\n    options: &graph {buckets: *lengths, max_graphs: 4}\n"
            "  - name: jit+cuda\n    options: {<<: *graph, max_graphs: 8}\n")
    cfg = load_config(write_config(text))
    assert [s.options.max_graphs for s in cfg.strategies[1:]] == [4, 8]
    assert cfg.strategies[1].options.buckets == (8, 16)


@pytest.mark.parametrize("where", ["name: *i", "prompts: {lengths: *i}", "sampling: {temperature: *i}",
                                   "strategies: [{name: baseline, options: *i}]"])
def test_alias_bomb_is_refused_before_expansion(write_config, where):
    text = alias_bomb(where)
    assert len(text) < 400
    tracemalloc.start()
    start = time.perf_counter()
    message = refusal(write_config, text)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "expands (through YAML aliases) past" in message
    assert elapsed < 0.5, f"took {elapsed:.2f} s"  # today: over 90 s
    assert peak < 5_000_000, f"peak {peak} bytes"  # today: 3.8 GB


def test_alias_to_its_own_container_is_refused(write_config):
    assert "an alias refers to a value that contains it" in refusal(write_config, "name: &a [*a]\n")


def test_deep_nesting_is_refused(write_config):
    assert "nested deeper than" in refusal(write_config, "name: " + "[" * 10_000)
    assert "nested deeper than" in refusal(write_config, "name: " + "[" * 40 + "]" * 40)


def test_binary_file_is_one_line(write_config):
    assert refusal(write_config, bytes(range(256))).endswith(": not a UTF-8 text file (byte 0x80 at offset 128)")


def test_nul_byte_is_one_line(write_config):
    assert "malformed YAML: character #x0000 at offset 7 is not allowed" in refusal(write_config, b"name: a\0b\n")


def test_huge_file_is_refused_unread(write_config):
    assert "larger than 16384 bytes" in refusal(write_config, TINY_YAML + "#" * 16_384)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path)


def test_list_as_a_key_is_one_line(write_config):
    message = refusal(write_config, "name: tiny\n? [a, b]\n: 1\n")
    assert "malformed YAML at line 2, column 3: found unhashable key" in message
