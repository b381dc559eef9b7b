"""Generated sections of a Markdown file: the text between `<!-- generated: NAME -->` and
`<!-- end generated: NAME -->` is a renderer's; everything outside the markers is left as written.

    text = fill(text, {"NAME": "new text"})   # ValueError naming a marker that is unpaired or unknown
"""
from __future__ import annotations

import re

START = re.compile(r"<!-- generated: (\S+) -->")
END = re.compile(r"<!-- end generated: (\S+) -->")
# a pair on lines of their own; the body (any lines, or none) between them is what a renderer replaces
SECTION = re.compile(r"(<!-- generated: (\S+) -->\n)(?:.*?\n)?(<!-- end generated: \2 -->)", re.S)


def marker_problems(text: str) -> list[str]:
    """One line per marker without its partner, out of order or used twice (empty when every pair is sound)."""
    problems, open_name, seen = [], None, set()
    for m in re.finditer(f"{START.pattern}|{END.pattern}", text):
        start, end = m.group(1), m.group(2)
        if start is not None:
            if open_name is not None:
                problems.append(f"generated: {open_name} has no end marker before generated: {start}")
            if start in seen:
                problems.append(f"generated: {start} appears twice")
            open_name = start
            seen.add(start)
        elif end != open_name:
            problems.append(f"end generated: {end} closes no open generated: {end}")
        else:
            open_name = None
    if open_name is not None:
        problems.append(f"generated: {open_name} has no end marker")
    return problems


def marker_names(text: str) -> list[str]:
    """The names of the generated sections, in the order they appear."""
    return START.findall(text)


def fill(text: str, generated: dict[str, str]) -> str:
    """text with each marked section's body replaced by generated[name]; an unpaired marker or a name
    without a generated section is a ValueError that names it."""
    problems = marker_problems(text)
    if problems:
        raise ValueError("; ".join(problems))

    def replace(m: re.Match) -> str:
        if m.group(2) not in generated:
            raise ValueError(f"marker names no generated section: {m.group(2)}")
        return m.group(1) + generated[m.group(2)] + "\n" + m.group(3)

    filled, count = SECTION.subn(replace, text)
    if count != len(marker_names(text)):
        raise ValueError("a generated section's markers must stand on lines of their own")
    return filled
