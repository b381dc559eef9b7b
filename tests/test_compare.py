"""compare: ratio of medians with a bootstrap interval, verdicts, environment differences, exit codes."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.reporting.compare import compare_markdown, compare_runs, differences, load_run_samples
from bench.reporting.records import PointRecord
from bench.reporting.results_io import RunRecord
from bench.reporting.stats import ratio_of_medians

REPO = Path(__file__).resolve().parent.parent
ENV = {"gpu": "NVIDIA H100", "driver": "580", "torch": "2.11", "transformers": "5.17", "git_commit": "abc"}
N = 300  # the committed H100 runs' timed requests per point


def lognormal_ms(seed: int, scale: float = 1.0, n: int = N) -> np.ndarray:
    # host-bound TTFT: right-skewed, ~10% spread around 10 ms
    return 10.0 * scale * np.random.default_rng(seed).lognormal(0.0, 0.1, n)


def write_run(folder: Path, samples_ms: dict[tuple[str, int], np.ndarray], env: dict | None = None,
              config: dict | None = None) -> Path:
    record = RunRecord.start(folder, folder.name, config or {"name": folder.name, "model": {"preset": "tiny"}},
                             {**ENV, **(env or {})})
    for (strategy, n), ms in samples_ms.items():
        record.add_point(strategy, PointRecord(prompt_len=n, status="ok",
                                               samples_ns=tuple(int(v * 1e6) for v in ms)))
    record.finish("complete")
    return folder


def test_a_known_ten_percent_slowdown_is_called_slower_with_an_interval_excluding_one(tmp_path):
    a = write_run(tmp_path / "a", {("baseline", 10): lognormal_ms(1)})
    b = write_run(tmp_path / "b", {("baseline", 10): lognormal_ms(2, scale=1.10)})
    row = compare_runs([load_run_samples(a), load_run_samples(b)]).iloc[0]
    assert row.verdict == "slower"
    assert 1 < row.ci_low < row.ratio < row.ci_high
    assert row.ratio == pytest.approx(1.10, abs=0.03)


def test_a_faster_run_is_called_faster():
    est = ratio_of_medians(lognormal_ms(1), lognormal_ms(2, scale=0.9))
    assert est.verdict == "faster" and est.high < 1


def test_one_distribution_is_no_difference_in_at_least_95_of_100_seeded_trials():
    calls = [ratio_of_medians(lognormal_ms(2 * t), lognormal_ms(2 * t + 1)).verdict for t in range(100)]
    assert calls.count("no significant difference") >= 95


def test_the_interval_is_seeded_and_narrows_with_the_level():
    a, b = lognormal_ms(1), lognormal_ms(2)
    assert ratio_of_medians(a, b) == ratio_of_medians(a, b)
    wide, narrow = ratio_of_medians(a, b, level=0.99), ratio_of_medians(a, b, level=0.5)
    assert wide.low < narrow.low <= narrow.high < wide.high


def test_environment_and_config_differences_are_listed(tmp_path):
    a = write_run(tmp_path / "a", {("baseline", 10): lognormal_ms(1)},
                  config={"name": "a", "strategies": [{"name": "jit+cuda", "options": {"max_graphs": 50}}]})
    b = write_run(tmp_path / "b", {("baseline", 10): lognormal_ms(2)}, env={"driver": "590", "torch": "2.12"},
                  config={"name": "a", "strategies": [{"name": "jit+cuda", "options": {"max_graphs": 8}}]})
    diffs = dict(differences([load_run_samples(a), load_run_samples(b)]))
    assert diffs == {"driver": ["580", "590"], "torch": ["2.11", "2.12"],
                     "config.strategies.jit+cuda.options.max_graphs": [50, 8]}


@pytest.fixture
def slower_pair(tmp_path):
    a = write_run(tmp_path / "a", {("baseline", 10): lognormal_ms(1), ("jit+cuda", 10): lognormal_ms(3)})
    b = write_run(tmp_path / "b", {("baseline", 10): lognormal_ms(2, scale=1.10), ("jit+cuda", 10): lognormal_ms(4)},
                  env={"driver": "590"})
    return a, b


def test_fail_if_slower_exits_one_only_beyond_the_threshold(slower_pair, capsys):
    a, b = map(str, slower_pair)
    assert main(["compare", a, b]) == 0
    assert main(["compare", a, b, "--fail-if-slower", "5"]) == 1
    assert "regression: " in capsys.readouterr().err
    assert main(["compare", a, b, "--fail-if-slower", "20"]) == 0  # slower, but by less than 20%
    assert main(["compare", a, a, "--fail-if-slower", "0"]) == 0  # no difference is never a failure


def test_compare_prints_differences_first_and_writes_its_files(slower_pair, tmp_path, capsys):
    a, b = map(str, slower_pair)
    assert main(["compare", a, b, "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert out.index("| driver | 580 | 590 |") < out.index("| baseline | 10 |")
    assert "2,000 resamples" in out
    csv = (tmp_path / "cmp" / "compare.csv").read_text().splitlines()
    assert csv[0].startswith("reference,run,strategy,prompt_len") and len(csv) == 3
    assert (tmp_path / "cmp" / "compare.png").stat().st_size > 0


def test_a_missing_run_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope"), str(tmp_path / "nope2")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_compare_imports_neither_torch_nor_strategies(slower_pair):
    code = ("import runpy, sys; sys.argv = ['bench', 'compare', sys.argv[1], sys.argv[2]]\n"
            "try:\n    runpy.run_module('bench', run_name='__main__')\nexcept SystemExit as exc:\n"
            "    assert not exc.code, exc.code\n"
            "loaded = [m for m in ('torch', 'transformers') if m in sys.modules]\nassert not loaded, loaded\n"
            "assert not [m for m in sys.modules if m.startswith('strategies')], 'imports strategies'")
    subprocess.run([sys.executable, "-c", code, *map(str, slower_pair)], cwd=REPO, check=True, timeout=120,
                   capture_output=True)


def test_what_drifts_between_runs_is_listed_before_what_they_ran_on(tmp_path):
    a = write_run(tmp_path / "a", {("baseline", 10): lognormal_ms(1)},
                  env={"load_start": [3.1, 4.0, 5.25], "device": {"device": "cpu", "torch_threads": 2}})
    b = write_run(tmp_path / "b", {("baseline", 10): lognormal_ms(2)},
                  env={"load_start": [9.0, 8.5, 7.0], "driver": "590", "device": {"device": "cpu", "torch_threads": 1}})
    runs = [load_run_samples(a), load_run_samples(b)]
    assert [key for key, _ in differences(runs)] == ["load_start", "device.torch_threads", "driver", "config.name"]
    text = compare_markdown(runs, compare_runs(runs), 0.95)
    assert "| load_start | 3.1, 4, 5.25 | 9, 8.5, 7 |" in text


# Two runs of configs/default.yaml with the same code, one after the other on the loaded 2-core machine
# (load average 14-16; tests/data/noise/README.md): a, b with torch's default 2 threads, as `make bench` runs;
# a1, b1 with OMP_NUM_THREADS=1. Samples as recorded; the skipped strategies' records left out.
RECORDED = REPO / "tests" / "data" / "noise"
SAME_CODE_PAIRS = [("a", "b"), ("a1", "b1")]


def recorded_pair(first: str, second: str, slower: str | None = None) -> pd.DataFrame:
    """compare_runs of two recorded runs; `slower`: that strategy's samples of the second run made 20% slower."""
    runs = [load_run_samples(RECORDED / first), load_run_samples(RECORDED / second)]
    if slower:
        runs[1] = dataclasses.replace(runs[1], samples={
            key: dataclasses.replace(point, ms=point.ms * 1.2) if key[0] == slower else point
            for key, point in runs[1].samples.items()})
    return compare_runs(runs)


