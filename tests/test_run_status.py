"""A run tells the truth: a failed strategy, baseline or report -> status "failed", exit 1, the reason last."""
from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from bench import cli
from bench.running import runner
from bench.running.run_status import run_failure
from tests.conftest import tiny_raw

CRASH = "import sys; sys.stdin.read(); print('worker crashed on purpose', file=sys.stderr); sys.exit(3)"


def point(strategy, n, status, note=""):
    return {"strategy": strategy, "prompt_len": n, "status": status, "note": note}


def test_every_point_of_a_strategy_failed():
    data = {"strategies": {"baseline": {"status": "ok"}, "jit-only": {"status": "ok"}},
            "points": [point("baseline", 8, "ok"), point("jit-only", 8, "error", "OverflowError: seed"),
                       point("jit-only", 24, "error", "OverflowError: seed")]}
    assert run_failure(data) == "jit-only failed at every length: OverflowError: seed"


def test_one_failed_baseline_point_fails_the_run_one_failed_other_point_does_not():
    data = {"strategies": {"baseline": {"status": "ok"}, "jit-only": {"status": "ok"}},
            "points": [point("baseline", 8, "ok"), point("baseline", 24, "error", "OOM"),
                       point("jit-only", 8, "ok"), point("jit-only", 24, "error", "OOM")]}
    assert run_failure(data) == "baseline failed at length 24 (no reference there): OOM"


def test_skipped_strategies_and_ok_runs_are_complete():
    data = {"strategies": {"baseline": {"status": "ok"}, "cuda-graph": {"status": "skipped"}},
            "points": [point("baseline", 8, "ok"), point("cuda-graph", 8, "skipped", "needs CUDA")]}
    assert run_failure(data) is None


def test_a_crashed_worker_fails_the_run():
    data = {"strategies": {"baseline": {"status": "error", "note": "worker exited with code -9"}},
            "points": [point("baseline", 8, "ok")]}
    assert run_failure(data) == "baseline stopped: worker exited with code -9"


def load_data(runs, levels):
    return {"strategies": {"baseline": {"status": "ok"}}, "points": [point("baseline", 8, "ok")],
            "load": {"format_version": 1, "runs": runs, "levels": levels}}


def level(strategy, mode, value, correct, status="ok", note=""):
    return {"strategy": strategy, "batching": "batch16", "mode": mode, "level": value, "status": status,
            "planned": 10, "correct": correct, "note": note}


def test_a_load_level_that_disagreed_fails_the_run_a_saturated_one_does_not():
    runs = [{"strategy": "jit+cuda", "batching": "batch16", "status": "ok"}]
    ok = [level("jit+cuda", "concurrency", 1.0, True), level("jit+cuda", "rate", 400.0, True, "saturated")]
    assert run_failure(load_data(runs, ok)) is None
    wrong = ok + [level("jit+cuda", "concurrency", 8.0, False, note="request 3: token 5 != baseline's 4"),
                  level("jit+cuda", "concurrency", 16.0, False)]
    assert run_failure(load_data(runs, wrong)) == ("jit+cuda under load (batch16) disagreed with the baseline at "
                                                    "concurrency 8, concurrency 16: request 3: token 5 != baseline's 4")


def test_a_load_run_that_did_not_finish_fails_the_run():
    for status in ("running", "error"):
        runs = [{"strategy": "baseline", "batching": "batch16", "status": status, "note": "server exited"}]
        assert run_failure(load_data(runs, [])) == "baseline under load (batch16) did not finish: server exited"
    runs = [{"strategy": "cuda-graph", "batching": "batch16", "status": "skipped", "note": "needs CUDA"}]
    assert run_failure(load_data(runs, [])) is None


def run_cli(tmp_path, capsys) -> tuple[int, list[str], dict, str]:
    """`run` of the tiny config in-process: its exit code, stderr's lines, run.json and stdout."""
    config = tmp_path / "tiny.yaml"
    config.write_text(json.dumps(tiny_raw()))
    code = cli.main(["run", str(config), "--out", str(tmp_path / "out")])  # conftest restores pytest's handlers
    out, err = capsys.readouterr()
    return code, err.strip().splitlines(), json.loads((tmp_path / "out" / "run.json").read_text()), out


def test_a_run_whose_baseline_failed_exits_1_with_the_reason_last(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "WORKER_COMMAND", [sys.executable, "-c", CRASH])
    code, err, run, out = run_cli(tmp_path, capsys)
    assert code == cli.EXIT_FAILED and run["status"] == "failed"
    assert err[-1].startswith("error: run failed: baseline stopped: worker exited with code 3")
    assert "worker crashed on purpose" in run["failure"]


@pytest.mark.slow
def test_a_failed_report_fails_the_run(tmp_path, capsys, monkeypatch):
    def broken(_):
        raise ValueError("samples.csv: line 7: the last row is incomplete")

    monkeypatch.setattr(runner, "write_report", broken)
    code, err, run, out = run_cli(tmp_path, capsys)
    assert code == cli.EXIT_FAILED and run["status"] == "failed"
    assert err[-1] == "error: run failed: the report failed: ValueError: samples.csv: line 7: the last row is incomplete"


@pytest.mark.slow
def test_a_good_run_is_complete_and_exits_0(tmp_path, capsys):
    code, err, run, out = run_cli(tmp_path, capsys)
    assert code == 0 and run["status"] == "complete" and "failure" not in run


REPORT_FILES = ("summary.csv", "summary.json", "table.md", "plots/ttft.png")


def signal_first(monkeypatch, module, name: str, sig: int) -> None:
    """module.name sends `sig` to this process, then does its job."""
    real = getattr(module, name)

    def signalled(*args, **kwargs):
        os.kill(os.getpid(), sig)  # its handler runs before kill returns to Python
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, signalled)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("where", ["the report", "the verdict"])
def test_a_signal_after_the_last_measurement_waits_for_the_report_and_verdict(tmp_path, capsys, monkeypatch,
                                                                              fake_sweeps, sig, where):
    # the fuzz's SIGTERM just after run.json said complete: exit 130 "interrupted", no summary, table or plots
    module, name = (runner, "write_report") if where == "the report" else (cli, "print_summary")
    signal_first(monkeypatch, module, name, sig)
    code, err, run, out = run_cli(tmp_path, capsys)
    assert code == 0 and run["status"] == "complete", err
    assert all((tmp_path / "out" / f).exists() for f in REPORT_FILES)
    assert err[-1] == (f"note: {sig.name} came after the last measurement: the run's status, report and verdict "
                       f"were written first")
    assert f"results: {tmp_path / 'out'}/" in out  # the verdict, whole


def test_a_second_signal_while_an_interrupted_run_writes_its_report_waits_too(tmp_path, capsys, monkeypatch,
                                                                               fake_sweeps):
    fake_sweeps.interrupt.add("baseline")  # Ctrl-C during the sweep
    signal_first(monkeypatch, runner, "write_report", signal.SIGTERM)  # then `timeout`'s SIGTERM
    code, err, run, out = run_cli(tmp_path, capsys)
    assert code == cli.EXIT_INTERRUPTED and run["status"] == "interrupted"
    assert all((tmp_path / "out" / f).exists() for f in ("summary.csv", "summary.json", "table.md"))
    assert err[-1].startswith("interrupted: what was measured is kept in")
