"""samples.csv and run.json checked: whole-row writes, corrupt files named by file and row, resume's checks."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.config.errors import ConfigError
from bench.reporting.report import load_checked
from bench.reporting.results_io import RunRecord, read_resumable, read_run
from bench.reporting.samples_file import scan_samples
from tests.conftest import REPO, RUN_CONFIG, RUN_LENGTHS, make_run

CONFIG, LENGTHS = RUN_CONFIG, RUN_LENGTHS


def report(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", "report", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def edit_samples(folder: Path, change) -> None:
    path = folder / "samples.csv"
    path.write_bytes(change(path.read_bytes()))


CORRUPTIONS = {
    "a truncated last row": (lambda f: edit_samples(f, lambda b: b[:-4]), "samples.csv: line 21: the last row is incomplete"),
    "a missing header": (lambda f: edit_samples(f, lambda b: b.split(b"\n", 1)[1]), "samples.csv: line 1: header"),
    "a bad value": (lambda f: edit_samples(f, lambda b: b.replace(b",1003,", b",1e3,", 1)),
                    "line 5: ttft_ns '1e3' is not a non-negative integer"),
    "an extra column": (lambda f: edit_samples(f, lambda b: b.replace(b",1003,", b",1003,7,", 1)),
                        "line 5: 7 fields where the header has 6"),
    "a missing row": (lambda f: edit_samples(f, lambda b: b.replace(b"baseline,8,3,1003,,0\r\n", b"")),
                      "baseline @ 8 has 4 sample rows, expected 5"),
    "run.json holding []": (lambda f: (f / "run.json").write_text("[]"), "run.json: expected a JSON object, got list"),
    "run.json without points": (lambda f: (f / "run.json").write_text(json.dumps(
        {k: v for k, v in json.loads((f / "run.json").read_text()).items() if k != "points"})),
                                "run.json: points: missing"),
    "a point without prompt_len": (lambda f: (f / "run.json").write_text(
        (f / "run.json").read_text().replace('"prompt_len": 24', '"prompt_length": 24', 1)),
                                   "run.json: points[1].prompt_len: missing"),
}


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_report_rejects_a_corrupt_file_with_one_line_naming_it(tmp_path, case):
    make_run(tmp_path / "run")
    corrupt, message = CORRUPTIONS[case]
    corrupt(tmp_path / "run")
    proc = report(tmp_path / "run")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_report_all_reports_every_folder_and_fails_if_one_failed(tmp_path):
    for name in ("a", "b", "c"):
        make_run(tmp_path / name)
    edit_samples(tmp_path / "a", lambda b: b[:-4])
    proc = report("--all", tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "rebuilt" in proc.stdout and str(tmp_path / "b") in proc.stdout and str(tmp_path / "c") in proc.stdout
    assert (tmp_path / "c" / "summary.csv").exists() and "a/samples.csv: line 21" in proc.stderr


def test_a_good_folder_reports(tmp_path):
    make_run(tmp_path / "run")
    assert report(tmp_path / "run").returncode == 0


def test_a_point_written_past_a_full_disk_leaves_no_partial_row(tmp_path):
    # RLIMIT_FSIZE stands in for a full disk: a write crossing it is cut short, then fails (EFBIG)
    code = ("import resource, signal, sys; from pathlib import Path\n"
            "from tests.conftest import make_run, RunRecord, PointRecord\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "record = make_run(Path(sys.argv[1]))\n"
            "size = (Path(sys.argv[1]) / 'samples.csv').stat().st_size\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, size + 100))\n"
            "try:\n    record.add_point('baseline', PointRecord(prompt_len=99, status='ok', samples_ns=tuple(range(10**6, 10**6 + 1000))))\n"
            "except OSError as exc:\n    print('refused', exc.strerror)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert "refused File too large" in proc.stdout, proc.stderr
    text = (tmp_path / "samples.csv").read_text()
    assert text.endswith("\n") and text.count("\n") == 1 + 2 * 2 * 5  # the header and the four points before
    assert not scan_samples(tmp_path / "samples.csv").problems
    assert all(p["prompt_len"] != 99 for p in read_run(tmp_path)["points"])


def test_resume_keeps_strategies_whose_samples_check_out_and_names_the_others(tmp_path):
    make_run(tmp_path)
    edit_samples(tmp_path, lambda b: b.replace(b"jit-only,24,4,1004", b"jit-only,24,4,10"))  # hand-edited, still whole
    edit_samples(tmp_path, lambda b: b[:-3])  # jit-only's last row cut short
    record, kept, rejected = RunRecord.reopen(tmp_path, read_resumable(tmp_path, CONFIG), LENGTHS)
    assert kept == {"baseline"} and list(rejected) == ["jit-only"]
    assert "samples.csv: line 21: the last row is incomplete" in rejected["jit-only"]
    rows = (tmp_path / "samples.csv").read_text().splitlines()
    assert len(rows) == 11 and all(r.startswith("baseline,") for r in rows[1:])
    assert {p["strategy"] for p in record.data["points"]} == {"baseline"}


def test_resume_checks_the_row_count_of_every_point_against_n(tmp_path):
    make_run(tmp_path)
    edit_samples(tmp_path, lambda b: b.replace(b"baseline,24,2,1002,,0\r\n", b""))
    _, kept, rejected = RunRecord.reopen(tmp_path, read_resumable(tmp_path, CONFIG), LENGTHS)
    assert kept == {"jit-only"} and "baseline @ 24 has 4 sample rows, expected 5" in rejected["baseline"]


def test_resume_trusts_nothing_in_a_file_without_its_header(tmp_path):
    make_run(tmp_path)
    edit_samples(tmp_path, lambda b: b.split(b"\n", 1)[1])
    _, kept, rejected = RunRecord.reopen(tmp_path, read_resumable(tmp_path, CONFIG), LENGTHS)
    assert kept == set() and set(rejected) == {"baseline", "jit-only"}


def without_rounds(folder: Path, version: int) -> None:
    """The folder as format `version` (2-6) wrote it: no round column; run.json's points keep their digests."""
    edit_samples(folder, lambda b: b.replace(b",round\r\n", b"\r\n").replace(b",,0\r\n", b",\r\n"))
    data = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**data, "format_version": version}))


