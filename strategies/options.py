"""Validation shared by every config section and strategy options dataclass."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable


class ConfigError(ValueError):
    """A config problem, phrased as one line that names the key, the value and what is allowed."""


def check_keys(section: str, given: dict, allowed: Iterable[str]) -> None:
    """Reject unknown keys, naming the key and the allowed ones."""
    allowed = list(allowed)
    for key in given:
        if key not in allowed:
            raise ConfigError(f"{section}: unknown key {key!r}; allowed: {', '.join(allowed) or '(none)'}")


def build_options(options_type: type, given: Any, section: str) -> Any:
    """Build a strategy's frozen options dataclass from a YAML mapping."""
    if not isinstance(given, dict):
        raise ConfigError(f"{section}: expected a mapping, got {given!r}")
    check_keys(section, given, [f.name for f in dataclasses.fields(options_type)])
    try:
        return options_type(**given)
    except ConfigError as exc:
        raise ConfigError(f"{section}.{exc}") from None


def check_int_list(key: str, value: Any, allow_none: bool = True) -> tuple[int, ...] | None:
    """A list of positive integers (or None), returned as a tuple."""
    if value is None and allow_none:
        return None
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise ConfigError(f"{key}: expected a list of positive integers, got {value!r}")
    return tuple(value)


def check_choice(key: str, value: Any, allowed: Iterable[Any]) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{key}: unknown value {value!r}; allowed: {', '.join(map(str, allowed))}")


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """For strategies that take no options."""
