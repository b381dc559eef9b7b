"""Reading a file the user names without ever blocking on it or reading more than it may hold.

    data = read_capped(path, 16 << 10, "configs/x.yaml: cannot read config", "... larger than 16384 bytes")
    with open_regular(path, "results/x/samples.csv: cannot read") as f: ...

Only regular files are read: a FIFO would block the reader until some writer comes (forever, if none
does), a device such as /dev/zero never ends, and a folder is not the file it stands in for.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from bench.config.errors import ConfigError

# what a non-regular file is called in the message, by its stat type
NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def open_regular(path: Path, cannot_read: str) -> BinaryIO:
    """The regular file at `path`, open for binary reading; a ConfigError `cannot_read (reason)` when it
    cannot be opened or is anything else (a FIFO, a device, a folder)."""
    try:
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer before fstat could tell what it is
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        raise ConfigError(f"{cannot_read} ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((name for test, name in NOT_REGULAR if test(mode)), "a special file")
        raise ConfigError(f"{cannot_read} ({kind}, not a regular file)")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_capped(path: Path, limit: int, cannot_read: str, too_large: str) -> bytes:
    """The regular file's bytes, reading at most limit + 1 of them; a ConfigError `cannot_read (reason)`
    when it cannot be read or is not a regular file, `too_large` when it holds more than `limit` bytes."""
    with open_regular(path, cannot_read) as f:
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise ConfigError(f"{cannot_read} ({exc.strerror})") from None
    if len(data) > limit:
        raise ConfigError(too_large)
    return data
