"""The contract suite users run in their CI needs no command from scripts/ (only the sandbox package)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scripts.project import ROOT

SUITE = sorted((ROOT / "contract_tests").glob("*.py"))


def scripts_imports(path: Path) -> set[str]:
    """The `scripts...` modules `path` imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "scripts")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "scripts":
            found.update(
                f"{node.module}.{alias.name}" if node.module == "scripts" else node.module for alias in node.names
            )
    return found


@pytest.mark.parametrize("path", SUITE, ids=lambda p: p.name)
def test_the_suite_imports_no_command_module(path: Path) -> None:
    assert {name for name in scripts_imports(path) if not name.startswith("scripts.sandbox")} == set()


def test_the_check_sees_a_command_import(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "def f():\n    from scripts.record_cassettes import main\n    from scripts import scrub\n", encoding="utf-8"
    )
    assert scripts_imports(module) == {"scripts.record_cassettes", "scripts.scrub"}
