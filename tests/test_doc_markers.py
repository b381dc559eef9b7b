"""Generated sections are filled between their markers and nowhere else; a marker without its partner, or
without a generated section, is named instead of being skipped."""
from __future__ import annotations

import pytest

from bench.reporting.doc_markers import fill, marker_names, marker_problems

PAGE = "a\n<!-- generated: x -->\nold\nlines\n<!-- end generated: x -->\nb\n"


def test_fill_replaces_only_between_markers():
    assert fill(PAGE, {"x": "new"}) == "a\n<!-- generated: x -->\nnew\n<!-- end generated: x -->\nb\n"


def test_an_empty_section_is_filled_too():
    empty = "<!-- generated: x -->\n<!-- end generated: x -->\n"
    assert fill(empty, {"x": "new"}) == "<!-- generated: x -->\nnew\n<!-- end generated: x -->\n"


def test_a_marker_without_a_generated_section_is_refused():
    with pytest.raises(ValueError, match="y"):
        fill(PAGE.replace("x", "y"), {"x": "new"})


def test_unpaired_markers_are_named():
    assert marker_problems(PAGE) == []
    assert marker_problems("<!-- generated: x -->\ntext\n") == ["generated: x has no end marker"]
    assert marker_problems("text\n<!-- end generated: x -->\n") == ["end generated: x closes no open generated: x"]
    nested = "<!-- generated: x -->\n<!-- generated: y -->\n<!-- end generated: y -->\n"
    assert "generated: x has no end marker before generated: y" in marker_problems(nested)
    assert "generated: x appears twice" in marker_problems(PAGE + PAGE)
    with pytest.raises(ValueError, match="x has no end marker"):
        fill("<!-- generated: x -->\ntext\n", {"x": "new"})


def test_markers_inside_a_line_are_refused_not_skipped():
    with pytest.raises(ValueError, match="lines of their own"):
        fill("<!-- generated: x -->\nold <!-- end generated: x -->\n", {"x": "new"})


def test_marker_names_in_page_order():
    assert marker_names(PAGE + PAGE.replace("x", "z")) == ["x", "z"]
