"""End to end on the tiny model: samples, summary, environment, skipped and error rows, interruption."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys

import pandas as pd
import pytest
import torch

from bench.config.schema import parse_config
from bench.jobs.build import build_job
from bench.reporting.results_io import FORMAT_VERSION, RunRecord
from bench.reporting.summary import SUMMARY_COLUMNS
from bench.running import runner
from bench.running.worker import run_job
from bench.scenarios.events import PointEvent
from strategies.baseline import Baseline
from strategies.option_types import OPTION_TYPES
from strategies.registry import REGISTRY
from tests.conftest import REPO, tiny_raw, wait_for

LENGTHS = [8, 24]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny"
    raw = tiny_raw(strategies=["baseline", "cuda-graph", {"name": "jit-only", "options": {"forward_jit": "none"}}])
    cfg = tmp_path_factory.mktemp("cfg") / "tiny.yaml"
    cfg.write_text(json.dumps(raw))  # JSON is YAML
    proc = subprocess.run([sys.executable, "-m", "bench", "run", str(cfg), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.mark.slow
def test_samples_are_one_row_per_timed_request(run_dir):
    samples = pd.read_csv(run_dir / "samples.csv")
    assert list(samples.columns) == ["strategy", "prompt_len", "request", "ttft_ns", "server_ttft_ns", "round"]
    assert samples.server_ttft_ns.isna().all()  # in-process: no server
    # 5 requests over the default 10 rounds: one in each of the first five
    assert (samples.groupby(["strategy", "prompt_len"])["round"].apply(list) == [[0, 1, 2, 3, 4]] * 4).all()
    counts = samples.groupby(["strategy", "prompt_len"]).size()
    assert counts.to_dict() == {(s, n): 5 for s in ("baseline", "jit-only") for n in LENGTHS}
    assert (samples.ttft_ns > 0).all()


@pytest.mark.slow
def test_summary_columns_and_rows(run_dir):
    df = pd.read_csv(run_dir / "summary.csv")
    assert list(df.columns) == SUMMARY_COLUMNS
    ok = df[df.status == "ok"]
    assert set(ok.strategy) == {"baseline", "jit-only"} and (ok.n == 5).all()
    assert ok.matches_baseline.all() and (ok.ttft_p50_ms > 0).all()
    assert (df[df.strategy == "baseline"].speedup_vs_baseline == 1.0).all()
    assert (ok.ttft_min_ms <= ok.ttft_p50_ms).all() and (ok.ttft_p50_ms <= ok.ttft_max_ms).all()


@pytest.mark.slow
def test_graph_strategy_is_a_skipped_row_with_the_reason_on_cpu(run_dir):
    if torch.cuda.is_available():
        pytest.skip("CUDA machine: cuda-graph runs")
    df = pd.read_csv(run_dir / "summary.csv")
    skipped = df[df.strategy == "cuda-graph"]
    assert list(skipped.prompt_len) == LENGTHS and (skipped.status == "skipped").all()
    assert skipped.note.str.contains("CUDA").all()


@pytest.mark.slow
def test_run_json_carries_the_environment(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    assert run["format_version"] == FORMAT_VERSION and run["status"] == "complete" and run["finished"]
    env = run["environment"]
    for key in ("python", "torch", "transformers", "cpu", "gpu", "driver", "git_commit", "git_dirty", "device",
                "load_start", "cpu_mhz_start", "gpu_clocks_start"):
        assert key in env
    assert len(env["load_end"]) == 3  # the runner's hook after the last strategy
    assert env["device"]["torch_threads"] >= 1
    assert run["config"]["model"]["preset"] == "tiny-llama"
    assert run["roofline"]["model"]["layers"] == 2 and "ceilings" not in run["roofline"]  # CPU: no ceilings


@pytest.mark.slow
def test_cold_start_ready_time_and_unseen_length(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    for name in ("baseline", "jit-only"):
        s = run["strategies"][name]
        assert s["ready_s"] > 0 and s["unseen_len"] == 16  # between the two lengths, 8 and 24
        assert s["unseen_ttft_ms"] > 0 and s["unseen_matches_baseline"] is True
    assert "## Cold start" in (run_dir / "table.md").read_text()


@pytest.mark.slow
def test_report_regenerates_byte_identical(run_dir, tmp_path):
    # the plots with data (on CPU no memory.png, and prepare.png only where something compiled)
    plots = [f"plots/{p.name}" for p in sorted((run_dir / "plots").glob("*.png"))]
    assert "plots/ttft.png" in plots
    written = {name: (run_dir / name).read_bytes() for name in ["summary.csv", "summary.json", "table.md"] + plots}
    for name in written:
        (run_dir / name).unlink()
    proc = subprocess.run([sys.executable, "-m", "bench", "report", str(run_dir)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name, data in written.items():
        assert (run_dir / name).read_bytes() == data, f"{name} differs after regeneration"


def test_report_and_the_command_line_do_not_import_models():
    # `python -m bench report`, and a config error, answer without loading transformers (seconds)
    code = ("import sys, bench.reporting.report, bench.cli, strategies; "
            "assert 'transformers' not in sys.modules, 'loads transformers'")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


HEAVY = ("torch", "transformers", "strategies.registry", "strategies.base")


@pytest.mark.slow
def test_the_report_path_imports_neither_torch_nor_strategies(run_dir):
    code = ("import runpy, sys; sys.argv = ['bench', 'report', sys.argv[1]]\n"
            "try:\n    runpy.run_module('bench', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n"
            "import bench.reporting.report\n"
            f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "assert not loaded, loaded\n"
            "assert not [m for m in sys.modules if m.startswith('strategies')], 'imports strategies'")
    subprocess.run([sys.executable, "-c", code, str(run_dir)], cwd=REPO, check=True, timeout=120)


def test_parsing_the_serve_flags_imports_no_torch():
    code = ("import sys, bench.cli; bench.cli.parser().parse_args(['serve', '--job', 'j', '--socket', 's'])\n"
            f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\nassert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)


def test_a_strategy_that_raises_at_one_length_gives_an_error_row(monkeypatch, tmp_path):
    class Flaky(Baseline):
        name = "flaky"

        def logits(self, input_ids):
            if len(input_ids) == 24:
                raise RuntimeError("no kernel for 24 tokens")
            return super().logits(input_ids)

    monkeypatch.setitem(REGISTRY, "flaky", Flaky)
    monkeypatch.setitem(OPTION_TYPES, "flaky", Flaky.options_type)
    cfg = parse_config(tiny_raw(strategies=["flaky"]))
    events = []
    run_job(dataclasses.replace(build_job(cfg, "flaky"), run_folder=tmp_path), events.append)
    points = {e.point.prompt_len: e.point for e in events if isinstance(e, PointEvent)}
    assert points[8].status == "ok" and len(points[8].samples_ns) == 5
    assert points[24].status == "error" and "no kernel for 24 tokens" in points[24].note


def test_a_crashed_worker_leaves_error_rows_and_keeps_the_run(monkeypatch, tmp_path):
    crash = "import sys; sys.stdin.read(); print('segfault in kernel', file=sys.stderr); sys.exit(3)"
    monkeypatch.setattr(runner, "WORKER_COMMAND", [sys.executable, "-c", crash])
    cfg = parse_config(tiny_raw())
    record = RunRecord.start(tmp_path, "tiny", cfg.raw, {})
    job = dataclasses.replace(build_job(cfg), run_folder=tmp_path)

    class Progress:
        def update(self, n):
            pass

    runner.run_strategy(job, record, Progress())
    rows = [p for p in record.data["points"] if p["strategy"] == "baseline"]
    assert [p["status"] for p in rows] == ["error", "error"]
    assert "exited with code 3" in rows[0]["note"] and "segfault in kernel" in rows[0]["note"]


# requests per point of the interrupted runs: at ~0.5 ms each on an idle machine a point takes 0.5 s, so the
# signal (sent within the 0.1 s poll of the point it waits for) lands mid-sweep; on a loaded 2-core machine a
# request took 14.6 ms (median, load average 6), so 5000 made the 5 points the resume test waits for 35 minutes
REPEATS = 1000
# the deadline only bounds a run that hangs: a loaded machine took 7 minutes for one point of 5000 requests
POINTS_DEADLINE_S = 600


def points_filed(out) -> int:
    """How many points run.json in `out` holds (0 before it is written whole)."""
    try:
        return len(json.loads((out / "run.json").read_text())["points"])
    except (OSError, ValueError):
        return 0


def strategies_filed(out) -> list[str]:
    """The strategies run.json in `out` has records of (none before it is written whole)."""
    try:
        return list(json.loads((out / "run.json").read_text())["strategies"])
    except (OSError, ValueError):
        return []


def wait_for_points(proc: subprocess.Popen, out, points: int, during: str | None = None) -> None:
    """Wait until the run writing `out` has filed `points` points (and started the strategy `during`); fail,
    saying so, if it ends first or the deadline passes."""
    def reached() -> bool:
        return points_filed(out) >= points and (during is None or during in strategies_filed(out))

    try:
        wait_for(lambda: reached() or proc.poll() is not None, POINTS_DEADLINE_S,
                 lambda: f"point {points}{f' and the strategy {during}' if during else ''} of the run in {out}: "
                         f"run.json holds {points_filed(out)}")
    except AssertionError:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner's group (its own session): nothing outlives the test
        proc.wait()
        raise
    if not reached():
        pytest.fail(f"the run ended (exit {proc.returncode}) before its point {points}, which the test waited for: "
                    f"{proc.communicate()[1][-2000:]}")


def interrupted_run(tmp_path, how: str, after_points: int, during: str | None = None):
    """Start a long tiny sweep, signal it once `after_points` points are in (and the strategy `during` has
    started: a strategy's points arrive together after its last round); (command, out, stderr)."""
    raw = tiny_raw(prompts={"lengths": [8, 16, 24, 32]}, measure={"warmup": 0, "repeats": REPEATS},
                   strategies=["baseline", {"name": "jit-only", "options": {"forward_jit": "none"}}])
    cfg = tmp_path / "long.yaml"
    cfg.write_text(json.dumps(raw))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "bench", "run", str(cfg), "--out", str(out)]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    wait_for_points(proc, out, after_points, during)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does to the terminal's process group
    else:
        os.kill(proc.pid, signal.SIGTERM)  # what `timeout` does: the runner alone; its worker must go too
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    return command, out, err


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_run_keeps_its_earlier_samples(tmp_path, how):
    _, out, err = interrupted_run(tmp_path, how, after_points=1)
    assert "interrupted" in err and "Traceback" not in err
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "interrupted"
    measured = [p for p in run["points"] if p["status"] == "ok"]
    assert measured
    samples = pd.read_csv(out / "samples.csv")
    assert len(samples[(samples.strategy == "baseline") & (samples.prompt_len == 8)]) == REPEATS
    assert (out / "summary.csv").exists() and (out / "table.md").exists()


