"""Files the user names are read only when regular: a FIFO, a device or a folder is refused by name at
once (a FIFO used to block the reader forever), and a regular file's cap holds."""
from __future__ import annotations

import json

import pytest

from bench.config.capped_file import read_capped
from bench.config.errors import ConfigError
from bench.config.schema import load_config, parse_config
from bench.reporting.report import load_checked
from bench.serving.serve_command import job_from_file
from tests.conftest import make_run, tiny_raw


def refusal(call, *args) -> str:
    with pytest.raises(ConfigError) as caught:
        call(*args)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_regular_file_is_read_up_to_its_cap(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_capped(path, 10, "cannot read", "too large") == b"x" * 10
    assert refusal(read_capped, path, 9, "cannot read", "too large") == "too large"


def test_a_fifo_as_the_config_is_refused_by_name(tmp_path, make_fifo):
    fifo = make_fifo(tmp_path / "config.yaml")
    assert refusal(load_config, fifo) == f"{fifo}: cannot read config (a named pipe (FIFO), not a regular file)"


@pytest.mark.parametrize("path,kind", [("/dev/zero", "a character device"), ("/dev/null", "a character device")])
def test_a_device_as_the_config_is_refused_by_name(path, kind):
    assert refusal(load_config, path) == f"{path}: cannot read config ({kind}, not a regular file)"


def test_a_folder_as_the_config_is_refused_by_name(tmp_path):
    assert refusal(load_config, tmp_path).endswith("cannot read config (a folder, not a regular file)")


def test_a_fifo_as_model_config_is_refused_by_name(tmp_path, make_fifo):
    fifo = make_fifo(tmp_path / "config.json")
    expected = f"model.config: cannot read {fifo} (a named pipe (FIFO), not a regular file)"
    assert refusal(parse_config, tiny_raw(model={"config": str(fifo)})) == expected
    assert refusal(parse_config, tiny_raw(model={"config": str(tmp_path)})) == expected  # the folder holding it


def test_a_fifo_as_a_local_models_config_is_refused_by_name(tmp_path, make_fifo):
    fifo = make_fifo(tmp_path / "config.json")
    expected = f"model.name_or_path: cannot read {fifo} (a named pipe (FIFO), not a regular file)"
    assert refusal(parse_config, tiny_raw(model={"name_or_path": str(tmp_path)})) == expected


def test_a_folder_as_a_local_models_config_is_refused_by_name(tmp_path):
    (tmp_path / "config.json").mkdir()
    assert refusal(parse_config, tiny_raw(model={"name_or_path": str(tmp_path)})).endswith(
        "(a folder, not a regular file)")


def test_a_fifo_as_the_job_record_is_refused_by_name(tmp_path, make_fifo):
    fifo = make_fifo(tmp_path / "job.json")
    assert refusal(job_from_file, str(fifo)) == \
        f"--job: cannot read a job record from {fifo} (a named pipe (FIFO), not a regular file)"
    (tmp_path / "bad.json").write_text(json.dumps({"config": {}}))
    assert refusal(job_from_file, str(tmp_path / "bad.json")).startswith("--job: cannot read a job record from")


@pytest.mark.parametrize("name", ["run.json", "samples.csv"])
def test_a_fifo_in_a_run_folder_is_refused_by_name(tmp_path, make_fifo, name):
    make_run(tmp_path)
    (tmp_path / name).unlink()
    fifo = make_fifo(tmp_path / name)
    what = "cannot read run record" if name == "run.json" else "cannot read"
    assert refusal(load_checked, tmp_path) == f"{fifo}: {what} (a named pipe (FIFO), not a regular file)"
