"""Validation shared by the config sections, and the building of a strategy's options from YAML."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from bench.config.errors import ConfigError, shown
from strategies.options import OptionError

# torch.manual_seed takes 64 bits and numpy's default_rng any non-negative int; below 2**63 a seed
# means the same to torch whether read as a signed or an unsigned 64-bit integer. 2**70 overflows.
SEED_LIMIT = 2 ** 63
SHOWN_OPTION_ERROR = 200  # an option's message names the option first, so cutting it keeps the key


def check_keys(section: str, given: dict, allowed: Iterable[str]) -> None:
    """Reject unknown keys, naming the key and the allowed ones."""
    allowed = list(allowed)
    for key in given:
        if key not in allowed:
            raise ConfigError(f"{section}: unknown key {shown(key)}; allowed: {', '.join(allowed) or '(none)'}")


def check_int(key: str, value: Any, minimum: int, maximum: int | None = None) -> None:
    """An integer (not a bool) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        want = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConfigError(f"{key}: expected {want}, got {shown(value)}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{key}: {value} is above the limit of {maximum}")


def check_seed(key: str, value: Any) -> None:
    """A seed torch and numpy both accept."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < SEED_LIMIT:
        raise ConfigError(f"{key}: expected an integer in [0, 2**63), got {shown(value)}; "
                          "torch.manual_seed takes a 64-bit seed")


def check_choice(key: str, value: Any, allowed: Iterable[str], what: str) -> None:
    """One of the allowed strings; a list or number is refused without being hashed."""
    allowed = list(allowed)  # a list compares; a dict's keys would hash, and a YAML list is unhashable
    if value not in allowed:
        raise ConfigError(f"{key}: unknown {what} {shown(value)}; allowed: {', '.join(allowed)}")


def check_path_text(key: str, value: Any) -> None:
    """A non-empty string the operating system accepts in a path (no NUL byte)."""
    if not isinstance(value, str) or not value or "\0" in value:
        raise ConfigError(f"{key}: expected a path (a non-empty string without NUL bytes), got {shown(value)}")


def build_options(options_type: type, given: Any, section: str) -> Any:
    """Build a strategy's frozen options dataclass from a YAML mapping."""
    if not isinstance(given, dict):
        raise ConfigError(f"{section}: expected a mapping, got {shown(given)}")
    check_keys(section, given, [f.name for f in dataclasses.fields(options_type)])
    try:
        return options_type(**given)
    except OptionError as exc:
        message = str(exc)
        if len(message) > SHOWN_OPTION_ERROR:
            message = message[:SHOWN_OPTION_ERROR - 3] + "..."
        raise ConfigError(f"{section}.{message}") from None
