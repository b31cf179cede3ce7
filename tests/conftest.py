"""Shared fixtures for the tests of our scripts, sandbox, templates and generated package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contract_tests.project import PACKAGE_DIR, RUNTIME_DIR, SPEC_DIR
from tests.runtime_copies import stale_runtime_copies


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


def pytest_configure(config: pytest.Config) -> None:
    check_runtime_copies()


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A scratch copy of spec/ that a test may break without touching the real one."""
    target = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
