"""Checks a strategy's options dataclass runs in its __post_init__; they raise OptionError."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable


class OptionError(ValueError):
    """A bad strategy option, phrased as one line that names the option, the value and what is allowed.
    The harness prefixes the config section it came from."""


def check_int_list(key: str, value: Any) -> tuple[int, ...] | None:
    """A list of positive integers (or None), returned as a tuple."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise OptionError(f"{key}: expected a list of positive integers, got {value!r}")
    return tuple(value)


def check_choice(key: str, value: Any, allowed: Iterable[Any]) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise OptionError(f"{key}: unknown value {value!r}; allowed: {', '.join(map(str, allowed))}")


def check_bool(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise OptionError(f"{key}: expected true or false, got {value!r}")


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """For strategies that take no options."""
