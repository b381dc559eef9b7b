"""No orphans: the processes a run starts die with their parent, and their temp folders go too.

A child started with child_env() calls die_with_parent() first thing: Linux's parent-death
signal (prctl PR_SET_PDEATHSIG) kills it when the process that started it dies, even by SIGKILL.
Temp folders are named ttft-bench-<kind>-<owner pid>-...; a folder whose owner died without
removing it (SIGKILL leaves no chance) is removed by clean_stale() at the next start.
"""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

PARENT_ENV = "TTFT_BENCH_PARENT_PID"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
TEMP_PREFIX = "ttft-bench-"
TEMP_NAME = re.compile(r"ttft-bench-[a-z]+-(\d+)-")


def child_env(env: dict | None = None) -> dict:
    """The environment of a child that must die with this process."""
    return {**(os.environ if env is None else env), PARENT_ENV: str(os.getpid())}


def die_with_parent() -> None:
    """In a child started with child_env(): die by SIGKILL when that parent dies. A no-op when started by
    hand (no parent named) or off Linux."""
    parent = os.environ.get(PARENT_ENV)
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != int(parent):  # it died before the signal was armed
        os._exit(1)


def temp_folder(kind: str) -> tempfile.TemporaryDirectory:
    """A private temp folder named for this process, so a later run can tell when it is stale."""
    return tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{kind}-{os.getpid()}-")


def pid_alive(pid: int) -> bool:
    """Whether a process runs under this pid (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:  # an orphan's zombie waits for an init that may never reap it (containers)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def clean_stale(root: str | None = None) -> list[Path]:
    """Remove this user's ttft-bench temp folders whose owner process is dead; returns them."""
    removed = []
    for path in Path(root or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        match = TEMP_NAME.match(path.name)
        try:
            mine = path.is_dir() and not path.is_symlink() and path.stat().st_uid == os.getuid()
        except OSError:
            continue
        if match and mine and not pid_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
