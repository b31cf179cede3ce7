"""Proof that the contract checks catch drift.

Each test applies one realistic API change and asserts that the checks fail, naming the problem:

* to a copy of a cassette (the API changed, the spec did not): a spec example exchange and a
  recorded one, through the same `ContractChecker` the cassette tests use, and through the
  generated client replaying the drifted cassette;
* to a copy of the spec (the spec changed, the recorded API did not);
* to the sandbox itself (an ASGI wrapper rewriting its answers): the in-process schemathesis run.

The same proofs run for both calls: the send, and the read reconciliation relies on.

Baselines (and a wrapper that changes nothing) pass first, so every failure is the change's doing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
import vcr
import yaml
from hypothesis import given
from hypothesis import strategies as st
from leadway_invoices_client import AuthenticatedClient, errors
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import AltType, SendInvoiceRequest
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from contract_tests import CASSETTES
from contract_tests.budget import contract_settings
from contract_tests.exchanges import (
    SINGLE_POST_CHECKS,
    ContractChecker,
    Exchange,
    dump_cassette,
    load_cassette,
)
from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    READ_PATH,
    SEND_PATH,
    SPEC_PATH,
    SandboxConfig,
    create_app,
    example,
)
from scripts.sandbox import SPEC_SERVER_URL as SANDBOX_URL

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


# --- the same proof on a recorded cassette, and through the generated client ----------------------

RECORDED_CASSETTE = CASSETTES / "sandbox" / "sync" / "sent-from.yaml"


@pytest.mark.parametrize("change", sorted(CASSETTE_CHANGES))
def test_an_api_change_in_a_copy_of_a_recorded_cassette_fails_the_contract(
    checker: ContractChecker, tmp_path: Path, change: str
) -> None:
    [recorded] = load_cassette(RECORDED_CASSETTE)
    assert checker.problems(recorded) == []
    mutate, expected = CASSETTE_CHANGES[change]
    cassette = tmp_path / "changed.yaml"
    dump_cassette([mutate(recorded)], cassette)
    [exchange] = load_cassette(cassette)
    problems = checker.problems(exchange)
    assert any(expected in p for p in problems), problems


@pytest.mark.block_network
@pytest.mark.parametrize(
    ("change", "named"),
    [(_rename_id, "_id"), (_rename_email_data, "emailData"), (_live_mode_as_string, "liveMode")],
)
def test_the_client_replaying_a_drifted_cassette_raises_its_typed_error(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], named: str
) -> None:
    [recorded] = load_cassette(RECORDED_CASSETTE)
    cassette = tmp_path / "drifted.yaml"
    dump_cassette([_response_change(change)(recorded)], cassette)
    client = AuthenticatedClient(base_url=SANDBOX_URL, token="replay", retry=None, strict=True)
    body = SendInvoiceRequest.from_dict(recorded.request_json())
    with (
        vcr.VCR(record_mode="none").use_cassette(str(cassette)),
        pytest.raises(errors.ContractViolationError) as caught,
    ):
        send_invoice.sync(urlsplit(recorded.url).path.split("/")[2], client=client, body=body)
    assert named in str(caught.value)


# --- the same proof for schemathesis: a sandbox that drifted fails the in-process run -------------


def _drifted(app: Any, change: Callable[[int, Any], tuple[int, Any]]) -> Any:
    """`app` with every JSON answer passed through `change(status, body) -> (status, body)`."""

    async def drifted(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            raw = b"".join(chunks)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            status = start["status"]
            if (dict(headers).get(b"content-type") or b"").startswith(b"application/json"):
                status, document = change(status, json.loads(raw))
                raw = json.dumps(document).encode()
            headers.append((b"content-length", str(len(raw)).encode()))
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": raw})

        await app(scope, receive, capture)

    return drifted


def _renamed_id(status: int, body: Any) -> tuple[int, Any]:
    if status == 200:
        body["invoice"]["id"] = body["invoice"].pop("_id")
    return status, body


def _accepts_anything(status: int, body: Any) -> tuple[int, Any]:
    return (200, example("response", "leadwayPage")) if status == 422 else (status, body)


def _gone_instead_of_not_found(status: int, body: Any) -> tuple[int, Any]:
    return (410, body) if status == 404 else (status, body)


def _ignores_auth(status: int, body: Any) -> tuple[int, Any]:
    return (200, example("response", "leadwayPage")) if status == 401 else (status, body)


def _unchanged(status: int, body: Any) -> tuple[int, Any]:
    return status, body


SANDBOX_DRIFTS: dict[str, tuple[Callable[[int, Any], tuple[int, Any]], str | None]] = {
    "no drift (the wrapper alone changes nothing)": (_unchanged, None),
    "response field renamed": (_renamed_id, "Response violates schema"),
    "invalid requests accepted": (_accepts_anything, "Schema-violating request accepted"),
    "undocumented status": (_gone_instead_of_not_found, "Undocumented status code"),
    "authentication ignored": (_ignores_auth, "API accepts requests without authentication"),
}


@pytest.mark.parametrize("drift", sorted(SANDBOX_DRIFTS))
def test_schemathesis_fails_on_a_sandbox_that_drifted(drift: str) -> None:
    change, expected = SANDBOX_DRIFTS[drift]
    schema = schemathesis.openapi.from_path(SPEC_PATH)
    schema.app = _drifted(create_app(SandboxConfig(burst_limit=1_000_000)), change)
    operation = schema[SEND_PATH]["POST"]
    failures: set[str] = set()

    def check(case: Any) -> None:
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, checks=SINGLE_POST_CHECKS)
        except FailureGroup as group:
            failures.update(str(getattr(f, "title", f)) for f in group.exceptions)

    # The spec's own example first: generated invoice ids are mostly unknown (404), and some checks
    # (ignored_auth) only probe after a successful answer.
    check(
        operation.Case(
            path_parameters={"invoiceId": DRAFT_INVOICE_ID},
            headers={"Version": "2021-07-28"},
            body=example("request", "emailAndSms"),
            media_type="application/json",
        )
    )
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]

    @contract_settings(40)
    @given(case=st.one_of(strategies))
    def generated(case: Any) -> None:
        check(case)

    generated()
    if expected is None:
        assert failures == set()
    else:
        assert any(expected in title for title in failures), failures


# --- the read (GET /invoices/{invoiceId}): the same proofs ------------------------------------------

READ_URL = f"http://127.0.0.1:8765/invoices/{DRAFT_INVOICE_ID}?altId=6578278e879ad2646715ba9c&altType=location"
READ_BODY = example("response", "upstreamExample", path=READ_PATH, method="get")
READ = replace(
    SENT,
    method="GET",
    url=READ_URL,
    request_headers={k: v for k, v in REQUEST_HEADERS.items() if k != "content-type"},
    request_body=None,
    response_body=json.dumps(READ_BODY).encode(),
    where="read",
)
READ_NOT_FOUND = replace(
    READ, status=404, response_body=b'{"statusCode": 404, "message": "Invoice not found"}', where="read 404"
)


def _read_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Exchange], Exchange]:
    def apply(exchange: Exchange) -> Exchange:
        body = exchange.response_json()
        change(body)
        return replace(exchange, response_body=json.dumps(body).encode())

    return apply


def _query(query: str) -> Callable[[Exchange], Exchange]:
    return lambda exchange: replace(exchange, url=exchange.url.split("?")[0] + query)


def _read_renamed_id(body: dict[str, Any]) -> None:
    body["id"] = body.pop("_id")


def _read_status_a_number(body: dict[str, Any]) -> None:
    body["status"] = 1


def _read_updated_at_a_number(body: dict[str, Any]) -> None:
    body["updatedAt"] = 1701768462355


def _read_reminders_a_list(body: dict[str, Any]) -> None:
    body["remindersConfiguration"]["reminderSettings"]["reminders"] = "none"


READ_CHANGES: dict[str, tuple[Callable[[Exchange], Exchange], str]] = {
    "read: field renamed (_id -> id)": (_read_change(_read_renamed_id), '"_id" is a required property'),
    "read: status became a number": (
        _read_change(_read_status_a_number),
        "'anyOf' keyword",
    ),
    "read: updatedAt became a number": (_read_change(_read_updated_at_a_number), 'is not of type "string"'),
    "read: reminders not a list": (_read_change(_read_reminders_a_list), 'is not of type "array"'),
    "read: answer became HTML": (_html_answer, "Undocumented Content-Type"),
    "read: undocumented status": (_undocumented_status, "Undocumented status code"),
    "read: query lost altType": (_query("?altId=6578278e879ad2646715ba9c"), "altType"),
    "read: altType value the spec lacks": (_query("?altId=6578278e879ad2646715ba9c&altType=galaxy"), "galaxy"),
}


def test_the_read_baselines_pass_unchanged(checker: ContractChecker) -> None:
    assert checker.problems(READ) == []
    assert checker.problems(READ_NOT_FOUND) == []


@pytest.mark.parametrize("change", sorted(READ_CHANGES))
def test_an_api_change_to_the_read_fails_the_contract(checker: ContractChecker, tmp_path: Path, change: str) -> None:
    mutate, expected = READ_CHANGES[change]
    cassette = tmp_path / "changed.yaml"
    dump_cassette([mutate(READ)], cassette)
    [exchange] = load_cassette(cassette)
    problems = checker.problems(exchange)
    assert any(expected in p for p in problems), problems


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


RECORDED_READ = CASSETTES / "sandbox" / "sync" / "read-draft.yaml"


# The sandbox's seed has no remindersConfiguration to change.
@pytest.mark.parametrize("change", sorted(c for c in READ_CHANGES if "reminders" not in c))
def test_an_api_change_in_a_copy_of_a_recorded_read_fails_the_contract(
    checker: ContractChecker, tmp_path: Path, change: str
) -> None:
    [recorded] = load_cassette(RECORDED_READ)
    assert checker.problems(recorded) == []
    mutate, expected = READ_CHANGES[change]
    cassette = tmp_path / "changed.yaml"
    dump_cassette([mutate(recorded)], cassette)
    [exchange] = load_cassette(cassette)
    problems = checker.problems(exchange)
    assert any(expected in p for p in problems), problems


@pytest.mark.block_network
@pytest.mark.parametrize(("change", "named"), [(_read_renamed_id, "_id"), (_read_updated_at_a_number, "updatedAt")])
def test_the_client_replaying_a_drifted_read_raises_its_typed_error(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], named: str
) -> None:
    [recorded] = load_cassette(RECORDED_READ)
    cassette = tmp_path / "drifted.yaml"
    dump_cassette([_read_change(change)(recorded)], cassette)
    client = AuthenticatedClient(base_url=SANDBOX_URL, token="replay", retry=None, strict=True)
    with (
        vcr.VCR(record_mode="none").use_cassette(str(cassette)),
        pytest.raises(errors.ContractViolationError) as caught,
    ):
        get_invoice.sync(DRAFT_INVOICE_ID, client=client, alt_id="6578278e879ad2646715ba9c", alt_type=AltType.LOCATION)
    assert named in str(caught.value)
    assert caught.value.method == "GET"


def _read_renamed_id_in_answer(status: int, body: Any) -> tuple[int, Any]:
    if status == 200 and isinstance(body, dict) and "_id" in body:
        body["id"] = body.pop("_id")
    return status, body


READ_DRIFTS: dict[str, tuple[Callable[[int, Any], tuple[int, Any]], str | None]] = {
    "read: no drift (the wrapper alone changes nothing)": (_unchanged, None),
    "read: response field renamed": (_read_renamed_id_in_answer, "Response violates schema"),
    "read: undocumented status": (_gone_instead_of_not_found, "Undocumented status code"),
    "read: authentication ignored": (_ignores_auth, "API accepts requests without authentication"),
}


@pytest.mark.parametrize("drift", sorted(READ_DRIFTS))
def test_schemathesis_fails_on_a_sandbox_whose_read_drifted(drift: str) -> None:
    change, expected = READ_DRIFTS[drift]
    schema = schemathesis.openapi.from_path(SPEC_PATH)
    schema.app = _drifted(create_app(SandboxConfig(burst_limit=1_000_000)), change)
    operation = schema[READ_PATH]["GET"]
    failures: set[str] = set()

    def check(case: Any) -> None:
        try:
            case.call_and_validate(headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, checks=SINGLE_POST_CHECKS)
        except FailureGroup as group:
            failures.update(str(getattr(f, "title", f)) for f in group.exceptions)

    # The seeded draft first: generated ids are mostly unknown (404), and ignored_auth probes only
    # after a successful answer.
    check(
        operation.Case(
            path_parameters={"invoiceId": DRAFT_INVOICE_ID},
            query={"altId": "6578278e879ad2646715ba9c", "altType": "location"},
            headers={"Version": "2021-07-28"},
        )
    )
    strategies = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]

    @contract_settings(40)
    @given(case=st.one_of(strategies))
    def generated(case: Any) -> None:
        check(case)

    generated()
    if expected is None:
        assert failures == set()
    else:
        assert any(expected in title for title in failures), failures
