"""README.md and docs/*.md hold together: every relative link and image points at a file that exists (and an
anchor at a heading of that page), every generated section has its end marker, and docs/cli.md names every
command and flag the command line accepts."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bench.cli import parser
from bench.config.schema import load_config
from bench.reporting.doc_markers import marker_problems

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")  # [text](target) and ![alt](target); text may span lines
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def prose(text: str) -> str:
    """A page without its fenced code blocks, where brackets are code, not links."""
    return FENCE.sub("", text)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {anchor(line.lstrip("#")) for line in prose(page.read_text()).splitlines() if line.startswith("#")}


def broken_links(page: Path) -> list[str]:
    """The page's relative links whose file, or whose anchor in a Markdown file, does not exist."""
    broken = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z]+:", target):
            continue  # http:, https:, mailto: lie outside the repository
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path) if path else page
        if not resolved.exists():
            broken.append(target)
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(target)
    return broken


def test_the_pages_are_there():
    names = {p.name for p in PAGES}
    assert {"README.md", "results.md", "correctness.md", "method.md", "reliability.md", "configuration.md",
            "cli.md", "serving.md", "tensor-parallel.md", "strategies.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_generated_section_has_its_end_marker(page):
    assert marker_problems(page.read_text()) == []


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# A heading, with punctuation (2026)\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#a-heading-with-punctuation-2026) [gone](missing.md) [bad](other.md#nope)\n"
                    "[split\nlink](#top) https://example.com [web](https://example.com)\n# Top\n"
                    "```\n[in code](nowhere.md)\n```\n")
    assert broken_links(page) == ["missing.md", "other.md#nope"]


def test_the_cli_page_names_every_command_and_flag():
    text = (REPO / "docs" / "cli.md").read_text()
    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, sub in commands.items():
        assert f"## {name}" in text, name
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in ("-h", "--help") or f"`{flag}" in text or f" {flag} " in text or f"[{flag}" in text, \
                    (name, flag)


@pytest.mark.parametrize("page", [REPO / "README.md", REPO / "docs" / "configuration.md"], ids=lambda p: p.name)
def test_every_config_example_validates(page, tmp_path):
    configs = tmp_path / "configs"  # the examples sit in configs/, beside models/ and a checkpoint folder
    configs.mkdir()
    (configs / "models").symlink_to(REPO / "configs" / "models")
    checkpoint = tmp_path / "checkpoints" / "my-model"  # the README's "../checkpoints/my-model"
    checkpoint.mkdir(parents=True)
    (checkpoint / "config.json").write_text((REPO / "configs" / "models" / "smollm2-135m" / "config.json").read_text())
    examples = re.findall(r"^```yaml\n(.*?)^```", page.read_text(), re.S | re.M)
    assert examples
    for i, example in enumerate(examples):
        path = configs / f"example-{i}.yaml"
        path.write_text(example)
        load_config(path)  # a ConfigError names what is wrong
