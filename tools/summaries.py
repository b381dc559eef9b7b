"""A run folder's record and summary, loaded once per process: several sections of the documents read the same
run, and each load recomputes its bootstrap intervals (seconds for a run of nine lengths)."""
from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from bench.reporting.report import load_summary


@functools.lru_cache(maxsize=None)
def summary(folder: Path) -> tuple[dict, pd.DataFrame]:
    """run.json and the summary of a run folder; callers read them and never change them."""
    return load_summary(folder)
