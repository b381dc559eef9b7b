"""What every process the harness starts does first, before torch or transformers load.

    if __name__ == "__main__":      # at the top of an entry point: the worker, `python -m bench`
        from bench.processes.startup import start_process
        start_process()

(a) Arm the parent-death signal: a worker's imports take seconds (10.9 s on a warm disk on the H200
machine), and a runner killed during them must not leave the worker importing on its own.
(b) Hide packages the harness never uses but transformers imports whenever they are installed.
Only entry points call this: importing bench as a library changes nothing in the user's process.
"""
from __future__ import annotations

import sys

from bench.processes.lifetime import die_with_parent

# Installed packages that transformers imports at its own import and the harness never calls.
# sklearn: transformers.generation.candidate_generator runs `from sklearn.metrics import roc_curve` when
# scikit-learn is present (for assisted generation, which no strategy uses): 1.95 s of the worker's
# 10.9 s warm imports on the H200 machine (python -X importtime, torch 2.11, transformers 5.17).
UNUSED_PACKAGES = ("sklearn",)


def block_unused_packages() -> None:
    """Make every package of UNUSED_PACKAGES look absent to transformers. sys.modules[name] = None is Python's
    documented way to block an import: importlib.util.find_spec(name), transformers' test of presence, then
    returns None, and `import name` raises ImportError."""
    for name in UNUSED_PACKAGES:
        sys.modules.setdefault(name, None)  # imported already (a sitecustomize did): blocking it now would break it


def start_process() -> None:
    """The first step of an entry point: die with the parent that started us, then block unused packages."""
    die_with_parent()
    block_unused_packages()
