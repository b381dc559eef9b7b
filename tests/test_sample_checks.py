"""samples.csv checked against run.json, the same way by report, resume and compare: a row deleted,
duplicated over another, relabelled, given a bogus index or an edited time is named by file and row
(issue 23 rows 8, 10, 16), also in a format-4 folder and a run whose config never set measure.repeats."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main
from bench.config.errors import ConfigError
from bench.reporting.report import load_checked
from bench.reporting.results_io import RunRecord, read_resumable
from bench.reporting.sample_checks import samples_digest
from tests.conftest import REPO, RUN_CONFIG, RUN_LENGTHS, make_run

DEFAULT_N = 100  # a config without measure: times 100 requests per point


def edit_rows(folder: Path, change) -> None:
    """Apply change(rows) to samples.csv's rows (header kept)."""
    path = folder / "samples.csv"
    header, *rows = path.read_text().splitlines()
    path.write_text("\r\n".join([header, *change(rows)]) + "\r\n")


def as_format_4(folder: Path) -> None:
    """run.json as the tool wrote it before points counted their rows."""
    data = json.loads((folder / "run.json").read_text())
    data["format_version"] = 4
    for point in data["points"]:
        del point["samples"], point["samples_sha256"]
    (folder / "run.json").write_text(json.dumps(data))


