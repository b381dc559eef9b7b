"""The README's generated sections: filled between markers from the results, rounded once."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.reporting.readme_tables import claims, fill, ranged, ttft_table

REPO = Path(__file__).resolve().parent.parent


def test_fill_replaces_only_between_markers_and_refuses_an_unknown_name():
    text = "a\n<!-- generated: x -->\nold\n<!-- end generated: x -->\nb\n"
    assert fill(text, {"x": "new"}) == "a\n<!-- generated: x -->\nnew\n<!-- end generated: x -->\nb\n"
    with pytest.raises(ValueError, match="y"):
        fill(text.replace("x", "y"), {"x": "new"})


def test_ranged_rounds_once_from_the_raw_values():
    assert ranged([1.114, 1.2349]) == "1.11-1.23"  # the committed table's max, not a hand-rounded 1.24
    assert ranged([0.004, 0.001], 2, " ms") == "0.00 ms"


def summary(rows):
    return pd.DataFrame(rows, columns=["strategy", "prompt_len", "status", "ttft_p50_ms", "ttft_p99_ms", "floor_ms"])


def test_the_table_and_claims_come_from_the_medians():
    df = summary([["jit+cuda", 10, "ok", 6.0, 6.6, 4.5], ["torch-compile", 10, "ok", 7.2, 7.3, 4.5],
                  ["baseline", 10, "ok", 30.0, 40.0, 4.5],
                  ["jit+cuda", 20, "ok", 8.0, 8.8, 5.0], ["torch-compile", 20, "ok", 8.8, 9.0, 5.0],
                  ["baseline", 20, "ok", 32.0, 40.0, 5.0]])
    table = ttft_table(df)
    assert "| 10 | 4.50 | **6.00** | 0.75 (1.33x) | x1.20 | x5.00 | 7.20 | 30.00 |" in table
    assert "by x1.10-1.20 at the 2 lengths" in claims(df)
    assert "p99 lies 1-10% above" in claims(df)


def test_the_committed_readme_is_current():
    from bench.reporting.readme_tables import sections

    text = (REPO / "README.md").read_text()
    assert fill(text, sections(REPO / "results")) == text, "README.md is stale: run `make readme`"
