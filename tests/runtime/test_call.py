"""`_runtime/call.py`: one call of an operation, prepared once and sent as prepared. Every error of the
call carries what reconciliation needs (method, invoice, location, when it went out) and no token."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import pickle

import httpx
import pytest
from leadway_invoices_client import (
    AuthenticatedClient,
    ContractViolationError,
    LeadwayError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
)
from leadway_invoices_client._runtime import call as _call
from leadway_invoices_client._runtime.pacing import LOCATION as LOCATION_EXTENSION
from leadway_invoices_client._runtime.parsing import Reader
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import AltType, ErrorResponse, SendInvoiceResponse

from tests.mock_api import INVOICE_ID, LOCATION, TOKEN, Server, json_response, mock_client, request_body


def failed_send(server: Server) -> LeadwayError:
    with pytest.raises(LeadwayError) as caught:
        send_invoice.sync(INVOICE_ID, client=server.client(), body=request_body(LOCATION))
    return caught.value


def test_a_send_error_carries_its_invoice_location_and_time_but_no_token() -> None:
    server = Server(httpx.ReadTimeout("timed out"))
    before = dt.datetime.now(dt.UTC)
    error = failed_send(server)

    assert isinstance(error, OutcomeUnknownError)
    assert (error.invoice_id, error.alt_id, error.alt_type) == (INVOICE_ID, LOCATION, "location")
    assert error.attempted_at is not None
    assert before <= error.attempted_at <= dt.datetime.now(dt.UTC)
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.alt_id, copied.alt_type, copied.attempted_at) == (LOCATION, "location", error.attempted_at)
    assert TOKEN.encode() not in pickle.dumps(error)


def test_a_status_error_carries_them_too() -> None:
    server = Server(json_response(503, {"statusCode": 503, "message": "Service Unavailable"}))
    error = failed_send(server)

    assert isinstance(error, ServerError)
    assert (error.alt_id, error.alt_type, error.method) == (LOCATION, "location", "POST")


def test_a_prepared_send_carries_its_location_and_what_its_errors_need_only() -> None:
    call = send_invoice.prepare(INVOICE_ID, body=request_body("loc-7"))

    assert (call.method, call.path, call.operation) == ("POST", f"/invoices/{INVOICE_ID}/send", "send_invoice")
    assert (call.alt_id, call.alt_type, call.attempted_at) == ("loc-7", "location", None)
    assert call.json == request_body("loc-7").to_dict()
    moment = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    assert call.context(moment) == {
        "method": "POST",
        "invoice_id": INVOICE_ID,
        "alt_id": "loc-7",
        "alt_type": "location",
        "attempted_at": moment,
    }


@pytest.mark.parametrize("prepared", ["send", "read"])
def test_the_request_goes_out_as_prepared_naming_its_location_for_the_pacer(mode: str, prepared: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(200, {})

    client = mock_client(handler)
    call = (
        send_invoice.prepare(INVOICE_ID, body=request_body("loc-7"))
        if prepared == "send"
        else get_invoice.prepare(INVOICE_ID, alt_id="loc-7", alt_type=AltType.LOCATION)
    )
    if mode == "sync":
        response, context = _call.send(client, call)
    else:
        response, context = asyncio.run(_call.asend(client, call))

    [request] = seen
    assert response.status_code == 200
    assert request.extensions[LOCATION_EXTENSION] == "loc-7"
    assert (request.method, request.url.path) == (call.method, call.path)
    assert (json.loads(request.content) if request.content else None) == call.json
    assert dict(request.url.params) == (call.params or {})
    assert context["alt_id"] == "loc-7"
    assert isinstance(context["attempted_at"], dt.datetime)


def test_an_attempt_time_given_by_the_caller_is_the_one_every_error_carries(mode: str) -> None:
    moment = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    call = dataclasses.replace(send_invoice.prepare(INVOICE_ID, body=request_body()), attempted_at=moment)

    def send(client: AuthenticatedClient) -> object:
        if mode == "sync":
            return send_invoice.sync_prepared(call, client=client)
        return asyncio.run(send_invoice.asyncio_prepared(call, client=client))

    for reply in (httpx.ReadTimeout("timed out"), json_response(503, {"statusCode": 503, "message": "x"})):
        with pytest.raises(LeadwayError) as caught:
            send(Server(reply).client())
        assert caught.value.attempted_at == moment


def test_a_success_whose_body_is_unusable_is_a_contract_violation_naming_what_broke() -> None:
    response, context = _call.send(
        Server(json_response(200, [])).client(), send_invoice.prepare(INVOICE_ID, body=request_body())
    )
    with pytest.raises(ContractViolationError) as caught:
        _call.read_success(
            response,
            context,
            status=200,
            model=SendInvoiceResponse,
            error_model=ErrorResponse,
            strict=False,
            operation="send_invoice",
        )
    assert caught.value.reason.startswith("TypeError: $: expected object")
    assert (caught.value.invoice_id, caught.value.alt_id) == (INVOICE_ID, LOCATION)


def test_another_status_is_its_error_and_detailed_keeps_the_answer_unparsed() -> None:
    server = Server(json_response(200, []), json_response(404, {"statusCode": 404, "message": "no"}))
    client = server.client()
    call = send_invoice.prepare(INVOICE_ID, body=request_body())
    unusable, _ = _call.send(client, call)
    missing, context = _call.send(client, call)

    with pytest.raises(NotFoundError) as caught:
        _call.read_success(
            missing,
            context,
            status=200,
            model=SendInvoiceResponse,
            error_model=ErrorResponse,
            strict=False,
            operation="send_invoice",
        )
    assert caught.value.alt_id == LOCATION

    def parse(response: httpx.Response, reader: Reader) -> SendInvoiceResponse:
        return SendInvoiceResponse.from_dict(response.json(), reader)

    detailed = _call.read_detailed(unusable, parse, strict=False, method="POST", operation="send_invoice")
    assert (detailed.status_code, detailed.content, detailed.parsed) == (200, b"[]", None)
