"""Whether the runtime modules in the generated package are current copies of spec/runtime/.

A post hook in spec/generator.yaml copies each spec/runtime/*.py into the package and stamps it
with its source's sha256; an edit to the source without `scripts/nox -s generate` leaves the tests
importing the old copy. Comparing hashes needs no ruff, although the hooks reformat the copy.
Both conftests (tests/ and contract_tests/) run the check first, so either suite alone refuses to
test a stale package.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from contract_tests.project import PACKAGE_DIR, RUNTIME_DIR

COPIED_FROM = "# Copied from spec/runtime/"
SOURCE_HASH = "# Source sha256: "


def stale_runtime_copies(runtime_dir: Path, package_dir: Path) -> list[str]:
    """One line per copy that is missing, older than its source, or left over from a deleted source."""
    problems: list[str] = []
    for source in sorted(runtime_dir.glob("*.py")):
        copy = package_dir / source.name
        if not copy.is_file():
            problems.append(f"{copy} is missing (a copy of {source})")
            continue
        head = copy.read_text(encoding="utf-8").splitlines()[:2]
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        if len(head) < 2 or head[1] != SOURCE_HASH + digest:
            problems.append(f"{copy} is not a copy of the current {source}")
    for copy in sorted(package_dir.glob("*.py")):
        with copy.open(encoding="utf-8") as handle:
            first = handle.readline()
        if first.startswith(COPIED_FROM) and not (runtime_dir / copy.name).is_file():
            problems.append(f"{copy} is a copy of {runtime_dir / copy.name}, which no longer exists")
    return problems


def check_runtime_copies(runtime_dir: Path = RUNTIME_DIR, package_dir: Path = PACKAGE_DIR) -> None:
    """Stop the run when the package holds a stale copy of a spec/runtime module.

    Raises:
        pytest.UsageError: naming each stale copy and the command that refreshes it.
    """
    problems = stale_runtime_copies(runtime_dir, package_dir)
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        raise pytest.UsageError(
            f"the generated package is older than spec/runtime/:\n{lines}\n"
            "Run `scripts/nox -s generate`, or these tests would test the old copy."
        )
