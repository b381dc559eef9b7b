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


def test_the_hub_error_suggests_the_offline_switch(tmp_path):
    code = ("from bench.config.errors import ConfigError\nfrom bench.config.schema import ModelConfig\n"
            "from bench.models.build import hf_config\ntry:\n    hf_config(ModelConfig(name_or_path='no-org/no-model'))\n"
            "except ConfigError as exc:\n    print(exc)\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300).stdout
    assert out.startswith("model.name_or_path: ") and "HF_HUB_OFFLINE=1" in out, out
