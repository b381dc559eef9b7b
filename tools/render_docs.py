"""Regenerate the numbers in README.md and docs/*.md from the committed results, so none is typed by hand.

    PYTHONPATH=. python -m tools.render_docs            # what `make docs` runs; CI then runs git diff
    PYTHONPATH=. python -m tools.render_docs --check    # exit 1, naming the files, if any would change

docs/sections.yaml names each generated section: its file, its marker name, the renderer below, the run
folders under results/ and any targets. Each section's text goes between `<!-- generated: NAME -->` and
`<!-- end generated: NAME -->` in its file; the text outside the markers is left as written. A section
without its markers, or markers without a section, stop the run with one line naming them (exit 2).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

from bench.reporting.compare import compare_markdown, compare_runs, load_run_samples
from bench.reporting.doc_markers import fill, marker_names
from bench.reporting.doc_tables import client_server_table, run_intro, runs_index, ttft_table
from bench.reporting.ready_table import ready_breakdown
from bench.reporting.results_io import read_run
from tools import config_reference, run_prose, tp_prose
from tools.console_sample import console_sample
from tools.sections import DocsError, Section, load_sections
from tools.summaries import summary

REPO = Path(__file__).resolve().parent.parent
DATA_FILE = "docs/sections.yaml"
RESULTS = "results"


def comparison(results: Path, s: Section) -> str:
    """`bench compare` of the section's runs (the first is the reference), as the command prints it."""
    names = s.need("runs")
    runs = [load_run_samples(results / name) for name in names]
    text = compare_markdown(runs, compare_runs(runs, s.get("level", 0.95)), s.get("level", 0.95))
    text = text.replace(str(results) + "/", f"{RESULTS}/")
    command = "python -m bench compare " + " ".join(f"{RESULTS}/{n}" for n in names)
    return f"```sh\n{command}\n```\n\n" + re.sub(r"^#", "####", text, flags=re.M).strip()


def summary_of(results: Path, s: Section):
    """The section's run: its record and summary."""
    return summary(results / s.need("run"))


# renderer name -> (results folder, section) -> the section's text
RENDERERS: dict[str, Callable[[Path, Section], str]] = {
    "headline": lambda r, s: run_prose.headline(*summary_of(r, s), s.need("headline"), s.need("peer")),
    "console": lambda r, s: console_sample(r / s.need("run"), s.need("shown_as"), s.need("command")),
    "runs_index": lambda r, s: runs_index(r, s.need("link_prefix")),
    "run_intro": lambda r, s: run_intro(f"{RESULTS}/{s.need('run')}", s.get("config", f"configs/{s.need('run')}.yaml"),
                                        *summary_of(r, s)),
    "ttft_table": lambda r, s: ttft_table(summary_of(r, s)[1], s.need("headline"), s.need("peer"), s.need("order")),
    "claims": lambda r, s: run_prose.claims(summary_of(r, s)[1], s.need("headline"), s.need("peer"),
                                            s.need("graph_strategies")),
    "costs": lambda r, s: run_prose.costs(*summary_of(r, s), s.need("headline"), s.need("peer"), s.need("unseen_of")),
    "targets": lambda r, s: run_prose.targets(*summary_of(r, s), s.need("headline"), s.need("peer"),
                                              s.need("targets")),
    "range_over_baseline": lambda r, s: run_prose.range_over_baseline(summary_of(r, s)[1], s.need("headline")),
    "client_server": lambda r, s: client_server_table(*summary_of(r, s)),
    "ready_breakdown": lambda r, s: ready_breakdown(read_run(r / s.need("run"))),
    "compare": comparison,
    "families": lambda r, s: run_prose.family_table(r, s.need("runs"), s.need("lengths")),
    "tp_scaling": lambda r, s: tp_prose.scaling(r, s.need("one_gpu"), s.need("run"), s.need("headline"),
                                                s.need("order"), s.need("targets"), s.need("command_limit_s")),
    "tp_wider": lambda r, s: tp_prose.wider(r, s.need("one_gpu"), s.need("middle"), s.need("run"), s.need("headline"),
                                            s.need("peer"), s.need("order"), s.need("command_limit_s")),
    "tp_large": lambda r, s: tp_prose.large(r, s.need("run"), s.need("headline"), s.need("peer"), s.need("order"),
                                            s.need("targets"), s.need("command_limit_s")),
    "config_keys": lambda r, s: config_reference.keys_table(),
    "strategy_options": lambda r, s: config_reference.options_table(),
    "presets": lambda r, s: config_reference.presets_table(),
}


def render(repo: Path, sections: list[Section]) -> dict[str, str]:
    """Every file named by a section (or holding a marker), path relative to repo -> its regenerated text."""
    results = repo / RESULTS
    by_file: dict[str, dict[str, str]] = {}
    for s in sections:
        if s.renderer not in RENDERERS:
            raise DocsError(f"section {s.name}: unknown renderer {s.renderer!r}; known: {', '.join(RENDERERS)}")
        try:
            by_file.setdefault(s.file, {})[s.name] = RENDERERS[s.renderer](results, s)
        except (OSError, ValueError, KeyError) as exc:
            raise DocsError(f"section {s.name} ({s.renderer}): {type(exc).__name__}: {exc}") from None
    pages = [repo / "README.md"] + sorted((repo / "docs").glob("*.md"))
    for page in pages:
        by_file.setdefault(str(page.relative_to(repo)), {})
    out = {}
    for name, generated in by_file.items():
        path = repo / name
        if not path.is_file():
            raise DocsError(f"{name}: no such page (named by {DATA_FILE})")
        text = path.read_text()
        missing = [s for s in generated if s not in marker_names(text)]
        if missing:
            raise DocsError(f"{name}: no marker pair for section(s) {', '.join(missing)}: add "
                            f"`<!-- generated: NAME -->` and `<!-- end generated: NAME -->` where each belongs")
        try:
            out[name] = fill(text, generated)
        except ValueError as exc:
            raise DocsError(f"{name}: {exc} (sections come from {DATA_FILE})") from None
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.render_docs", description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 naming the files that would change")
    args = p.parse_args(argv)
    try:
        pages = render(REPO, load_sections(REPO / DATA_FILE))
    except DocsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    changed = [name for name, text in pages.items() if (REPO / name).read_text() != text]
    if args.check:
        for name in changed:
            print(f"stale: {name} (run `make docs`)", file=sys.stderr)
        return 1 if changed else 0
    for name in changed:
        (REPO / name).write_text(pages[name])
        print(f"regenerated {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
