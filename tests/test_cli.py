"""The command line: its name and examples in --help, --version, --set and the shorthands through one
path, a config refused before any framework loads, one line and exit 130 on Ctrl-C in every phase,
and compare's flags refused in one line."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib

import pytest

from bench.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, main, parser, run_overrides
from bench.config.schema import load_config
from tests.conftest import REPO, tiny_raw

FRAMEWORKS = ("torch", "transformers", "matplotlib")


def python_m_bench(*args: str, timeout: int = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, **kwargs)


def test_help_names_the_command_it_was_run_as_and_shows_examples(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])  # what the installed `ttft-bench` script calls
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith("usage: ttft-bench ")
    assert "examples:\n  ttft-bench run configs/default.yaml\n" in out and "--set measure.repeats=50" in out
    proc = python_m_bench("-m", "bench", "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m bench ")
    assert "  python -m bench report results/default\n" in proc.stdout


def test_version_says_the_package_version_and_commit(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    assert done.value.code == 0
    assert re.fullmatch(rf"ttft-bench {re.escape(version)} \(commit {commit[:10]}(, uncommitted changes)?\)\n",
                        capsys.readouterr().out)


def test_a_bad_set_key_exits_2_naming_the_key_and_the_allowed_ones(write_config, capsys):
    path = str(write_config(tiny_raw()))
    assert main(["run", path, "--set", "measure.repeat=5"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err == "error: measure: unknown key 'repeat'; allowed: warmup, repeats, rounds, unseen_length, restart\n"
    assert main(["run", path, "--set", "measure.repeats"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.startswith("error: --set: expected key.path=value")


def test_the_shorthands_change_the_config_as_set_does(write_config):
    jit_only = {"name": "jit-only", "options": {"forward_jit": "none"}}
    path = str(write_config(tiny_raw(strategies=["baseline", jit_only])))

    def raw(*flags: str) -> dict:
        return load_config(path, run_overrides(parser().parse_args(["run", path, *flags]))).raw

    short = raw("--lengths", "8", "16", "--repeats", "3", "--tag", "who=me", "--strategies", "jit-only")
    assert short == raw("--set", "prompts.lengths=[8,16]", "--set", "measure.repeats=3", "--set", "tags.who=me",
                        "--strategies", "jit-only")
    assert short["strategies"] == [{"name": "jit-only", "options": {"forward_jit": "none"}}]  # its options kept


@pytest.mark.parametrize("flag", [[], ["--set", "measure.repeats=0"]])
def test_a_rejected_config_exits_2_in_one_line_before_any_framework_loads(write_config, flag):
    path = write_config(tiny_raw(measure={"repeats": 5 if flag else 0}))
    proc = python_m_bench("-X", "importtime", "-m", "bench", "run", str(path), *flag)
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    said = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert proc.returncode == EXIT_BAD_INPUT
    assert said == ["error: measure.repeats: expected a positive integer, got 0"]
    assert "bench.config.schema" in imported  # the list is the real one
    assert not [m for m in FRAMEWORKS if m in imported], [m for m in FRAMEWORKS if m in imported]


# runs `python -m bench ...` and sends itself SIGINT as module sys.argv[1] starts importing
INTERRUPT_AT_IMPORT = """
import os, runpy, signal, sys
target = sys.argv.pop(1)


class InterruptOnImport:
    def find_spec(self, name, path=None, target_module=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, InterruptOnImport())
sys.argv[0] = "bench"
runpy.run_module("bench", run_name="__main__", alter_sys=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("module", ["bench.cli", "yaml", "torch", "transformers", "tqdm"])
def test_ctrl_c_while_importing_is_one_line_and_exit_130(write_config, tmp_path, module):
    # bench.cli: `python -m bench` loading; yaml: reading the config; torch, transformers, tqdm: the run's imports
    path = write_config(tiny_raw())
    proc = python_m_bench("-c", INTERRUPT_AT_IMPORT, module, "run", str(path), "--out", str(tmp_path / "out"),
                          timeout=300)
    assert (proc.returncode, proc.stderr) == (EXIT_INTERRUPTED, "interrupted\n")


@pytest.mark.slow
@pytest.mark.parametrize("delay_s", [0.3, 1.5, 3.0])
def test_ctrl_c_at_any_moment_of_a_run_is_one_line_and_exit_130(write_config, tmp_path, delay_s):
    path = write_config(tiny_raw(measure={"warmup": 1, "repeats": 20000}))  # minutes: still running when signalled
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", str(path), "--out", str(tmp_path / "out")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay_s)
    assert proc.poll() is None, f"the run ended before the signal at {delay_s} s: {proc.communicate()}"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    said = [line for line in err.replace("\r", "\n").splitlines() if line.strip() and "point/s]" not in line
            and "point]" not in line]  # tqdm's progress lines
    assert proc.returncode == EXIT_INTERRUPTED, err[-2000:]
    assert "Traceback" not in err and len(said) == 1 and said[0].startswith("interrupted"), said


@pytest.mark.parametrize("value", ["nan", "inf", "-5"])
def test_a_fail_if_slower_that_would_switch_the_check_off_is_refused(tmp_path, capsys, value):
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-if-slower", value]) == EXIT_BAD_INPUT
    expected = f"error: --fail-if-slower: expected a finite percentage >= 0, got {float(value)}\n"
    assert capsys.readouterr().err == expected


def test_compare_out_at_a_file_or_under_one_is_one_line(run_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("user data")
    for out, message in ((tmp_path / "file", "is an existing file, not a folder"),
                         (tmp_path / "file" / "sub", "cannot write")):
        assert main(["compare", str(run_dir), str(run_dir), "--out", str(out)]) == EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert err.startswith("error: --out: ") and message in err and err.count("\n") == 1, err
    assert (tmp_path / "file").read_text() == "user data"


def test_report_of_one_folder_prints_its_verdict(run_dir, capsys):
    assert main(["report", str(run_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "r (complete)" and out[2].startswith("stability: 1 of 3 points unstable")
    assert out[-1].startswith(f"results: {run_dir}/")


def test_a_bad_flag_is_one_line(capsys):
    with pytest.raises(SystemExit) as done:
        main(["compare", "a", "b", "--fail-if-slower", "fast"])
    assert done.value.code == EXIT_BAD_INPUT
    assert capsys.readouterr().err == ("error: ttft-bench compare: argument --fail-if-slower: invalid float value: "
                                       "'fast' (see --help)\n")


def test_a_reader_that_leaves_early_gets_no_traceback(run_dir):
    read, write = os.pipe()
    os.close(read)  # `report ... | head -1` once head has gone
    proc = subprocess.run([sys.executable, "-m", "bench", "report", str(run_dir)], cwd=REPO, stdout=write,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write)
    assert (proc.returncode, proc.stderr) == (EXIT_FAILED, "")
