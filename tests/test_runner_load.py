"""The load scenario end to end on the tiny model, through the command line: every strategy that can serve
runs in a generator server after the sweeps, every answer judged; the report rebuilds the load files from
the raw rows, compare covers them, a resume keeps the finished load runs."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import torch

from bench.cli import main
from tests.conftest import REPO, tiny_raw

pytestmark = pytest.mark.slow  # every test reads one end-to-end load run (run_dir)

LOAD = {"concurrency": [1, 2], "rates": [100], "requests": 20, "warmup": 2, "slo_ttft_ms": 1000}
RAW = tiny_raw(strategies=["baseline", "cuda-graph", {"name": "jit-only", "options": {"forward_jit": "none"}}],
               measure={"warmup": 1, "repeats": 5, "restart": False}, load=LOAD)
PER_LEVEL = 22  # warm-up + requests


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    if torch.cuda.is_available():
        pytest.skip("CUDA machine: cuda-graph serves")
    cfg = tmp_path_factory.mktemp("cfg") / "load.yaml"
    cfg.write_text(json.dumps(RAW))  # JSON is YAML
    out = tmp_path_factory.mktemp("run") / "load"
    proc = subprocess.run([sys.executable, "-m", "bench", "run", str(cfg), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_each_strategy_that_serves_ran_every_level_and_agreed(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    assert run["status"] == "complete"
    runs = {r["strategy"]: r for r in run["load"]["runs"]}
    assert runs["baseline"]["status"] == runs["jit-only"]["status"] == "ok" and runs["jit-only"]["ready_s"] > 0
    assert runs["cuda-graph"]["status"] == "skipped" and "CUDA" in runs["cuda-graph"]["note"]
    assert runs["jit-only"]["stats"]["requests"] >= 3 * PER_LEVEL  # the server's own count
    rows = pd.read_csv(run_dir / "load_samples.csv")
    counts = rows.groupby(["strategy", "mode", "level"]).size()
    assert counts.to_dict() == {(s, m, lv): PER_LEVEL for s in ("baseline", "jit-only")
                                for m, lv in (("concurrency", 1), ("concurrency", 2), ("rate", 100))}
    assert rows.agreed.all() and rows.ttft_ns.notna().all() and rows.server_ttft_ns.notna().all()
    assert (rows.groupby(["strategy", "mode", "level"]).request.nunique() == PER_LEVEL).all()  # each once


def test_the_summary_plot_and_table_cover_the_load_levels(run_dir):
    df = pd.read_csv(run_dir / "load_summary.csv")
    assert len(df) == 6 and (df.requests == 20).all() and df.correct.all() and not df.saturated.any()
    assert (df.throughput_rps > 0).all() and (df.ttft_p50_ms > 0).all()
    assert (run_dir / "plots" / "load.png").exists()
    table = (run_dir / "table.md").read_text()
    assert "### jit-only, batch1" in table and "Not measured under load: cuda-graph (batch1): skipped" in table
    assert (run_dir / "logs" / "jit-only.load-batch1.log").exists()


def test_report_rebuilds_the_load_files_from_the_raw_rows(run_dir):
    written = {name: (run_dir / name).read_bytes() for name in ("load_summary.csv", "plots/load.png", "table.md")}
    for name in written:
        (run_dir / name).unlink()
    proc = subprocess.run([sys.executable, "-m", "bench", "report", str(run_dir)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name, data in written.items():
        assert (run_dir / name).read_bytes() == data, name


def test_compare_covers_the_load_levels(run_dir, capsys):
    assert main(["compare", str(run_dir), str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "## Under load" in out and "| jit-only | batch1 | rate | 100 |" in out


def test_a_resume_keeps_the_finished_load_runs(run_dir):
    before = (run_dir / "load_samples.csv").read_bytes()
    cfg = run_dir.parent.parent / "again.yaml"
    cfg.write_text(json.dumps(RAW))
    proc = subprocess.run([sys.executable, "-m", "bench", "run", str(cfg), "--out", str(run_dir), "--resume"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run_dir / "load_samples.csv").read_bytes() == before
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
