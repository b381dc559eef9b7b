"""The one error type of bad user input: a config, a command-line flag, a results file."""
from __future__ import annotations

from typing import Any

SHOWN_CHARS = 80  # enough to recognise a value on one terminal line; a huge list or string is cut, not printed


class ConfigError(ValueError):
    """A problem in the user's input, phrased as one line that names the key, the value and what is allowed."""


def shown(value: Any) -> str:
    """The value's repr for an error message, cut to SHOWN_CHARS characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 3] + "..."
