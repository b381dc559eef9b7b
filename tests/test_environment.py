"""The commit a run records: git's answer, unless the copy was told otherwise; an edit's digest."""
from __future__ import annotations

import subprocess

from bench.running.environment import changed_keys, git_state
from bench.version import git_checkout_state


def test_a_copied_tree_reports_the_commit_it_was_told(monkeypatch):
    # a GPU box's copy may carry a stale .git: the variables set where the copy was made win
    monkeypatch.setenv("TTFT_BENCH_GIT_COMMIT", "85a0538")
    monkeypatch.setenv("TTFT_BENCH_GIT_DIRTY", "0")
    assert git_state() == {"git_commit": "85a0538", "git_dirty": False, "git_diff_sha256": None}


def test_without_the_variables_git_answers(monkeypatch):
    monkeypatch.delenv("TTFT_BENCH_GIT_COMMIT", raising=False)
    state = git_state()
    assert state["git_commit"] is None or len(state["git_commit"]) == 40


def git(repo, *args) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


def test_each_uncommitted_edit_has_a_digest_of_its_own(tmp_path):
    # the fuzz's edit after an interruption: git_dirty alone cannot tell one edit from another
    git(tmp_path, "init", "-q")
    code = tmp_path / "strategy.py"
    code.write_bytes(b"x = 1\n")
    git(tmp_path, "add", "strategy.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    clean = git_checkout_state(tmp_path)
    assert clean["git_dirty"] is False and clean["git_diff_sha256"] is None and len(clean["git_commit"]) == 40
    code.write_bytes(b"x = 2  # caf\xe9 in Latin-1: an edit need not be UTF-8\n")
    first = git_checkout_state(tmp_path)
    code.write_bytes(b"x = 3\n")
    second = git_checkout_state(tmp_path)
    assert first["git_dirty"] and second["git_dirty"]
    assert len({first["git_diff_sha256"], second["git_diff_sha256"]}) == 2 and None not in (
        first["git_diff_sha256"], second["git_diff_sha256"])
    assert changed_keys(first, second) == {"git_diff_sha256": (first["git_diff_sha256"], second["git_diff_sha256"])}


def test_the_environment_keys_a_resume_compares():
    started = {"gpu": "H200", "driver": "570", "torch": "2.13", "transformers": "5.17", "git_commit": "a",
               "git_dirty": False, "git_diff_sha256": None, "platform": "Linux-1", "cpu_count": 16}
    now = {**started, "platform": "Linux-2", "cpu_count": 8}  # where it is written from, not what is measured
    assert changed_keys(started, now) == {}
    assert changed_keys(started, {**now, "driver": "575", "git_dirty": True}) == {"driver": ("570", "575"),
                                                                                  "git_dirty": (False, True)}
