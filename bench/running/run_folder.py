"""The run folder: one run at a time (a lock naming its holder), and never another run's results
overwritten by accident.

The lock is an flock on `run.lock` in the folder, holding the owner's pid: the kernel drops it
when its process dies however it dies, so a lock left by a dead run is simply taken over.
"""
from __future__ import annotations

import errno
import fcntl
import glob
import os
from pathlib import Path

from bench.config.errors import ConfigError

LOCK_FILE = "run.lock"
LOGS = "logs"


def cannot_write(folder: Path, exc: OSError) -> ConfigError:
    """The one line for a folder the run can't write (read-only, full disk, not a folder)."""
    return ConfigError(f"{exc.filename or folder}: cannot write the run folder ({exc.strerror or exc})")


class RunLock:
    """Held while a run writes its folder; a second run on the folder is refused with the holder's pid."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK_FILE
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ConfigError naming the pid that holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while True:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    os.close(fd)
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EACCES):
                        raise
                    raise ConfigError(f"{self.path.parent}: another run is writing this folder "
                                      f"(pid {holder(self.path)}); wait for it or choose another --out") from None
                if same_file(fd, self.path):  # not a file its last holder unlinked as we opened it
                    break
                os.close(fd)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as exc:
            raise cannot_write(self.path.parent, exc) from None
        self.fd = fd

    def release(self) -> None:
        """Remove the lock file and drop the lock."""
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *_) -> None:
        self.release()


def holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def same_file(fd: int, path: Path) -> bool:
    try:
        here, there = os.fstat(fd), path.stat()
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def refuse_existing(folder: Path, overwrite: bool, resume: bool) -> None:
    """ConfigError if the folder already holds anything besides our lock and neither flag allows it."""
    if overwrite or resume:
        return
    present = sorted(p.name for p in folder.iterdir() if p.name != LOCK_FILE)
    if present:
        raise ConfigError(f"{folder}: already holds {', '.join(present[:5])}; a run never overwrites another: "
                          f"pass --overwrite to replace it, --resume to continue it, or --out another folder")


def remove_logs(folder: Path, strategies) -> None:
    """Remove the log files this tool wrote for `strategies` (sweep, restart, load runs); nothing else in logs/
    is touched."""
    for name in strategies:
        for suffix in ("", ".restart"):
            (folder / LOGS / f"{name}{suffix}.log").unlink(missing_ok=True)
        for path in (folder / LOGS).glob(f"{glob.escape(name)}.load-*.log"):
            path.unlink(missing_ok=True)
