"""`cli/__init__.py` and `cli/__main__.py`: the console script, which says in one line what to install
when the `[cli]` extra is missing, and `python -m leadway_invoices_client.cli`."""

from __future__ import annotations

import importlib.util
import io
import runpy
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest
from leadway_invoices_client import cli


@pytest.mark.parametrize("missing", cli.DEPENDENCIES)
def test_without_the_extra_the_command_says_what_to_install(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str) -> ModuleSpec | None:
        assert name in cli.DEPENDENCIES
        return None if name == missing else real_find_spec(name)

    monkeypatch.setattr(cli, "find_spec", find_spec)
    out, err = io.StringIO(), io.StringIO()

    assert cli.main(["send", "invoices.csv"], environ={}, stdout=out, stderr=err) == cli.USAGE_ERROR == 2
    assert out.getvalue() == ""
    assert err.getvalue() == (
        "leadway-invoices: error: the command line needs the [cli] extra: pip install 'leadway-invoices-client[cli]'\n"
    )


def test_the_module_runs_the_command_and_exits_with_its_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "argv", ["leadway-invoices", "send", str(tmp_path / "missing.csv"), "--dry-run"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("leadway_invoices_client.cli", run_name="__main__")

    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith("leadway-invoices: error: cannot read")
