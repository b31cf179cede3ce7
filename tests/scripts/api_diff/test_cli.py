"""scripts/api_diff/cli.py end to end in a scratch clone: a spec edit and its regenerated model, rated
through the contract and Python views, the report, the last line and the exit status."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from scripts.api_diff import cli
from scripts.project import ROOT

from .test_base import git


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A repository holding what api-diff reads (spec, package, README, pyproject, usage), committed."""
    root = tmp_path / "clone"
    shutil.copytree(ROOT / "spec", root / "spec", ignore=shutil.ignore_patterns("__pycache__"))
    package = "generated/leadway_invoices_client"
    shutil.copytree(ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "pyproject.toml", "scripts/api_diff/usage.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, root / name)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_break_without_a_major_bump_fails(
    clone: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The type view runs mypy over the whole package twice: test_typed_usage.py tests it on a small one.
    monkeypatch.setattr(cli, "type_changes", lambda tree, root: [])
    replace(
        clone / "spec/openapi.yaml",
        "required: [altId, altType, userId, action, liveMode]",
        "required: [altId, altType, userId, action, liveMode, sentFrom]",
    )
    replace(  # what `generate` makes of it
        clone / "generated/leadway_invoices_client/models/send_invoice_request.py",
        "sent_from: SenderConfiguration | Unset = UNSET",
        "sent_from: SenderConfiguration",
    )
    report = tmp_path / "report.md"
    assert cli.run(clone, "HEAD", report, cache=tmp_path / "cache") == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[-1] == "required bump: major"
    assert "major  SendInvoiceRequest.sent_from: now required  [contract: field-now-required]" in lines
    assert "major  SendInvoiceRequest.sent_from: now required  [python: attrs:field-now-required]" in lines
    version = tomllib.loads((clone / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    major = int(version.split(".")[0]) + 1
    assert f"version {version} is not a major bump over {version}: set at least {major}.0.0" in err
    draft = report.read_text(encoding="utf-8")
    assert f"## [{major}.0.0] - unreleased" in draft  # the version the bump asks for
    views = "HTTP contract (spec), Python API (griffe)"
    assert f"- **Breaking:** `SendInvoiceRequest.sent_from`: now required (major; {views})" in draft

    replace(clone / "pyproject.toml", f'version = "{version}"', f'version = "{major}.0.0"')
    assert cli.run(clone, "HEAD", report, cache=tmp_path / "cache") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "required bump: major"


def test_nothing_changed_needs_no_bump(clone: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (clone / "README.md").write_text("edited", encoding="utf-8")  # not what is compared
    assert cli.run(clone, "HEAD", tmp_path / "report.md", cache=tmp_path / "cache") == 0
    out = capsys.readouterr().out
    assert "unchanged since the base: nothing to compare" in out
    assert out.splitlines()[-1] == "required bump: none"
    assert not (tmp_path / "cache").exists()


def test_a_base_that_is_not_there_is_one_clear_line(
    clone: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run(clone, None, tmp_path / "report.md") == 2
    out, err = capsys.readouterr()
    assert err == "api-diff: HEAD has no parent commit and there is no v* tag: name a base with --base REF\n"
    assert "Traceback" not in out + err
