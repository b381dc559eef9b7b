"""Reading a file the config names without ever reading more than it may hold.

    data = read_capped(path, 16 << 10, "configs/x.yaml: cannot read config", "... larger than 16384 bytes")
"""
from __future__ import annotations

from pathlib import Path

from bench.config.errors import ConfigError


def read_capped(path: Path, limit: int, cannot_read: str, too_large: str) -> bytes:
    """The file's bytes, reading at most limit + 1 of them; a ConfigError `cannot_read (reason)` when it
    cannot be read, `too_large` when it holds more than `limit` bytes."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"{cannot_read} ({exc.strerror})") from None
    if len(data) > limit:
        raise ConfigError(too_large)
    return data