@pytest.mark.slow
def test_resume_keeps_finished_strategies_and_measures_the_rest(tmp_path):
    command, out, _ = interrupted_run(tmp_path, "sigterm", after_points=4, during="jit-only")  # the baseline's
    before = pd.read_csv(out / "samples.csv")
    proc = subprocess.run(command + ["--resume"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "complete" and len(run["resumed"]) == 1
    assert sorted((p["strategy"], p["prompt_len"]) for p in run["points"]) == sorted(
        (s, n) for s in ("baseline", "jit-only") for n in (8, 16, 24, 32))
    after = pd.read_csv(out / "samples.csv")
    kept = before[before.strategy == "baseline"].reset_index(drop=True)
    pd.testing.assert_frame_equal(after[after.strategy == "baseline"].reset_index(drop=True), kept)
    assert len(after[after.strategy == "jit-only"]) == 4 * REPEATS
    assert pd.read_csv(out / "summary.csv").matches_baseline.all()


@pytest.mark.slow
def test_resume_refuses_a_changed_config(run_dir, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(run_dir, out)  # a finished run serves as well as an interrupted one: the config is checked first
    cfg = tmp_path / "same.yaml"
    cfg.write_text(json.dumps(json.loads((out / "run.json").read_text())["config"]))  # the config it ran
    command = [sys.executable, "-m", "bench", "run", str(cfg), "--out", str(out)]
    proc = subprocess.run(command + ["--resume", "--repeats", "7"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "cannot resume: the config differs" in proc.stderr
    assert "(measure.repeats: 5 -> 7)" in proc.stderr  # that change alone: the written config is the one it ran
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_ipc_transport_reports_client_server_and_overhead(tmp_path):
    raw = tiny_raw(transport="ipc", strategies=["baseline", {"name": "jit-only", "options": {"forward_jit": "none"}}])
    cfg = tmp_path / "ipc.yaml"
    cfg.write_text(json.dumps(raw))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "bench", "run", str(cfg), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    df = pd.read_csv(out / "summary.csv")
    assert (df.status == "ok").all() and df.matches_baseline.all()
    assert (df.server_ttft_p50_ms > 0).all() and (df.server_ttft_p50_ms < df.ttft_p50_ms).all()
    assert (df.ipc_overhead_ms - (df.ttft_p50_ms - df.server_ttft_p50_ms)).abs().max() < 1e-3
    samples = pd.read_csv(out / "samples.csv")
    assert samples.server_ttft_ns.notna().all()
    assert "Two-process mode" in (out / "table.md").read_text()
    assert "server stopped cleanly" in (out / "logs" / "jit-only.log").read_text()
