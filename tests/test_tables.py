"""table.md: the run's stability verdict at the top, and on a CPU run only what applies (no GPU
memory sentence, no driver)."""
from __future__ import annotations

from bench.reporting.report import load_summary
from bench.reporting.tables import report_markdown


def test_the_stability_verdict_opens_table_md(run_dir):
    lines = (run_dir / "table.md").read_text().splitlines()
    assert lines[0] == "# r"
    assert lines[2].startswith("**Stability:** 1 of 3 points unstable (std >= 10% of the mean, or min/max >= 50% "
                               "away from it): jit-only @ 10 (")


def test_a_cpu_run_says_no_gpu_memory_was_measured_and_names_no_driver(run_dir):
    table = (run_dir / "table.md").read_text()
    assert "No GPU memory is measured on a CPU run." in table
    assert "peak allocated GPU memory" not in table and ", driver" not in table  # "driver=new" is a tag


def test_a_gpu_run_keeps_its_memory_sentence_and_driver(run_dir):
    run, df = load_summary(run_dir)
    run["environment"]["driver"] = "580.159.04"
    table = report_markdown(run, df.assign(mem_peak_gb=13.5))
    assert "Memory is peak allocated GPU memory during the length's measurement." in table
    assert "Test CPU, driver 580.159.04, torch" in table
