"""Packaging: every third-party package the code imports is declared, with an upper bound; the
hub error suggests the offline switch."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DIST_NAMES = {"yaml": "pyyaml"}  # import name -> distribution name, where they differ


def imported_top_level(folders=("bench", "strategies")) -> set[str]:
    names = set()
    for folder in folders:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"bench", "strategies"}


def test_every_imported_package_is_declared_with_an_upper_bound():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {re.split(r"[<>=!~ ]", d)[0].lower(): d for d in deps}
    for module in sorted(imported_top_level()):
        name = DIST_NAMES.get(module, module)
        assert name in declared, f"{module} is imported but {name} is not in pyproject.toml's dependencies"
        assert "<" in declared[name], f"{declared[name]}: no upper bound"


@pytest.mark.slow
def test_the_hub_error_suggests_the_offline_switch(tmp_path):
    code = ("from bench.config.errors import ConfigError\nfrom bench.config.schema import ModelConfig\n"
            "from bench.models.build import hf_config\ntry:\n    hf_config(ModelConfig(name_or_path='no-org/no-model'))\n"
            "except ConfigError as exc:\n    print(exc)\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300).stdout
    assert out.startswith("model.name_or_path: ") and "HF_HUB_OFFLINE=1" in out, out


def package_imports() -> dict[str, set[str]]:
    """bench's packages -> the other bench packages their modules import (anywhere in the module)."""
    edges: dict[str, set[str]] = {}
    for path in (REPO / "bench").rglob("*.py"):
        parts = path.relative_to(REPO).parts
        if len(parts) < 3:
            continue  # bench/__main__.py, bench/cli.py: the top, importing everything
        targets = edges.setdefault(parts[1], set())
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                package = name.split(".")[1] if name.startswith("bench.") else None
                if package and package != parts[1] and (REPO / "bench" / package).is_dir():
                    targets.add(package)
    return edges


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    """The packages `start` imports, directly or through others."""
    seen, todo = set(), list(edges.get(start, ()))
    while todo:
        package = todo.pop()
        if package not in seen:
            seen.add(package)
            todo.extend(edges.get(package, ()))
    return seen


def test_no_package_imports_one_that_imports_it_back():
    edges = package_imports()
    loops = sorted(p for p in edges if p in reachable(edges, p))  # directly, or round a longer loop
    assert not loops, f"packages in an import loop: {loops}"
    assert "scenarios" in edges["running"] and "running" not in edges["scenarios"]  # the layers ARCHITECTURE.md draws
