"""What this copy of ttft-bench is: its package version and the git commit it runs from. Torch-free,
so `--version` answers at once; the environment stored with every run takes its commit from here."""
from __future__ import annotations

import hashlib
import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DIST_NAME = "ttft-bench"
COMMAND_TIMEOUT_S = 10  # git answers in milliseconds; a hung network file system must not hang a run
SHORT_COMMIT = 10  # hex digits of a commit that name it unambiguously in a repository this size


def command_output(args: list[str], cwd: str | None = None) -> bytes | None:
    """A command's stdout as bytes, or None if it could not run or failed."""
    try:
        out = subprocess.run(args, capture_output=True, timeout=COMMAND_TIMEOUT_S, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def run_command(args: list[str], cwd: str | None = None) -> str | None:
    """A command's stripped stdout as text (bytes not UTF-8 replaced), or None if it could not run or failed."""
    out = command_output(args, cwd)
    return None if out is None else out.decode(errors="replace").strip()


def git_state() -> dict:
    """The commit measured. A copy of the tree made elsewhere (a remote GPU box, whose .git may
    be missing or stale) is told it through TTFT_BENCH_GIT_COMMIT / TTFT_BENCH_GIT_DIRTY, set
    where the copy was made; they win over what git says in the copy (which then has no digest of its
    changes)."""
    if os.environ.get("TTFT_BENCH_GIT_COMMIT"):
        return {"git_commit": os.environ["TTFT_BENCH_GIT_COMMIT"],
                "git_dirty": os.environ.get("TTFT_BENCH_GIT_DIRTY") == "1", "git_diff_sha256": None}
    return git_checkout_state(REPO)


def git_checkout_state(repo: Path) -> dict:
    """The commit of the checkout at `repo`, whether it has uncommitted changes to tracked files, and a
    digest of those changes (None where there are none), so a resume can tell one edit from another."""
    commit = run_command(["git", "rev-parse", "HEAD"], cwd=str(repo))
    # results/ is what runs write, not what they measure: it does not make the code dirty
    status = run_command(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"],
                         cwd=str(repo))
    # bytes, not text: an edited file need not be UTF-8
    diff = (command_output(["git", "diff", "HEAD", "--binary", "--", ".", ":!results"], cwd=str(repo))
            if status else None)
    return {"git_commit": commit, "git_dirty": bool(status) if status is not None else None,
            "git_diff_sha256": hashlib.sha256(diff).hexdigest() if diff else None}


def package_version() -> str:
    """The version in this tree's pyproject.toml (a clone run in place), else the installed package's."""
    try:
        found = re.search(r'^version\s*=\s*"([^"]+)"', (REPO / "pyproject.toml").read_text(), re.MULTILINE)
    except OSError:
        found = None
    if found:
        return found.group(1)
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:
        return "unknown"


def version_line() -> str:
    """'ttft-bench 0.1.0 (commit 1234abcd56, uncommitted changes)', the commit where git knows it."""
    state = git_state()
    commit = state["git_commit"]
    if not commit:
        return f"{DIST_NAME} {package_version()} (commit unknown: not a git checkout)"
    dirty = ", uncommitted changes" if state["git_dirty"] else ""
    return f"{DIST_NAME} {package_version()} (commit {commit[:SHORT_COMMIT]}{dirty})"
