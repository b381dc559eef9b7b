"""The commit a run records: git's answer, unless the copy was told otherwise."""
from __future__ import annotations

from bench.running.environment import git_state


def test_a_copied_tree_reports_the_commit_it_was_told(monkeypatch):
    # a GPU box's copy may carry a stale .git: the variables set where the copy was made win
    monkeypatch.setenv("TTFT_BENCH_GIT_COMMIT", "85a0538")
    monkeypatch.setenv("TTFT_BENCH_GIT_DIRTY", "0")
    assert git_state() == {"git_commit": "85a0538", "git_dirty": False}


def test_without_the_variables_git_answers(monkeypatch):
    monkeypatch.delenv("TTFT_BENCH_GIT_COMMIT", raising=False)
    state = git_state()
    assert state["git_commit"] is None or len(state["git_commit"]) == 40
