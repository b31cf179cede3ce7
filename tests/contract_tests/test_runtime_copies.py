"""The session-start check that the package's runtime modules are current copies of spec/runtime/."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from contract_tests import runtime_copies
from contract_tests.project import PACKAGE_DIR, RUNTIME_DIR
from contract_tests.runtime_copies import check_runtime_copies, stale_runtime_copies


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    """Scratch copies of spec/runtime/ and of the generated package, which a test may make stale."""
    runtime, package = tmp_path / "runtime", tmp_path / "package"
    shutil.copytree(RUNTIME_DIR, runtime, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    return runtime, package


def test_the_committed_copies_are_current() -> None:
    assert stale_runtime_copies(RUNTIME_DIR, PACKAGE_DIR) == []


def test_every_copy_names_its_source_and_how_to_refresh_it() -> None:
    for source in RUNTIME_DIR.glob("*.py"):
        first = (PACKAGE_DIR / source.name).read_text(encoding="utf-8").splitlines()[0]
        assert first == (
            f"# Copied from spec/runtime/{source.name} by a post hook in spec/generator.yaml."
            " Edit that file, then run scripts/nox -s generate."
        )


def test_an_edited_source_stops_the_run_naming_the_copy_and_the_command(copies: tuple[Path, Path]) -> None:
    runtime, package = copies
    source = runtime / "_retry.py"
    source.write_text(source.read_text(encoding="utf-8") + "\n# an edit not yet generated\n", encoding="utf-8")

    with pytest.raises(pytest.UsageError) as caught:
        check_runtime_copies(runtime, package)

    message = str(caught.value)
    assert str(package / "_retry.py") in message
    assert "scripts/nox -s generate" in message
    assert "_auth.py" not in message


def test_a_new_source_without_a_copy_is_reported(copies: tuple[Path, Path]) -> None:
    runtime, package = copies
    (runtime / "_new.py").write_text('"""New."""\n', encoding="utf-8")
    assert stale_runtime_copies(runtime, package) == [
        f"{package / '_new.py'} is missing (a copy of {runtime / '_new.py'})"
    ]


def test_a_copy_whose_source_was_deleted_is_reported(copies: tuple[Path, Path]) -> None:
    runtime, package = copies
    (runtime / "_pacing.py").unlink()
    assert stale_runtime_copies(runtime, package) == [
        f"{package / '_pacing.py'} is a copy of {runtime / '_pacing.py'}, which no longer exists"
    ]


def test_unchanged_copies_pass(copies: tuple[Path, Path]) -> None:
    check_runtime_copies(*copies)


@pytest.mark.parametrize("conftest", ["tests.conftest", "contract_tests.conftest"])
def test_either_suite_alone_checks_the_copies_first(monkeypatch: pytest.MonkeyPatch, conftest: str) -> None:
    module = importlib.import_module(conftest)
    monkeypatch.setattr(runtime_copies, "stale_runtime_copies", lambda *_: ["_retry.py is not a copy of the current"])
    with pytest.raises(pytest.UsageError, match="scripts/nox -s generate"):
        module.pytest_configure(pytest.Config.__new__(pytest.Config))
