"""The command line's changes to a config file, made on its raw YAML mapping before it is validated,
so a value given as `--set measure.repeats=50` passes the same checks as one written in the file.

    Overrides(settings=(parse_setting("measure.repeats=50"),), strategies=("jit-only",))
    apply_overrides(raw, overrides)   # a changed copy of raw; parse_config then validates it

A value is parsed as YAML (`50` an int, `[10,20]` a list, `null` unsets); a strategy's options are
set by its name, since the file lists strategies: `strategies.jit+cuda.options.max_graphs=8`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from bench.config.errors import ConfigError, shown
from bench.config.names import BASELINE
from bench.config.yaml_file import MAX_CONFIG_BYTES, parse_yaml

Setting = tuple[tuple[str, ...], Any]  # a dotted key's parts, and the value to set there


@dataclass(frozen=True)
class Overrides:
    """What the command line changes: `--strategies` first, then each setting in order; `--out` names
    the run folder itself and is not part of the stored config."""
    settings: tuple[Setting, ...] = ()
    strategies: tuple[str, ...] = ()
    out: str | None = None


def parse_setting(text: str) -> Setting:
    """A `--set key.path=value` flag: the key's parts and its YAML-parsed value."""
    key, sep, value = text.partition("=")
    parts = tuple(key.strip().split("."))
    if not sep or not all(parts):
        raise ConfigError(f"--set: expected key.path=value (e.g. measure.repeats=50), got {shown(text)}")
    source = f"--set {'.'.join(parts)}"
    if len(value.encode()) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: a value larger than {MAX_CONFIG_BYTES} bytes; a whole config is a few hundred")
    return parts, parse_yaml(value, source)


def apply_overrides(raw: Any, overrides: Overrides) -> Any:
    """A copy of the raw config with the overrides made; a raw that is not a mapping is returned
    as it is, for parse_config to name the problem."""
    if not isinstance(raw, dict):
        return raw
    raw = copy.deepcopy(raw)
    if overrides.strategies:
        by_name = {s.get("name") if isinstance(s, dict) else s: s for s in raw.get("strategies") or []}
        raw["strategies"] = [by_name.get(n, {"name": n}) for n in overrides.strategies]  # the file's options kept
        load = raw.get("load")
        if isinstance(load, dict) and isinstance(load.get("strategies"), list):  # under load, only those still run
            kept = (*overrides.strategies, BASELINE)
            raw["load"] = {**load, "strategies": [n for n in load["strategies"] if n in kept]}
    for keys, value in overrides.settings:
        set_key(raw, keys, value)
    return raw


def set_key(raw: dict, keys: tuple[str, ...], value: Any) -> None:
    """Set raw[k1][k2]...= value, making missing sections; `strategies.<name>` is the listed entry of
    that name. A key the schema does not know is left for parse_config to refuse, as in a file."""
    dotted = ".".join(keys)
    node: dict = raw
    rest = keys
    if keys[0] == "strategies" and len(keys) > 1:
        node, rest = strategy_entry(raw, keys[1], dotted), keys[2:]
        if not rest:
            raise ConfigError(f"--set {dotted}: set a key inside the strategy, e.g. {dotted}.options.<key>=value")
    for i, key in enumerate(rest[:-1]):
        child = node.get(key)
        if child is None:
            child = node[key] = {}
        if not isinstance(child, dict):
            inside = ".".join(keys[:len(keys) - len(rest) + i + 1])
            raise ConfigError(f"--set {dotted}: {inside} is {shown(child)}, not a mapping")
        node = child
    node[rest[-1]] = value


def strategy_entry(raw: dict, name: str, dotted: str) -> dict:
    """The config's entry for strategy `name`, as a mapping (a bare name becomes {name: ...})."""
    entries = raw.get("strategies")
    if not isinstance(entries, list):
        raise ConfigError(f"--set {dotted}: the config's strategies is {shown(entries)}, not a list")
    names = [e.get("name") if isinstance(e, dict) else e for e in entries]
    if name not in names:
        listed = ", ".join(map(str, names)) or "none"
        raise ConfigError(f"--set {dotted}: no strategy {shown(name)} in the config (it lists {listed}); "
                          "add it with --strategies")
    i = names.index(name)
    if not isinstance(entries[i], dict):
        entries[i] = {"name": name}
    return entries[i]
