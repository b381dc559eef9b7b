"""The one error type of bad user input: a config, a command-line flag, a results file."""
from __future__ import annotations


class ConfigError(ValueError):
    """A problem in the user's input, phrased as one line that names the key, the value and what is allowed."""
