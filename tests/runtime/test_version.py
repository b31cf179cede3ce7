"""`_runtime/version.py`: the package's version, read from its installed metadata, and the User-Agent
that names it."""

from __future__ import annotations

import importlib.util
import tomllib
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from leadway_invoices_client import __version__
from leadway_invoices_client._runtime import version


def test_the_version_is_the_installed_distributions() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert __version__ == pyproject["project"]["version"]


def test_the_user_agent_names_the_distribution_its_version_and_httpx() -> None:
    expected = f"leadway-invoices-client/{__version__} python-httpx/{httpx.__version__}"
    assert expected == version.USER_AGENT


def test_a_source_tree_that_was_never_installed_has_a_version_that_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    name = f"{version.__package__}._version_uninstalled"
    spec = importlib.util.spec_from_file_location(name, version.__file__)
    assert spec is not None
    assert spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)

    assert fresh.__version__ == "0+unknown"
    assert fresh.USER_AGENT.startswith("leadway-invoices-client/0+unknown python-httpx/")
