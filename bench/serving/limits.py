"""What the generator server allows each client: message size, time to send it, connections, backlog.

The command line builds one ServerLimits from its flags (`--max-message`, `--stall-timeout`,
`--max-connections`, `--backlog`); a bad value is refused here, with one line naming the flag,
before the model loads.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bench.config.errors import ConfigError
from bench.serving.protocol import MAX_MESSAGE_BYTES, PREFIX

STALL_TIMEOUT_S = 10.0  # once a message's first byte came, all of it must arrive within this (a local socket moves MBs in ms)
MAX_CONNECTIONS = 256  # a benchmark client holds one; 256 threads and descriptors stay far below the usual 1,024 limit
BACKLOG = 1024  # absorbs a burst of 1,000 connects while the acceptor catches up (Linux caps it at net.core.somaxconn)
LARGEST_PREFIX = (1 << (8 * PREFIX.size)) - 1  # the 4-byte length prefix can't announce more


@dataclass(frozen=True)
class ServerLimits:
    """The server's limits, validated on construction (ConfigError naming the flag)."""
    max_message: int = MAX_MESSAGE_BYTES
    stall_timeout: float = STALL_TIMEOUT_S
    max_connections: int = MAX_CONNECTIONS
    backlog: int = BACKLOG

    def __post_init__(self):
        check_int("--max-message", self.max_message, 1, LARGEST_PREFIX)
        check_int("--max-connections", self.max_connections, 1)
        check_int("--backlog", self.backlog, 1)
        timeout = self.stall_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
                or timeout <= 0:
            raise ConfigError(f"--stall-timeout: must be a positive, finite number of seconds, got {timeout!r}")


def check_int(flag: str, value, low: int, high: int | None = None) -> None:
    """ConfigError unless value is an int in [low, high]."""
    allowed = f"an integer of at least {low}" + ("" if high is None else f" and at most {high}")
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise ConfigError(f"{flag}: must be {allowed}, got {value!r}")
