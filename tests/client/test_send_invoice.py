"""The send call's happy path and its answers, sync and async alike."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from leadway_invoices_client import ContractViolationError
from leadway_invoices_client.models import ErrorResponse, SendInvoiceResponse
from leadway_invoices_client.models.invoice_status import InvoiceStatus

from .conftest import INVOICE_ID, SUCCESS_BODY, TOKEN, Send, SendDetailed, Server, json_response


def test_success_returns_the_model_and_sends_one_well_formed_request(send: Send) -> None:
    server = Server()
    result = send(server.client())

    assert isinstance(result, SendInvoiceResponse)
    assert result.invoice.id == SUCCESS_BODY["invoice"]["_id"]
    assert result.invoice.status is InvoiceStatus.SENT
    assert server.sends == 1
    request = server.requests[0]
    assert request.method == "POST"
    assert request.url == f"https://api.test/invoices/{INVOICE_ID}/send"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    # The spec's Version header goes out without the caller passing it.
    assert request.headers["Version"] == "2021-07-28"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "altId": "6578278e879ad2646715ba9c",
        "altType": "location",
        "userId": "u1",
        "action": "email",
        "liveMode": False,
    }


def test_detailed_returns_the_whole_answer_with_an_int_status(send_detailed: SendDetailed) -> None:
    server = Server(json_response(200, SUCCESS_BODY, {"X-RateLimit-Remaining": "99"}))
    response = send_detailed(server.client())

    assert response.status_code == 200
    assert type(response.status_code) is int
    assert isinstance(response.parsed, SendInvoiceResponse)
    assert json.loads(response.content) == SUCCESS_BODY
    assert response.headers["X-RateLimit-Remaining"] == "99"


@pytest.mark.parametrize("status", [400, 404, 422, 499, 500, 520, 302])
def test_detailed_never_raises_for_an_answer(send_detailed: SendDetailed, status: int) -> None:
    server = Server(json_response(status, {"statusCode": status, "message": ["a", "b"]}))
    response = send_detailed(server.client())

    assert response.status_code == status
    assert isinstance(response.parsed, ErrorResponse) or response.parsed is None
    assert server.sends == 1


def test_detailed_keeps_an_off_spec_body_raw(send_detailed: SendDetailed) -> None:
    server = Server(json_response(200, [1, 2]))
    response = send_detailed(server.client())

    assert response.parsed is None
    assert response.content == b"[1, 2]"


def test_unknown_status_values_and_extra_keys_are_kept(send: Send) -> None:
    body = json.loads(json.dumps(SUCCESS_BODY))
    body["invoice"]["status"] = "archived"
    body["invoice"]["brandNew"] = {"x": 1}
    result = send(Server(json_response(200, body)).client())

    assert result.invoice.status == "archived"
    assert result.invoice.additional_properties["brandNew"] == {"x": 1}
    # Open objects read like dicts too, and send unknown fields back out.
    assert "brandNew" in result.invoice
    assert result.invoice["brandNew"] == {"x": 1}
    assert "brandNew" in result.invoice.additional_keys
    assert result.invoice.to_dict()["brandNew"] == {"x": 1}


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(SUCCESS_BODY))
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def _with(path: tuple[str, ...], value: object) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(SUCCESS_BODY))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


OFF_SPEC_BODIES = {
    "html": b"<html><body>502 Bad Gateway</body></html>",
    "truncated": json.dumps(SUCCESS_BODY).encode()[:300],
    "empty": b"",
    "not utf-8": b"\xff\xfe{",
    "json list": b"[]",
    "json string": b'"sent"',
    "json null": b"null",
    "missing invoice": json.dumps(_without(("invoice",))).encode(),
    "missing nested id": json.dumps(_without(("invoice", "_id"))).encode(),
    "invoice not an object": json.dumps(_with(("invoice",), "x")).encode(),
    "liveMode a string": json.dumps(_with(("invoice", "liveMode"), "yes")).encode(),
    "amountPaid a string": json.dumps(_with(("invoice", "amountPaid"), "0")).encode(),
    "amountPaid a bool": json.dumps(_with(("invoice", "amountPaid"), True)).encode(),
    "_id a number": json.dumps(_with(("invoice", "_id"), 5)).encode(),
    "invoiceItems an object": json.dumps(_with(("invoice", "invoiceItems"), {})).encode(),
    "item not an object": json.dumps(_with(("invoice", "invoiceItems"), [1])).encode(),
    "invoiceNumber a list": json.dumps(_with(("invoice", "invoiceNumber"), [])).encode(),
    "status a number": json.dumps(_with(("invoice", "status"), 3)).encode(),
    "address a number": json.dumps(_with(("invoice", "businessDetails", "address"), 3)).encode(),
    "customFields of numbers": json.dumps(_with(("invoice", "contactDetails", "customFields"), [1])).encode(),
    "smsData a list": json.dumps(_with(("smsData",), [])).encode(),
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("content", OFF_SPEC_BODIES.values(), ids=OFF_SPEC_BODIES.keys())
def test_an_off_spec_success_raises_contract_violation_with_the_raw_body(send: Send, content: bytes) -> None:
    server = Server(httpx.Response(200, content=content, headers={"Content-Type": "application/json"}))

    with pytest.raises(ContractViolationError) as caught:
        send(server.client())

    error = caught.value
    assert error.status_code == 200
    assert error.content == content
    assert error.invoice_id == INVOICE_ID
    assert not error.safe_to_retry
    assert server.sends == 1


def test_an_undocumented_success_status_is_a_contract_violation(send: Send) -> None:
    with pytest.raises(ContractViolationError, match="201"):
        send(Server(json_response(201, SUCCESS_BODY)).client())