@pytest.mark.parametrize("pair", SAME_CODE_PAIRS)
def test_two_runs_of_the_same_code_read_no_difference_at_8_of_9_points_of_every_strategy(pair):
    df = recorded_pair(*pair)
    assert set(df.strategy) == {"baseline", "jit-only"} and len(df) == 18
    for strategy, points in df.groupby("strategy"):
        assert (points.verdict == "no significant difference").sum() >= 8, points.to_string()


@pytest.mark.parametrize("strategy", ["baseline", "jit-only"])
def test_a_twenty_percent_slowdown_is_found_where_one_thread_keeps_the_noise_low(strategy):
    # the power the intervals keep on this machine's noise: 4 (baseline) and 3 (jit-only) of 9 lengths today; an
    # interval that grew without bound would still pass the same-code test above, not this one
    df = recorded_pair("a1", "b1", slower=strategy)
    assert (df[df.strategy == strategy].verdict == "slower").sum() >= 3


@pytest.mark.xfail(strict=True, reason="the target cannot hold on this machine's noise: the same code's medians "
                   "moved x0.80-x3.00 between a1 and b1 (x0.32-x1.40 between a and b), more than a 20% slowdown")
@pytest.mark.parametrize("pair", SAME_CODE_PAIRS)
def test_a_twenty_percent_slowdown_is_found_at_every_length(pair):
    for strategy in ("baseline", "jit-only"):
        df = recorded_pair(*pair, slower=strategy)
        assert (df[df.strategy == strategy].verdict == "slower").all()


def test_runs_measured_in_one_round_are_named_as_such(tmp_path):
    a = write_run(tmp_path / "a", {("baseline", 10): lognormal_ms(1)})  # written without rounds: one
    runs = [load_run_samples(a), load_run_samples(RECORDED / "a")]
    text = compare_markdown(runs, compare_runs(runs), 0.95)
    assert f"Measured in one round: `{a}`;" in text  # the recorded run has ten
