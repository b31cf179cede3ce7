"""`_runtime/version.py`: the package's version, read from its installed metadata, and the User-Agent
that names it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from leadway_invoices_client import __version__


def test_the_version_is_the_installed_distributions() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert __version__ == pyproject["project"]["version"]
