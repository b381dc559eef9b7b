"""A nested config as dotted keys (`measure.repeats`, `strategies.jit+cuda.options.max_graphs`), and
which of them differ between two configs: what `compare` lists and a refused resume names."""
from __future__ import annotations

from bench.config.errors import shown

ABSENT = object()  # the value of a key one side lacks


def flatten(value, prefix: str = "") -> dict[str, object]:
    """A nested config as dotted keys; strategy lists are keyed by strategy name."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in value):
        return flatten({v["name"]: {k: x for k, x in v.items() if k != "name"} or "listed" for v in value}, prefix)
    return {prefix: value}


def changed_keys(old: dict, new: dict) -> list[str]:
    """'key: old -> new' for every dotted key whose value differs ('(absent)' where one lacks it)."""
    a, b = flatten(old), flatten(new)
    return [change_text(key, a.get(key, ABSENT), b.get(key, ABSENT)) for key in sorted(set(a) | set(b))
            if a.get(key, ABSENT) != b.get(key, ABSENT)]


def change_text(key: str, before, after) -> str:
    """'key: before -> after', each value shown ('(absent)' for ABSENT): how every change of a run is named."""
    return f"{key}: {value_text(before)} -> {value_text(after)}"


def value_text(value) -> str:
    """A value as a change shows it: '(absent)' for ABSENT."""
    return "(absent)" if value is ABSENT else shown(value)