def test_a_format_5_file_reads_as_one_round_and_a_resume_writes_it_with_round_zero(tmp_path):
    make_run(tmp_path)
    without_rounds(tmp_path, 5)
    assert not scan_samples(tmp_path / "samples.csv").problems
    assert set(load_checked(tmp_path)[1]["round"]) == {0}
    _, kept, _ = RunRecord.reopen(tmp_path, read_resumable(tmp_path, CONFIG), LENGTHS)
    assert kept == {"baseline", "jit-only"}  # their digests hold: round 0 digests as no round
    rows = (tmp_path / "samples.csv").read_text().splitlines()
    assert rows[0].endswith(",server_ttft_ns,round") and "baseline,8,0,1000,,0" in rows
    assert all(row.endswith(",,0") for row in rows[1:])
    assert set(load_checked(tmp_path)[1]["round"]) == {0}


def test_a_format_7_file_without_the_round_column_is_refused(tmp_path):
    make_run(tmp_path)
    without_rounds(tmp_path, 7)
    with pytest.raises(ConfigError, match="line 2: baseline @ 8: no round"):
        load_checked(tmp_path)


def test_a_bad_round_is_named(tmp_path):
    make_run(tmp_path)
    edit_samples(tmp_path, lambda b: b.replace(b"baseline,8,3,1003,,0", b"baseline,8,3,1003,,-1"))
    assert "line 5: round '-1' is not a non-negative integer" in scan_samples(tmp_path / "samples.csv").problems[
        "baseline"]
