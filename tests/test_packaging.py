"""`pip install .` gives an importable, typed package whose runtime dependencies are tested ranges."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from scripts.project import ROOT

UV = shutil.which("uv") or "uv-is-not-on-PATH--run-these-tests-through-nox"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([str(UV), "build", "--wheel", "--quiet", "--out-dir", str(out), str(ROOT)], check=True)
    (built,) = out.glob("*.whl")
    return built


def test_the_wheel_holds_the_typed_generated_package_and_nothing_else(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"leadway_invoices_client"}
    assert "leadway_invoices_client/py.typed" in names
    assert "leadway_invoices_client/api/invoices/send_invoice.py" in names
    assert "leadway_invoices_client/_runtime/transport.py" in names
    # The MIT licence pyproject.toml declares ships with the wheel.
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


def test_runtime_dependencies_are_bounded_ranges(wheel: Path) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared, extras = project["dependencies"], project["optional-dependencies"]
    assert declared
    # A lower bound that `nox -s tests-lowest` tests and an upper one below which `tests-3.13` tests the
    # newest release: never an exact pin, which would stop the package installing beside a library
    # that needs a neighbouring version. The extras' too.
    every = [*declared, *(requirement for requirements in extras.values() for requirement in requirements)]
    assert all(">=" in requirement and "<" in requirement.split(">=", 1)[1] for requirement in every)
    assert not any("==" in requirement for requirement in every)
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        requires = [line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")]
    # Compared as requirements: the wheel's metadata orders each specifier set its own way.
    shipped = {Requirement(line.removeprefix("Requires-Dist: ")) for line in requires}
    assert {r for r in shipped if r.marker is None} == {Requirement(requirement) for requirement in declared}
    # The command line's dependencies come with the `cli` extra only, psycopg with `postgres` only, the
    # webhooks' (cryptography, uvicorn) with `webhooks` only.
    assert {(r.name, str(r.marker)) for r in shipped if r.marker is not None} == {
        (Requirement(requirement).name, f'extra == "{extra}"')
        for extra, requirements in extras.items()
        for requirement in requirements
    }
    assert {"cli", "postgres", "webhooks"} <= set(extras)


def test_the_client_tests_group_leaves_out_the_generator() -> None:
    # tests-3.13 and tests-lowest install this group with uv's highest and lowest-direct resolutions:
    # the generator's own ranges (openapi-python-client 0.29.1: httpx<0.29) and schemathesis's
    # (rich>=13.9.4) would hold the client's dependencies back again.
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["dependency-groups"]

    def members(name: str) -> set[str]:
        found = {name}
        for item in groups[name]:
            if isinstance(item, dict):
                found |= members(item["include-group"])
        return found

    assert "generate" not in members("test-client")
    requirements = {
        Requirement(item).name for name in members("test-client") for item in groups[name] if isinstance(item, str)
    }
    assert not requirements & {"openapi-python-client", "schemathesis"}


def test_the_wheel_installs_and_imports_in_a_fresh_environment(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(UV), "pip", "install", "--quiet", "--python", str(python), str(wheel)], check=True)
    probe = "import leadway_invoices_client.api.invoices.send_invoice as m; print(m.__file__)"
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert str(venv) in result.stdout
    # Without the `cli` extra: the library imports, and the command says in one line what to install.
    bare = subprocess.run([str(venv / "bin" / "leadway-invoices"), "send", "--help"], capture_output=True, text=True)
    assert (bare.returncode, bare.stdout) == (2, "")
    assert bare.stderr.splitlines() == [
        "leadway-invoices: error: the command line needs the [cli] extra: pip install 'leadway-invoices-client[cli]'"
    ]
    subprocess.run([str(UV), "pip", "install", "--quiet", "--python", str(python), f"{wheel}[cli]"], check=True)
    script = subprocess.run(
        [str(venv / "bin" / "leadway-invoices"), "send", "--help"], capture_output=True, text=True, check=True
    )
    assert "--dry-run" in script.stdout


def test_importing_the_package_imports_no_command_line_module(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(UV), "pip", "install", "--quiet", "--python", str(python), f"{wheel}[cli]"], check=True)
    probe = (
        "import sys, leadway_invoices_client, leadway_invoices_client.api.invoices.send_invoice;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich' or m.split('.')[1:2] == ['cli']))"
    )
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert result.stdout.strip() == "[]"
