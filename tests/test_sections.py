"""docs/sections.yaml: defaults fill what a section leaves out; a malformed entry is named."""
from __future__ import annotations

import pytest

from tools.sections import DocsError, load_sections


def test_defaults_apply_where_a_section_sets_nothing(tmp_path):
    path = tmp_path / "sections.yaml"
    path.write_text("defaults: {peer: torch-compile, order: [a]}\n"
                    "sections:\n- {file: README.md, name: x, renderer: claims, run: r, peer: hf-generate}\n"
                    "- {file: README.md, name: y, renderer: claims}\n")
    x, y = load_sections(path)
    assert (x.file, x.name, x.renderer) == ("README.md", "x", "claims")
    assert x.params == {"peer": "hf-generate", "order": ["a"], "run": "r"} and y.get("peer") == "torch-compile"
    with pytest.raises(DocsError, match="section y \\(claims\\): missing parameter 'run'"):
        y.need("run")


@pytest.mark.parametrize("text, problem", [
    ("sections: {}", "a list under `sections`"),
    ("sections: [{file: README.md, name: x}]",
     "sections\\[0\\]: expected a mapping with text under file, name, renderer"),
    ("sections: [{file: a, name: x, renderer: r}, {file: a, name: x, renderer: s}]", "a already has a section x"),
    ("sections: [", "cannot read"),
])
def test_a_malformed_data_file_is_named(tmp_path, text, problem):
    path = tmp_path / "sections.yaml"
    path.write_text(text)
    with pytest.raises(DocsError, match=problem):
        load_sections(path)
