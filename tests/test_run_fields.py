"""run.json checked field by field: any value of any type in any field ends in one line naming the file
and the field, never a traceback, in report, report --all and compare (issue 23 rows 13, 14, 15)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.config.errors import ConfigError
from bench.reporting.compare import compare_markdown, compare_runs, load_run_samples
from bench.reporting.plots import plot_title
from bench.reporting.records import PointRecord
from bench.reporting.report import load_summary, summary_json
from bench.reporting.results_io import RunRecord
from bench.reporting.run_fields import ENVIRONMENT_CHANGES, POINT_KINDS, STRATEGY_KINDS
from bench.reporting.tables import report_markdown
from tests.conftest import REPO, RUN_CONFIG, RUN_ENVIRONMENT

# a value of every JSON type, numbers out of range, and the field deleted (MISSING): what a hand edit or
# another tool may leave
MISSING = object()
ODD_VALUES = [MISSING, None, True, -1, 10 ** 30, 1.5, float("nan"), "fast", [], {}]
SHAPE = {"params": 6_738_415_616, "embedding_params": 131_072_000, "lm_head_params": 131_072_000,
         "tied_embeddings": False, "hidden_size": 4096, "layers": 32, "bytes_per_param": 2}
CEILINGS = {"copy_bytes_per_s": 3.0e12, "matmul_flops_per_s": 7.5e14, "dtype": "float16", "tensor_parallel": 2,
            "allreduce_ms": {"8": 0.03, "24": 0.035}, "allreduce_method": "graph"}


def sample(kinds: tuple):
    """A good value of a record field's type."""
    kind = next(k for k in kinds if k is not type(None))
    return {bool: True, int: 3, float: 1.5, str: "x", dict: {}}[kind]


def full_run(folder: Path) -> Path:
    """A finished run whose records set every field, with a device and a tensor-parallel roofline."""
    config = {**RUN_CONFIG, "model": {"preset": "tiny-llama", "dtype": "float32"}, "tags": {"driver": "new"},
              "strategies": [{"name": "baseline"}, {"name": "jit+cuda", "options": {"max_graphs": 8}}]}
    record = RunRecord.start(folder, "full", config,
                             {**RUN_ENVIRONMENT, "gpu": "GPU", "git_commit": "abc", "git_dirty": False})
    record.set_device({"device": "cuda", "device_name": "GPU"})
    record.set_roofline({"model": SHAPE, "ceilings": CEILINGS})
    for name in ("baseline", "jit+cuda"):
        record.set_strategy(name, **{k: sample(kinds) for k, kinds in STRATEGY_KINDS.items()} | {"status": "ok"})
        for n in (8, 24):
            fields = {k: sample(kinds) for k, kinds in POINT_KINDS.items()}
            record.add_point(name, PointRecord(**fields | {"prompt_len": n, "status": "ok",
                                                           "samples_ns": tuple(range(10 ** 6, 10 ** 6 + 5))}))
    record.data[ENVIRONMENT_CHANGES] = [{"resumed": "2026-01-01T00:00:00+00:00", "key": "git_dirty", "old": False,
                                         "new": True}]  # as `run --resume-anyway` records them
    record.finish("complete")
    return folder


def exercise(folder: Path) -> None:
    """What report and compare read of a folder, short of drawing the plots."""
    run, df = load_summary(folder)
    report_markdown(run, df, {})
    summary_json(run, df)
    plot_title(run, df)
    runs = [load_run_samples(folder)] * 2
    compare_markdown(runs, compare_runs(runs), 0.95)


def paths(value, where=()) -> list[tuple]:
    """Every field's path in a JSON value, containers included; of the points and the strategies, the
    first one's (the others have the same fields)."""
    found = [where] if where else []
    if isinstance(value, dict):
        for key, inner in list(value.items())[:1] if where == ("strategies",) else value.items():
            found += paths(inner, where + (key,))
    elif isinstance(value, list) and where != ("resumed",):
        found += paths(value[0], where + (0,)) if value else []
    return found


