"""A Unix socket only its owner can use: mode 0600, in a directory only the owner can enter;
a stale file from a crashed server is replaced, a live server's socket is refused."""
from __future__ import annotations

import errno
import os
import socket
import stat
from pathlib import Path

from bench.serving.limits import BACKLOG

PRIVATE_DIR_MODE = 0o700
SOCKET_MODE = 0o600
# the kernel's sun_path is 108 bytes including the terminating NUL
MAX_PATH_BYTES = 107


class SocketError(Exception):
    """The socket path can't be used; the message says why and what to do."""


def private_dir(folder: Path) -> None:
    """Create `folder` mode 0700, or check an existing one is ours and closed to others."""
    if not folder.exists():
        folder.mkdir(mode=PRIVATE_DIR_MODE, parents=True)
        return
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise SocketError(f"socket directory {folder} must be owned by you with mode 0700 "
                          f"(it is mode {stat.S_IMODE(info.st_mode):o}); use a private directory")


def is_live(path: Path) -> bool:
    """Whether a server accepts connections at `path` (a refused connect means a stale file)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except OSError as exc:
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            return False
        raise
    finally:
        probe.close()


def bind_private(path: Path, backlog: int = BACKLOG) -> socket.socket:
    """A listening socket at `path` queueing up to `backlog` connects, replacing a stale one, refusing a live one."""
    if len(os.fsencode(str(path))) > MAX_PATH_BYTES:
        raise SocketError(f"socket path {path} is longer than {MAX_PATH_BYTES} bytes; use a shorter one")
    private_dir(path.parent)
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise SocketError(f"{path} exists and is not a socket; refusing to replace it")
        if is_live(path):
            raise SocketError(f"socket {path} is held by a live server; stop it or choose another path")
        path.unlink()  # stale: its server died without removing it
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # the socket file is born 0600, with no window at a wider mode
    try:
        server.bind(str(path))
    finally:
        os.umask(old_umask)
    os.chmod(path, SOCKET_MODE)
    server.listen(backlog)
    return server
