"""Validation shared by the config sections, and the building of a strategy's options from YAML."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from bench.config.errors import ConfigError
from strategies.options import OptionError


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
    except OptionError as exc:
        raise ConfigError(f"{section}.{exc}") from None
