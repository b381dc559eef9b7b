"""Reading a config file as YAML, refusing what a config never needs before it can cost anything.

    raw = read_yaml("configs/default.yaml")   # raises ConfigError with a one-line message

Refused: files over MAX_CONFIG_BYTES, bytes that are not UTF-8, duplicate keys (YAML would keep the
last one silently), nesting deeper than MAX_DEPTH, and aliases that expand past MAX_EXPANDED_SIZE.
The size is counted on the composed node graph, where an alias is still one shared node, so a
300-byte alias bomb is refused in microseconds instead of being built.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.config.capped_file import read_capped
from bench.config.errors import ConfigError, shown

# the configs here are at most 1.2 KB; 16 KiB still holds a long prompts.text, and pure-Python
# PyYAML parses it in a fraction of a second (a 120 KB list took 3 s), so a bigger file is not read
MAX_CONFIG_BYTES = 16 << 10
# the document with every alias expanded, counted as one per node plus one per scalar character:
# a million is far beyond any config (one without aliases stays under its byte count) and still
# builds in well under a second; a 300-byte alias bomb expands to billions
MAX_EXPANDED_SIZE = 1 << 20
# a config nests four levels (strategies[i].options.buckets[j]); deeper is a mistake or an attack
MAX_DEPTH = 32
SHOWN_PATH = 120  # a dotted key path in a message; longer ones come only from absurd keys


def read_yaml(path: str | Path) -> Any:
    """The parsed YAML document of a config file, or a ConfigError naming the file and the problem."""
    path = Path(path)
    data = read_capped(path, MAX_CONFIG_BYTES, f"{path}: cannot read config",
                       f"{path}: larger than {MAX_CONFIG_BYTES} bytes; a config is a few hundred")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = f"0x{data[exc.start]:02x}"
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {byte} at offset {exc.start})") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> Any:
    """The parsed YAML document of `text` (a file's, or a --set value), with the file's limits on
    nesting, duplicate keys and alias expansion; a ConfigError naming `source` and the problem."""
    loader = None
    try:
        _refuse_deep_nesting(text, source)
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, source, "", 0, {}, set())
        return loader.construct_document(node)
    except yaml.reader.ReaderError as exc:
        raise ConfigError(f"{source}: malformed YAML: character #x{exc.character:04x} at offset {exc.position} "
                          "is not allowed") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}: malformed YAML{where}: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _refuse_deep_nesting(text: str, source: str) -> None:
    """Stop at the first level past MAX_DEPTH: the scanner's work grows with the square of the depth,
    and the composer recurses once per level (100,000 '[' would take seconds, then overflow the stack)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(f"{source}: line {event.start_mark.line + 1}: nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _expanded_size(node: yaml.Node, source: str, where: str, depth: int, sizes: dict, open_ids: set) -> int:
    """The node's size with aliases expanded, memoised per node so shared nodes cost one visit."""
    if id(node) in sizes:
        return sizes[id(node)]
    line = node.start_mark.line + 1
    if id(node) in open_ids:
        raise ConfigError(f"{source}: line {line}: an alias refers to a value that contains it")
    if depth > MAX_DEPTH:
        raise ConfigError(f"{source}: line {line}: nested deeper than {MAX_DEPTH} levels")
    open_ids.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        size = 1 + len(node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, source, f"{where}[{i}]", depth + 1, sizes, open_ids)
                       for i, item in enumerate(node.value))
    else:
        _refuse_duplicate_keys(node, source, where)
        size = 1
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            inner = f"{where}.{name}" if where else name
            size += _expanded_size(key, source, where, depth + 1, sizes, open_ids)
            size += _expanded_size(value, source, inner[:SHOWN_PATH], depth + 1, sizes, open_ids)
    open_ids.discard(id(node))
    if size > MAX_EXPANDED_SIZE:
        raise ConfigError(f"{source}: line {line}: {where or 'the document'} expands (through YAML aliases) "
                          f"past {MAX_EXPANDED_SIZE} nodes and characters; a config is a few hundred")
    sizes[id(node)] = size
    return size


def _refuse_duplicate_keys(node: yaml.MappingNode, source: str, where: str) -> None:
    seen = set()
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue  # a list or mapping as a key fails later, as an unknown key
        if (key.tag, key.value) in seen:
            section = f" in {where}" if where else ""
            raise ConfigError(f"{source}: line {key.start_mark.line + 1}: duplicate key {shown(key.value)}{section}; "
                              "YAML would silently keep the last one")
        seen.add((key.tag, key.value))