def report(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", "report", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def set_field(folder: Path, change) -> None:
    data = json.loads((folder / "run.json").read_text())
    change(data)
    (folder / "run.json").write_text(json.dumps(data))


def test_the_full_run_is_read_and_reported(tmp_path):
    exercise(full_run(tmp_path / "run"))


@pytest.mark.slow
def test_any_value_in_any_field_is_read_or_refused_in_one_line_naming_the_field(tmp_path):
    folder = full_run(tmp_path / "run")
    good = json.loads((folder / "run.json").read_text())
    refused = 0
    for path in paths(good):
        for value in ODD_VALUES:
            data = copy.deepcopy(good)
            inner = data
            for key in path[:-1]:
                inner = inner[key]
            if value is MISSING:
                del inner[path[-1]]
            else:
                inner[path[-1]] = value
            (folder / "run.json").write_text(json.dumps(data))
            try:
                exercise(folder)
            except ConfigError as exc:
                refused += 1
                message = str(exc)
                assert "\n" not in message and message.startswith(f"{folder}/"), (path, value, message)
            except Exception as exc:  # any other exception is the bug this test looks for
                pytest.fail(f"{'.'.join(map(str, path))} = {value!r}: {type(exc).__name__}: {exc}")
    assert refused > 250  # most odd values are refused; the rest (a tag, a note's text) are read as they are


CASES = {  # issue 23's cases: the change, then the field the one-line error names
    "a 30-digit cold TTFT": (lambda d: d["points"][0].update(cold_ttft_ms=10 ** 30), "points[0].cold_ttft_ms"),
    "a null strategy record": (lambda d: d["strategies"].update(baseline=None),
                               "strategies.baseline: expected an object"),
    "an int strategy record": (lambda d: d["strategies"].update(baseline=5), "strategies.baseline: expected an object"),
    "prompts_agreed as text": (lambda d: d["points"][0].update(prompts_agreed="8"), "points[0].prompts_agreed"),
    "a note that is a number": (lambda d: d["points"][0].update(note=5), "points[0].note: expected text, got 5"),
    "a roofline of a list": (lambda d: d.update(roofline={"model": SHAPE, "ceilings": []}), "roofline.ceilings"),
    "a zero copy rate": (lambda d: d.update(roofline={"model": SHAPE, "ceilings": {**CEILINGS, "copy_bytes_per_s": 0}}),
                         "roofline.ceilings.copy_bytes_per_s: 0"),
    "ready_s as text": (lambda d: d["strategies"]["baseline"].update(ready_s="fast"),
                        "strategies.baseline.ready_s: expected a number or null (0 to 2**53), got 'fast'"),
    "a weird run status": (lambda d: d.update(status="weird"), "status: 'weird' is not one of"),
    "a weird point status": (lambda d: d["points"][1].update(status="weird"), "points[1].status: 'weird'"),
    "two points of one length": (lambda d: d["points"].append(dict(d["points"][0])),
                                 "points[4]: a second point for baseline @ 8"),
    "an ok point of no samples": (lambda d: d["points"][0].update(samples=0), "points[0].samples: 0 for a point"),
    "measure.rounds as text": (lambda d: d["config"]["measure"].update(rounds="10"),
                               "config.measure.rounds: expected an integer"),
    "zero rounds": (lambda d: d["config"]["measure"].update(rounds=0), "config.measure.rounds: expected a positive"),
    "a load average as text": (lambda d: d["environment"].update(load_end="high"),
                               "environment.load_end: expected a list or null, got 'high'"),
    "torch's threads as text": (lambda d: d["environment"]["device"].update(torch_threads="2"),
                                "environment.device.torch_threads: expected an integer or null"),
}


@pytest.mark.parametrize("case", CASES)
def test_each_case_of_the_issue_is_one_line_naming_the_field(tmp_path, case):
    change, field = CASES[case]
    folder = full_run(tmp_path / "run")
    set_field(folder, change)
    with pytest.raises(ConfigError) as caught:
        exercise(folder)
    assert str(caught.value).startswith(f"{folder / 'run.json'}: ") and field in str(caught.value), str(caught.value)


@pytest.mark.parametrize("text,reason", [("[" * 100_000 + "]" * 100_000, "cannot read run record"),
                                         ('{"format_version": 5.0}', "format_version 5.0;"),
                                         ('{"format_version": true}', "format_version True;")])
def test_an_unreadable_record_is_one_line(tmp_path, text, reason):
    folder = full_run(tmp_path / "run")
    (folder / "run.json").write_text(text)
    with pytest.raises(ConfigError, match=reason):
        exercise(folder)


def test_report_names_the_file_and_field_of_a_text_ready_time(tmp_path):
    folder = full_run(tmp_path / "run")
    set_field(folder, CASES["ready_s as text"][0])
    proc = report(folder)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"error: {folder / 'run.json'}: strategies.baseline.ready_s"), proc.stderr


def test_report_all_tries_every_folder_and_names_each_failure_in_one_line(tmp_path):
    for name in ("a", "b", "c", "d"):
        full_run(tmp_path / name)
    set_field(tmp_path / "a", CASES["a null strategy record"][0])
    set_field(tmp_path / "c", CASES["a note that is a number"][0])
    proc = report("--all", tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert (tmp_path / "b" / "summary.csv").exists() and (tmp_path / "d" / "summary.csv").exists()
    lines = proc.stderr.splitlines()
    assert len(lines) == 3 and lines[2] == "error: 2 of 4 run folders could not be reported", lines
    assert f"{tmp_path / 'a' / 'run.json'}: strategies.baseline" in lines[0]
    assert f"{tmp_path / 'c' / 'run.json'}: points[0].note" in lines[1]


def test_report_all_goes_on_past_a_failure_no_check_foresaw(tmp_path, monkeypatch, capsys):
    from bench.reporting import report as report_module

    for name in ("a", "b"):
        full_run(tmp_path / name)
    real = report_module.write_plots

    def fails_once(df, run, out):
        if run["name"] == "full" and "a" in str(out.parent.name):
            raise TypeError("a bug in a plot")
        return real(df, run, out)

    monkeypatch.setattr(report_module, "write_plots", fails_once)
    summaries, failures = report_module.write_reports([tmp_path / "a", tmp_path / "b"])
    assert failures == [f"{tmp_path / 'a'}: cannot write its report (TypeError: a bug in a plot)"]
    assert list(summaries) == [tmp_path / "b"]
    assert (tmp_path / "b" / "table.md").exists() and "rebuilt" in capsys.readouterr().out
