"""The drift check: generated/ is the golden record of what spec/ and the pinned generator produce."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contract_tests.project import GENERATED_DIR, PACKAGE
from scripts import generate
from scripts.spec_checks import SpecError


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package generated once from the real spec, for every test that only reads it.

    Only tests about regeneration itself (another spec, the generate command) generate again.
    """
    return generate.generate_into(tmp_path_factory.mktemp("fresh") / "out")


def test_committed_tree_matches_what_the_spec_generates(fresh: Path) -> None:
    assert generate.tree_diff(fresh.parent, GENERATED_DIR) == []


def test_generation_is_byte_identical_run_to_run(fresh: Path, tmp_path: Path) -> None:
    second = generate.generate_into(tmp_path / "two")
    assert generate.tree_diff(fresh.parent, second.parent) == []
    assert (fresh / "py.typed").exists()
    assert not list(fresh.rglob(".ruff_cache")), "ruff's cache must not land in the package"


def test_drift_fails_with_a_diff_after_a_one_character_schema_change(
    spec_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One character: the business logo property logoUrl becomes logoUri.
    _edit(spec_copy / "openapi.yaml", "        logoUrl: {", "        logoUri: {")

    status = generate.main(["drift", "--spec-dir", str(spec_copy)])

    out = capsys.readouterr().out
    assert status == 1
    assert "--- generated/leadway_invoices_client/models/business_details.py" in out
    assert '-        logo_url = d.pop("logoUrl", UNSET)' in out
    assert '+        logo_uri = d.pop("logoUri", UNSET)' in out
    assert "run `scripts/nox -s generate`" in out


def test_drift_reports_extra_missing_and_changed_files(fresh: Path, tmp_path: Path) -> None:
    committed = tmp_path / "generated"
    shutil.copytree(GENERATED_DIR, committed, ignore=shutil.ignore_patterns("__pycache__"))
    package = committed / PACKAGE
    (package / "stale_module.py").write_text("x = 1\n", encoding="utf-8")
    (package / "models" / "card.py").unlink()
    with (package / "types.py").open("a", encoding="utf-8") as handle:
        handle.write("# hand edit\n")

    diff = "".join(generate.tree_diff(fresh.parent, committed))

    assert "--- generated/leadway_invoices_client/stale_module.py\n+++ /dev/null" in diff
    assert "--- /dev/null\n+++ generated/leadway_invoices_client/models/card.py" in diff
    assert "-# hand edit" in diff


def test_an_invalid_spec_fails_before_generation(spec_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(spec_copy / "openapi.yaml", "openapi: 3.1.0", "openapi: 3.1.0\nwebhooks: 12")

    status = generate.main(["drift", "--spec-dir", str(spec_copy)])

    assert status == 1
    assert "is not valid OpenAPI" in capsys.readouterr().err


def test_an_example_that_breaks_its_schema_fails(spec_copy: Path) -> None:
    page_body = "action: sms_and_email\n                  liveMode: true"
    _edit(spec_copy / "openapi.yaml", page_body, page_body.replace("sms_and_email", "fax"))

    with pytest.raises(SpecError, match=r"examples/emailAndSms.*action.*'fax' is not one of"):
        generate.drift(spec_dir=spec_copy)


def test_a_generator_warning_fails_instead_of_silently_dropping_the_endpoint(spec_copy: Path) -> None:
    # A const header parameter is valid OpenAPI but the generator skips the endpoint with a warning.
    _edit(spec_copy / "openapi.yaml", '        enum: ["2021-07-28"]\n', '        const: "2021-07-28"\n')

    with pytest.raises(generate.GenerationError, match="Endpoint will not be generated"):
        generate.drift(spec_dir=spec_copy)


def test_generate_replaces_the_whole_tree(spec_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "generated"
    (output / PACKAGE).mkdir(parents=True)
    (output / PACKAGE / "leftover.py").write_text("stale = True\n", encoding="utf-8")

    assert generate.main(["generate", "--spec-dir", str(spec_copy), "--output-dir", str(output)]) == 0

    assert not (output / PACKAGE / "leftover.py").exists()
    assert generate.tree_diff(GENERATED_DIR, output) == []
