"""Shared fixtures for the tests of our scripts, sandbox, templates and generated package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts.project import SPEC_DIR


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    """A scratch copy of spec/ that a test may break without touching the real one."""
    target = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