def problem(folder: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_checked(folder)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_rows_written_through_the_record_carry_their_count_and_digest(tmp_path):
    make_run(tmp_path)
    point = json.loads((tmp_path / "run.json").read_text())["points"][0]
    assert point["samples"] == 5
    assert point["samples_sha256"] == samples_digest([["baseline", 8, i, 1000 + i, ""] for i in range(5)])
    run, samples = load_checked(tmp_path)
    assert len(samples) == 20 and samples.ttft_ns.dtype == "int64"


@pytest.mark.parametrize("older", [False, True], ids=["format 5", "format 4"])
def test_a_deleted_row_is_named_where_the_config_never_set_repeats(tmp_path, older):
    make_run(tmp_path, config={"name": "tiny"}, samples_ns=range(1000, 1000 + DEFAULT_N))
    if older:
        as_format_4(tmp_path)
    edit_rows(tmp_path, lambda rows: rows[:3] + rows[4:])
    expected = f"samples.csv: baseline @ 8 has {DEFAULT_N - 1} sample rows, expected {DEFAULT_N}"
    assert problem(tmp_path).endswith(expected)
    proc = subprocess.run([sys.executable, "-m", "bench", "report", str(tmp_path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "expected 100" in proc.stderr, proc.stderr


EDITS = {
    "a bogus time": (lambda rows: [rows[0].replace(",1000,", ",99999999999999999,")] + rows[1:],
                     "line 2: ttft_ns 99999999999999999 is not a plausible time in ns (1 ns to a day)"),
    "a zero time": (lambda rows: [rows[0].replace(",1000,", ",0,")] + rows[1:], "line 2: ttft_ns 0 is not a plausible"),
    "a plausible time edited": (lambda rows: [rows[0].replace(",1000,", ",1001,")] + rows[1:],
                                "baseline @ 8: the rows are not the ones measured (their digest differs"),
    "a row duplicated over another": (lambda rows: [rows[0], rows[0]] + rows[2:],
                                      "line 3: request 0 of baseline @ 8 repeats line 2"),
    "a bogus request index": (lambda rows: [rows[0].replace("baseline,8,0,", "baseline,8,7,")] + rows[1:],
                              "line 2: request 7 of baseline @ 8 is outside [0, 5)"),
    "a row relabelled to another strategy": (lambda rows: [rows[0].replace("baseline,", "jit-only,")] + rows[1:],
                                             "baseline @ 8 has 4 sample rows, expected 5"),
    "a row of a length without a point": (lambda rows: [rows[0].replace("baseline,8,", "baseline,9,")] + rows[1:],
                                          "line 2: 'baseline' has no point at length 9 in run.json"),
    "two times swapped between strategies": (  # every count and index still right
        lambda rows: [rows[0].replace(",1000,", ",1004,")] + rows[1:14] + [rows[14].replace(",1004,", ",1000,")]
        + rows[15:], "baseline @ 8: the rows are not the ones measured"),
    "a unicode digit": (lambda rows: [rows[0].replace(",1000,", ",²,")] + rows[1:],
                        "line 2: ttft_ns '²' is not a non-negative integer"),
    "a carriage return inside a row": (lambda rows: [rows[0].replace("baseline,8", "base\rline,8")] + rows[1:],
                                       "line 2: not a CSV row (new-line character seen in unquoted field"),
    "a NUL inside a row": (lambda rows: [rows[0].replace("baseline,8", "base\0line,8")] + rows[1:],
                           "line 2: 'base\\x00line' has no point at length 8 in run.json"),
    "a 5,000-digit time": (lambda rows: [rows[0].replace(",1000,", "," + "9" * 5000 + ",")] + rows[1:],
                           "has more than 18 digits"),
    "a round past measure.rounds": (lambda rows: [rows[0].replace(",,0", ",,10")] + rows[1:],
                                    "line 2: baseline @ 8: round 10 is outside [0, 10) (measure.rounds)"),
    "a round edited within range": (lambda rows: [rows[0].replace(",,0", ",,3")] + rows[1:],
                                    "baseline @ 8: the rows are not the ones measured"),
    "a round that is not an integer": (lambda rows: [rows[0].replace(",,0", ",,1.5")] + rows[1:],
                                       "line 2: round '1.5' is not a non-negative integer"),
}


@pytest.mark.parametrize("case", EDITS)
def test_an_edited_row_is_named_by_report_and_compare(tmp_path, case, capsys):
    change, message = EDITS[case]
    make_run(tmp_path / "a")
    make_run(tmp_path / "b")
    edit_rows(tmp_path / "b", change)
    assert message in problem(tmp_path / "b")
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


@pytest.mark.parametrize("case", ["a bogus time", "a plausible time edited", "a row duplicated over another",
                                  "a bogus request index", "a row relabelled to another strategy"])
def test_resume_measures_again_a_strategy_whose_rows_were_edited(tmp_path, case):
    change, message = EDITS[case]
    make_run(tmp_path)
    edit_rows(tmp_path, change)
    _, kept, rejected = RunRecord.reopen(tmp_path, read_resumable(tmp_path, RUN_CONFIG), RUN_LENGTHS)
    assert "baseline" not in kept and message in rejected["baseline"]


@pytest.mark.parametrize("case", ["a deleted row", "a truncated last row", "zero samples"])
def test_compare_refuses_what_report_refuses(tmp_path, case, capsys):
    make_run(tmp_path / "a")
    make_run(tmp_path / "b")
    if case == "a deleted row":
        edit_rows(tmp_path / "b", lambda rows: rows[:-1])
        message = "jit-only @ 24 has 4 sample rows, expected 5"
    elif case == "a truncated last row":
        path = tmp_path / "b" / "samples.csv"
        path.write_bytes(path.read_bytes()[:-4])
        message = "line 21: the last row is incomplete (no newline)"
    else:
        edit_rows(tmp_path / "b", lambda rows: [])
        message = "baseline @ 8 has 0 sample rows, expected 5"
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_a_round_is_checked_against_the_rounds_the_config_set(tmp_path):
    make_run(tmp_path, config={"measure": {"repeats": 5, "rounds": 2}})
    edit_rows(tmp_path, lambda rows: [rows[0].replace(",,0", ",,2")] + rows[1:])
    assert problem(tmp_path).endswith("line 2: baseline @ 8: round 2 is outside [0, 2) (measure.rounds)")


def test_the_digest_covers_each_row_s_round_and_reads_round_0_as_no_round():
    rows = [["baseline", 8, i, 1000 + i, "", i // 2] for i in range(5)]
    assert samples_digest(rows) != samples_digest([row[:5] for row in rows])
    # format 5's digest (request, ttft_ns, server_ttft_ns per line) holds for its rows written again with round 0
    format_5 = hashlib.sha256("".join(f"{i},{1000 + i},\n" for i in range(5)).encode()).hexdigest()
    assert samples_digest([row[:5] + [0] for row in rows]) == samples_digest([row[:5] for row in rows]) == format_5
