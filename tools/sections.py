"""docs/sections.yaml read into typed records: each generated section's file, marker name, renderer and
parameters (run folders, strategies, targets), the file's `defaults` filled in where a section sets none."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SECTION_KEYS = ("file", "name", "renderer")  # what every section names; any other key is a renderer's parameter


class DocsError(Exception):
    """A data file or a page that the generator cannot use; its message names the section and the problem."""


@dataclass(frozen=True)
class Section:
    """One generated section: where it goes and what renders it with which parameters."""
    file: str
    name: str
    renderer: str
    params: dict

    def need(self, key: str) -> Any:
        """A parameter the renderer cannot do without."""
        if key not in self.params:
            raise DocsError(f"section {self.name} ({self.renderer}): missing parameter {key!r}")
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        """An optional parameter."""
        return self.params.get(key, default)


def load_sections(path: Path) -> list[Section]:
    """Every section of the data file, in its order; a malformed file or entry is a DocsError naming it."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DocsError(f"{path}: cannot read ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise DocsError(f"{path}: expected a mapping with a list under `sections`")
    defaults = data.get("defaults") or {}
    sections, seen = [], set()
    for i, entry in enumerate(data["sections"]):
        if not isinstance(entry, dict) or any(not isinstance(entry.get(k), str) for k in SECTION_KEYS):
            raise DocsError(f"{path}: sections[{i}]: expected a mapping with text under {', '.join(SECTION_KEYS)}")
        if (entry["file"], entry["name"]) in seen:
            raise DocsError(f"{path}: sections[{i}]: {entry['file']} already has a section {entry['name']}")
        seen.add((entry["file"], entry["name"]))
        params = {**defaults, **{k: v for k, v in entry.items() if k not in SECTION_KEYS}}
        sections.append(Section(entry["file"], entry["name"], entry["renderer"], params))
    return sections
