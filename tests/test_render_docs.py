"""`make docs`: the committed README.md and docs/*.md are what the data file and results/ regenerate, and a
data file or page the generator cannot use is one line naming the problem (exit 2), never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools import render_docs
from tools.render_docs import DATA_FILE, render
from tools.sections import DocsError, Section, load_sections

REPO = Path(__file__).resolve().parent.parent
PRESETS = "<!-- generated: presets -->\n<!-- end generated: presets -->\n"


def test_the_committed_pages_are_current():
    pages = render(REPO, load_sections(REPO / DATA_FILE))
    assert "README.md" in pages and "docs/results.md" in pages
    stale = [name for name, text in pages.items() if (REPO / name).read_text() != text]
    assert stale == [], f"stale: {stale}: run `make docs`"


def site(tmp_path: Path, readme: str, page: str = "") -> Path:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "README.md").write_text(readme)
    (tmp_path / "docs" / "page.md").write_text(page)
    return tmp_path


def section(renderer: str = "presets", file: str = "README.md", **params) -> Section:
    return Section(file, "presets", renderer, params)


def test_a_section_is_written_between_its_markers(tmp_path):
    pages = render(site(tmp_path, "intro\n" + PRESETS), [section()])
    assert pages["README.md"].startswith("intro\n<!-- generated: presets -->\n19 presets:")
    assert pages["docs/page.md"] == ""


def test_a_section_without_its_markers_is_named(tmp_path):
    with pytest.raises(DocsError, match=r"README.md: no marker pair for section\(s\) presets"):
        render(site(tmp_path, "intro\n"), [section()])


def test_markers_without_a_section_are_named_on_any_page(tmp_path):
    with pytest.raises(DocsError, match="docs/page.md: marker names no generated section: presets"):
        render(site(tmp_path, "intro\n", PRESETS), [])


def test_an_unknown_renderer_or_a_missing_parameter_is_named(tmp_path):
    with pytest.raises(DocsError, match="unknown renderer 'tables'"):
        render(site(tmp_path, PRESETS), [section("tables")])
    with pytest.raises(DocsError, match="section presets \\(ttft_table\\): missing parameter 'run'"):
        render(site(tmp_path, PRESETS), [section("ttft_table")])
    with pytest.raises(DocsError, match="docs/missing.md: no such page"):
        render(site(tmp_path, ""), [section(file="docs/missing.md")])


def test_a_missing_run_folder_is_one_line_naming_the_section(tmp_path):
    (tmp_path / "results").mkdir()
    with pytest.raises(DocsError, match="section presets \\(run_intro\\): .*no-such-run"):
        render(site(tmp_path, PRESETS), [section("run_intro", run="no-such-run")])


def test_the_command_exits_2_with_one_line_on_a_bad_data_file(tmp_path, monkeypatch, capsys):
    (site(tmp_path, PRESETS) / DATA_FILE).write_text("sections: [{file: README.md, name: presets}]\n")
    monkeypatch.setattr(render_docs, "REPO", tmp_path)
    assert render_docs.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "renderer" in err


def test_check_names_a_stale_page_and_writes_nothing(tmp_path, monkeypatch, capsys):
    data = "sections: [{file: README.md, name: presets, renderer: presets}]\n"
    (site(tmp_path, PRESETS) / DATA_FILE).write_text(data)
    monkeypatch.setattr(render_docs, "REPO", tmp_path)
    assert render_docs.main(["--check"]) == 1
    assert "stale: README.md" in capsys.readouterr().err and (tmp_path / "README.md").read_text() == PRESETS
    assert render_docs.main([]) == 0 and render_docs.main(["--check"]) == 0
