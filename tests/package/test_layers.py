"""Imports run one way: the client runtime, under it nothing of ours; the generated API on the
runtime; the application (ledger, bulk sending, command line) on top; the commands under scripts/
never on the contract suite.

Read from the source (ast), so a file that is never imported by a test is checked too. Imports under
`if TYPE_CHECKING:` are annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scripts.project import PACKAGE, PACKAGE_DIR, ROOT

# What each part of the package may import of the package; a part is its first folder (or module).
FACES = {"__init__", "client", "errors", "types"}
ALLOWED = {
    "_runtime": {"_runtime"},
    # The generated code imports the runtime and, through the generator's stock property code, `types`.
    "api": {"_runtime", "api", "models", "types"},
    "models": {"_runtime", "models", "types"},
    "_ledger": {"_runtime", "api", "models", "types", "_ledger"},
    "_bulk": {"_runtime", "api", "models", "types", "_ledger", "_bulk"},
    # Webhooks: verification on the models, the receiver on the ledger; the command line serves it.
    "webhooks": {"_runtime", "api", "models", "types", "_ledger", "webhooks"},
    "cli": {"_runtime", "api", "models", "types", "_ledger", "_bulk", "webhooks", "cli"},
    **{face: {"_runtime", "_ledger"} for face in FACES},
}


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(path: Path, package: str) -> set[str]:
    """The absolute names of the modules `path` imports at run time (`package`: its own package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _type_checking(node)
        for child in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.update(f"{module}.{alias.name}" if node.module is None else module for alias in node.names)
    return found


def part(module: str) -> str | None:
    """The part of the package a module name belongs to, or None for a module of another package."""
    names = module.split(".")
    if names[0] != PACKAGE:
        return None
    return names[1] if len(names) > 1 else "__init__"


PACKAGE_FILES = sorted(path for path in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in path.parts)


@pytest.mark.parametrize("path", PACKAGE_FILES, ids=lambda p: str(p.relative_to(PACKAGE_DIR)))
def test_each_part_of_the_package_imports_only_the_layers_below(path: Path) -> None:
    relative = path.relative_to(PACKAGE_DIR)
    owner = relative.parts[0].removesuffix(".py")
    package = ".".join([PACKAGE, *relative.parent.parts])
    used = {name for module in imports(path, package) if (name := part(module)) is not None}
    assert used <= ALLOWED[owner], f"{relative} imports {sorted(used - ALLOWED[owner])}"


def test_the_package_imports_no_tool_of_this_repository_and_each_extra_only_where_it_is_needed() -> None:
    for path in PACKAGE_FILES:
        roots = {module.split(".")[0] for module in imports(path, PACKAGE)}
        assert not roots & {"scripts", "contract_tests", "tests"}, path
        owner = path.relative_to(PACKAGE_DIR).parts[0]
        if owner != "cli":
            assert not roots & {"rich", "platformdirs", "uvicorn"}, path
        if owner != "webhooks":
            assert "cryptography" not in roots, path


@pytest.mark.parametrize("path", sorted((ROOT / "scripts").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_command_imports_the_contract_suite(path: Path) -> None:
    assert not {module for module in imports(path, "scripts") if module.split(".")[0] == "contract_tests"}


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "from ..models.invoice import Invoice\n"
        "from . import wire\n"
        "if TYPE_CHECKING:\n    from ..cli import main\n",
        encoding="utf-8",
    )
    found = imports(module, f"{PACKAGE}._runtime")
    assert found == {"typing", f"{PACKAGE}.models.invoice", f"{PACKAGE}._runtime.wire"}
    assert {part(name) for name in found} == {None, "models", "_runtime"}
