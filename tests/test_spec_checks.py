"""The spec is valid OpenAPI 3.1, and every example in it validates against its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scripts.project import SPEC_PATH as SPEC
from scripts.spec_checks import SpecError, check_examples, check_spec, iter_examples, load_spec


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_spec(SPEC)


def test_the_spec_passes_every_check() -> None:
    check_spec(SPEC)


def test_the_leadway_page_examples_are_among_those_checked(document: dict[str, Any]) -> None:
    where = {pointer for pointer, _, _ in iter_examples(document)}
    operation = "#/paths/~1invoices~1{invoiceId}~1send/post"
    assert f"{operation}/requestBody/content/application~1json/examples/emailAndSms" in where
    assert f"{operation}/responses/200/content/application~1json/examples/leadwayPage" in where
    assert "#/components/responses/UnprocessableEntity/content/application~1json/example" in where
    assert "#/components/parameters/InvoiceId/example" in where
    assert len(where) >= 15


def test_every_example_validates(document: dict[str, Any]) -> None:
    assert check_examples(document) == []


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        # The sources disagree on these; the spec accepts every shape one of them shows.
        ("AltType", "account"),
        ("AltType", "location"),
        ("Invoice/properties/invoiceNumber", "19"),
        ("Invoice/properties/invoiceNumber", 19),
        ("Invoice/properties/status", "a-status-nobody-has-seen-yet"),
        ("BusinessDetails/properties/address", "9931 Beechwood, TX"),
        ("BusinessDetails/properties/address", {"city": "St. Houston"}),
        ("ErrorResponse/properties/message", ["one", "two"]),
        ("ErrorResponse/properties/message", "one"),
    ],
)
def test_the_spec_widens_where_the_sources_disagree(document: dict[str, Any], schema: str, value: Any) -> None:
    node = document["components"]["schemas"]
    for part in schema.split("/"):
        node = node[part]
    node["examples"] = [value]
    assert check_examples(document) == []


def test_a_bad_example_is_reported_with_where_and_why(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["Card"]["examples"] = [{"brand": "visa"}]

    problems = check_examples(document)

    assert problems == [
        "example #/components/schemas/Card/examples/0 breaks its schema at (root): 'last4' is a required property"
    ]


def test_unreadable_and_non_mapping_specs_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read"):
        check_spec(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not an OpenAPI document"):
        check_spec(tmp_path / "list.yaml")
