"""load_samples.csv and run.json's load section: a level on disk whole or not at all, rows checked when
read back, and a resume that keeps finished load runs and drops the rest with their rows."""
from __future__ import annotations

import json

import pytest

from bench.reporting import load_io
from bench.reporting.load_io import LOAD_SAMPLES_FILE, add_level, read_load, reopen_load, set_load_run
from bench.reporting.load_records import LoadLevelRecord, LoadRow
from bench.reporting.results_io import RunRecord
from tests.conftest import write_load_run

LEVELS = {("baseline", "batch1", "concurrency", 1): ([5.0, 6.0, 7.0], "ok", 0),
          ("baseline", "batch1", "concurrency", 2): ([8.0, 9.0], "ok", 0),
          ("jit+cuda", "batch1", "concurrency", 1): ([3.0, 4.0], "ok", 0)}


def reread(folder):
    return read_load(folder, json.loads((folder / "run.json").read_text()))


def test_rows_and_levels_read_back_as_written(tmp_path):
    write_load_run(tmp_path / "r", LEVELS)
    section, rows = reread(tmp_path / "r")
    assert len(section["levels"]) == 3 and len(rows) == 3 + 2 + 2 + 3 * 2  # and two warm-up rows a level
    first = rows.iloc[2]
    assert (first.strategy, first["mode"], first.level, first.warmup, first.ttft_ns, first.agreed) == (
        "baseline", "concurrency", 1.0, False, 5_000_000, True)
    unanswered = LoadRow(0, False, 8, 5, 0)
    assert load_io.cell(unanswered.ttft_ns) == "" and load_io.cell(True) == 1


@pytest.mark.parametrize("edit,message", [
    (lambda lines: lines[:-1], "jit+cuda batch1 concurrency 1 has 3 rows, its level sent 4"),  # a row lost
    (lambda lines: lines + [lines[-1]], "has 5 rows, its level sent 4"),  # a row twice
    (lambda lines: lines[:3] + [lines[3].replace(",5000000,", ",5e6,")] + lines[4:], "ttft_ns '5e6' is not an integer"),
    (lambda lines: lines[:3] + [lines[3].rsplit(",", 1)[0] + ",yes"] + lines[4:], "agreed 'yes' is not 0 or 1"),
    (lambda lines: lines[:3] + [lines[3] + ",1"] + lines[4:], "16 fields where the header has 15"),
    (lambda lines: ["strategy,level"] + lines[1:], "line 1: expected the header"),
])
def test_rows_that_do_not_check_out_are_refused_naming_the_file(tmp_path, edit, message):
    folder = tmp_path / "r"
    write_load_run(folder, {("baseline", "batch1", "concurrency", 1): ([5.0, 6.0], "ok", 0),
                            ("jit+cuda", "batch1", "concurrency", 1): ([3.0, 4.0], "ok", 0)})
    path = folder / LOAD_SAMPLES_FILE
    path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
    with pytest.raises(ValueError) as caught:
        reread(folder)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_a_level_whose_record_cannot_be_saved_leaves_no_rows(tmp_path, monkeypatch):
    record = write_load_run(tmp_path / "r", LEVELS)
    before = (tmp_path / "r" / LOAD_SAMPLES_FILE).read_bytes()

    def full_disk():
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(record, "save", full_disk)
    level = LoadLevelRecord("rate", 50.0, "ok", planned=1, sent=1, answered=1, correct=True)
    with pytest.raises(OSError):
        add_level(record, "baseline", "batch1", level, (LoadRow(0, False, 8, 5, 0, 10, token=1, agreed=True),))
    assert (tmp_path / "r" / LOAD_SAMPLES_FILE).read_bytes() == before
    assert len(record.data["load"]["levels"]) == 3


def test_a_resume_keeps_finished_load_runs_and_drops_the_rest_with_their_rows(tmp_path):
    folder = tmp_path / "r"
    record = write_load_run(folder, LEVELS)
    set_load_run(record, "jit+cuda", "batch1", status="running")  # interrupted after its first level
    set_load_run(record, "cuda-graph", "batch1", status="skipped", note="needs CUDA")
    kept = reopen_load(RunRecord(folder, record.data), [("concurrency", 1), ("concurrency", 2)], 50.0)
    assert kept == {("baseline", "batch1"), ("cuda-graph", "batch1")}
    section, rows = reread(folder)
    assert {(r["strategy"], r["status"]) for r in section["runs"]} == {("baseline", "ok"), ("cuda-graph", "skipped")}
    assert set(rows.strategy) == {"baseline"} and len(rows) == 3 + 2 + 2 * 2
    # a finished run with a level missing is measured again
    assert reopen_load(RunRecord(folder, record.data), [("concurrency", 1), ("concurrency", 4)], 50.0) == {
        ("cuda-graph", "batch1")}
