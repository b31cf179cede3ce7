"""The spec changes, the API does not: a realistic change to a copy of the spec makes exchanges the API
still answers as before fail the contract checks, naming the problem; the same proofs for the send and
for the read.

A spec rewritten without a change passes first, so every failure is the change's doing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract_tests.api_changes import READ, READ_NOT_FOUND, REFUSED, SENT
from contract_tests.exchanges import ContractChecker, Exchange
from scripts.sandbox import READ_PATH, SPEC_PATH


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = spec["components"]["schemas"]
    return result


def _remove_action_value(spec: dict[str, Any]) -> None:
    action = _schemas(spec)["SendAction"]
    index = action["enum"].index("sms_and_email")
    del action["enum"][index], action["x-enum-varnames"][index]


def _amount_paid_becomes_string(spec: dict[str, Any]) -> None:
    _schemas(spec)["Invoice"]["properties"]["amountPaid"]["type"] = "string"


def _sent_from_becomes_required(spec: dict[str, Any]) -> None:
    _schemas(spec)["SendInvoiceRequest"]["required"].append("sentFrom")


def _rename_sms_data(spec: dict[str, Any]) -> None:
    response = _schemas(spec)["SendInvoiceResponse"]
    response["properties"]["smsDetails"] = response["properties"].pop("smsData")
    response["required"] = ["smsDetails" if r == "smsData" else r for r in response["required"]]


def _close_the_status_enum(spec: dict[str, Any]) -> None:
    invoice = _schemas(spec)["Invoice"]
    invoice["properties"]["status"] = {"$ref": "#/components/schemas/InvoiceStatus"}
    _schemas(spec)["InvoiceStatus"]["enum"].remove("sent")
    _schemas(spec)["InvoiceStatus"]["x-enum-varnames"].remove("SENT")


def _drop_422(spec: dict[str, Any]) -> None:
    del spec["paths"]["/invoices/{invoiceId}/send"]["post"]["responses"]["422"]


SPEC_CHANGES: dict[str, tuple[Callable[[dict[str, Any]], None], Exchange, str]] = {
    "enum value removed (action sms_and_email)": (_remove_action_value, SENT, "'sms_and_email' is not one of"),
    "type changed (amountPaid string)": (_amount_paid_becomes_string, SENT, 'is not of type "string"'),
    "request field newly required (sentFrom)": (
        _sent_from_becomes_required,
        SENT,
        "'sentFrom' is a required property",
    ),
    "response field renamed (smsData -> smsDetails)": (_rename_sms_data, SENT, '"smsDetails" is a required property'),
    "enum value removed (status sent, enum closed)": (_close_the_status_enum, SENT, '"sent" is not one of'),
    "status removed (422)": (_drop_422, REFUSED, "Undocumented status code"),
}


def _changed_spec(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    mutate(spec)
    changed = tmp_path / "openapi.yaml"
    changed.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return changed


@pytest.mark.parametrize("change", sorted(SPEC_CHANGES))
def test_a_spec_change_the_api_does_not_follow_fails_the_contract(tmp_path: Path, change: str) -> None:
    mutate, exchange, expected = SPEC_CHANGES[change]
    problems = ContractChecker(_changed_spec(tmp_path, mutate)).problems(exchange)
    assert any(expected in p for p in problems), problems


def test_a_rewritten_but_unchanged_spec_passes(tmp_path: Path) -> None:
    # The spec-change tests rewrite the YAML; prove the rewrite alone breaks nothing.
    checker = ContractChecker(_changed_spec(tmp_path, lambda spec: None))
    assert checker.problems(SENT) == []
    assert checker.response_problems(REFUSED) == []


def _updated_at_becomes_number(spec: dict[str, Any]) -> None:
    _schemas(spec)["Invoice"]["properties"]["updatedAt"]["type"] = "number"


def _read_drops_404(spec: dict[str, Any]) -> None:
    del spec["paths"][READ_PATH]["get"]["responses"]["404"]


def _read_needs_a_new_query(spec: dict[str, Any]) -> None:
    spec["paths"][READ_PATH]["get"]["parameters"].append(
        {"name": "fields", "in": "query", "required": True, "schema": {"type": "string"}}
    )


READ_SPEC_CHANGES: dict[str, tuple[Callable[[dict[str, Any]], None], Exchange, str]] = {
    "read: type changed (updatedAt number)": (_updated_at_becomes_number, READ, 'is not of type "number"'),
    "read: status removed (404)": (_read_drops_404, READ_NOT_FOUND, "Undocumented status code"),
    "read: query parameter newly required": (_read_needs_a_new_query, READ, "fields"),
}


@pytest.mark.parametrize("change", sorted(READ_SPEC_CHANGES))
def test_a_spec_change_to_the_read_fails_the_contract(tmp_path: Path, change: str) -> None:
    mutate, exchange, expected = READ_SPEC_CHANGES[change]
    problems = ContractChecker(_changed_spec(tmp_path, mutate)).problems(exchange)
    assert any(expected in p for p in problems), problems
