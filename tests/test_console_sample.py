"""The README's sample console output is what the CLI's run command prints, through the same function."""
from __future__ import annotations

from pathlib import Path

from tools import console_sample as sample

REPO = Path(__file__).resolve().parent.parent


def test_the_sample_is_what_print_summary_prints(monkeypatch):
    def fake_print_summary(out_dir, df, shown_as):
        print(f"table of {len(df)} rows from {out_dir.name}")
        print(f"results: {shown_as}/   ")
    monkeypatch.setattr(sample, "print_summary", fake_print_summary)
    text = sample.console_sample(REPO / "results" / "default", "runs/default", "make bench")
    assert text.startswith("```console\n$ make bench\n...\ntable of 36 rows from default\nresults: runs/default/\n```\n")
    assert "`results/default/`, measured 2026-" in text and "on 2 CPU cores" in text


def test_the_load_the_run_recorded_is_said():
    assert sample.load_text({"load_start": [0.7, 1.2, 3.0], "load_end": [3.8, 3.4, 3.1]}) == (
        ", load average 0.7 at its start and 3.8 at its end")
    assert sample.load_text({}) == ""  # runs from before the environment held it


def test_the_real_sample_has_no_trailing_blanks_an_editor_would_trim():
    text = sample.console_sample(REPO / "results" / "default", "runs/default", "make bench")
    assert "correctness:" in text and "results: runs/default/" in text
    assert all(line == line.rstrip() for line in text.splitlines())
