"""Proof that the contract checks catch drift.

Each test applies one realistic API change to a copy, either of a cassette (the API changed, the
spec did not) or of the spec (the spec changed, the recorded API did not), runs the same
`ContractChecker` the cassette tests use, and asserts that it fails, naming the problem. Baselines
pass unchanged first, so every failure below is the mutation's doing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract_tests.exchanges import SPEC_PATH, ContractChecker, Exchange, dump_cassette, load_cassette
from contract_tests.strategies import example

INVOICE_URL = "http://127.0.0.1:8765/invoices/6578278e879ad2646715ba9c/send"
REQUEST_HEADERS = {
    "authorization": "Bearer REDACTED",
    "version": "2021-07-28",
    "content-type": "application/json",
}
RATE_LIMIT_HEADERS = {
    "content-type": "application/json",
    "x-ratelimit-limit-daily": "200000",
    "x-ratelimit-daily-remaining": "199999",
    "x-ratelimit-interval-milliseconds": "10000",
    "x-ratelimit-max": "100",
    "x-ratelimit-remaining": "99",
}


def _exchange(request: dict[str, Any], status: int, response: dict[str, Any], where: str) -> Exchange:
    return Exchange(
        "POST",
        INVOICE_URL,
        REQUEST_HEADERS,
        json.dumps(request).encode(),
        status,
        RATE_LIMIT_HEADERS,
        json.dumps(response).encode(),
        where,
    )


SENT = _exchange(example("request", "emailAndSms"), 200, example("response", "leadwayPage"), "sent")
REFUSED = _exchange(
    {**example("request", "emailAndSms"), "action": "fax"},
    422,
    {"statusCode": 422, "message": ["action must be one of sms_and_email, send_manually, email, sms"]},
    "refused",
)


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker()


def test_the_baselines_pass_unchanged(checker: ContractChecker) -> None:
    assert checker.problems(SENT) == []
    # The refused request breaks the request schema by design; its answer is what is checked.
    assert checker.response_problems(REFUSED) == []


# --- the API changes, the spec does not (a mutated copy of a cassette) -----------------------------


def _response_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Exchange], Exchange]:
    def apply(exchange: Exchange) -> Exchange:
        body = exchange.response_json()
        change(body)
        return replace(exchange, response_body=json.dumps(body).encode())

    return apply


def _request_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Exchange], Exchange]:
    def apply(exchange: Exchange) -> Exchange:
        body = exchange.request_json()
        change(body)
        return replace(exchange, request_body=json.dumps(body).encode())

    return apply


def _rename_id(body: dict[str, Any]) -> None:
    body["invoice"]["id"] = body["invoice"].pop("_id")


def _rename_email_data(body: dict[str, Any]) -> None:
    body["emailDetails"] = body.pop("emailData")


def _live_mode_as_string(body: dict[str, Any]) -> None:
    body["invoice"]["liveMode"] = "false"


def _amount_as_string(body: dict[str, Any]) -> None:
    body["invoice"]["amountPaid"] = "0.00"


def _items_as_strings(body: dict[str, Any]) -> None:
    body["invoice"]["invoiceItems"] = ["c6tZZU0rJBf30ZXx9Gli"]


def _new_action(body: dict[str, Any]) -> None:
    body["action"] = "whatsapp"


def _drop_user_id(body: dict[str, Any]) -> None:
    del body["userId"]


def _html_answer(exchange: Exchange) -> Exchange:
    headers = {**exchange.response_headers, "content-type": "text/html"}
    return replace(exchange, response_headers=headers, response_body=b"<html>Bad Gateway</html>")


def _undocumented_status(exchange: Exchange) -> Exchange:
    return replace(exchange, status=409)


def _rate_limit_header_not_a_number(exchange: Exchange) -> Exchange:
    return replace(exchange, response_headers={**exchange.response_headers, "x-ratelimit-remaining": "many"})


CASSETTE_CHANGES: dict[str, tuple[Callable[[Exchange], Exchange], str]] = {
    "response field renamed (_id -> id)": (_response_change(_rename_id), '"_id" is a required property'),
    "response field renamed (emailData)": (
        _response_change(_rename_email_data),
        '"emailData" is a required property',
    ),
    "response type changed (liveMode string)": (
        _response_change(_live_mode_as_string),
        'is not of type "boolean"',
    ),
    "response type changed (amountPaid string)": (
        _response_change(_amount_as_string),
        'is not of type "number"',
    ),
    "response type changed (items as ids)": (_response_change(_items_as_strings), 'is not of type "object"'),
    "request enum value the spec lacks": (_request_change(_new_action), "'whatsapp' is not one of"),
    "request lost a required field": (_request_change(_drop_user_id), "'userId' is a required property"),
    "answer became HTML": (_html_answer, "Undocumented Content-Type"),
    "undocumented status": (_undocumented_status, "Undocumented status code"),
    "rate-limit header not an integer": (_rate_limit_header_not_a_number, 'is not of type "integer"'),
}


@pytest.mark.parametrize("change", sorted(CASSETTE_CHANGES))
def test_an_api_change_recorded_in_a_cassette_fails_the_contract(
    checker: ContractChecker, tmp_path: Path, change: str
) -> None:
    mutate, expected = CASSETTE_CHANGES[change]
    cassette = tmp_path / "changed.yaml"
    dump_cassette([mutate(SENT)], cassette)
    [exchange] = load_cassette(cassette)
    problems = checker.problems(exchange)
    assert any(expected in p for p in problems), problems


def test_a_new_invoice_status_is_tolerated_by_design(checker: ContractChecker) -> None:
    # `status` is an open enum: an upstream status we do not know yet must not fail anyone's CI.
    def archive(body: dict[str, Any]) -> None:
        body["invoice"]["status"] = "archived"

    assert checker.problems(_response_change(archive)(SENT)) == []


# --- the spec changes, the API does not (a mutated copy of the spec) -------------------------------


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
