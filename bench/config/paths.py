"""Paths in a config made absolute, so every process and every working directory agree: those a file
gives read against the file's folder, those the command line gives against the working directory."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def command_line_path(keys: tuple[str, ...], value: Any) -> Any:
    """A setting's value, with a path it gives (output, model.config, ...) read against the working
    directory, as resolve_paths reads a file's against the file's folder; other values as given."""
    nested = value
    for key in reversed(keys):
        nested = {key: nested}
    nested = resolve_paths(nested, Path.cwd())
    for key in keys:
        nested = nested[key]
    return nested


def resolve_paths(raw: Any, folder: Path) -> Any:
    """Relative paths written in a config (output, model.config, a local model.name_or_path) read
    against the config file's folder and made absolute, so every process and every working
    directory agree; an absent output stays the default, relative to the working directory."""
    if not isinstance(raw, dict):
        return raw  # parse_config names the problem
    folder = folder.absolute()
    raw = dict(raw)
    if isinstance(raw.get("output"), str) and raw["output"] and not Path(raw["output"]).is_absolute():
        raw["output"] = str(folder / raw["output"])
    model = raw.get("model")
    if isinstance(model, dict):
        model = dict(model)
        for key in ("config", "name_or_path"):
            value = model.get(key)
            if isinstance(value, str) and value and not Path(value).is_absolute():
                # a name_or_path that is not a folder beside the config is a hub id, kept as written,
                # unless it starts with ./ or ../ (a hub id cannot): a path, even one not made yet
                if key == "config" or (folder / value).exists() or value.startswith(("./", "../")):
                    model[key] = os.path.normpath(folder / value)  # no "configs/../" in messages and run.json
        raw["model"] = model
    return raw
