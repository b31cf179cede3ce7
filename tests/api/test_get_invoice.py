"""`api/invoices/get_invoice.py`: the read, its checked parameters, its typed errors naming the read,
tolerant or strict reading, and over a socket what a send changes."""

from __future__ import annotations

import asyncio
import json
import pickle
from typing import Any

import pytest
from leadway_invoices_client import (
    AuthenticatedClient,
    AuthenticationError,
    ContractViolationError,
    NotFoundError,
    Pacer,
    PermissionDeniedError,
)
from leadway_invoices_client._runtime.pacing import Ticket
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import AltType, ApiVersion, ErrorResponse, Invoice
from leadway_invoices_client.models.invoice_status import InvoiceStatus
from leadway_invoices_client.types import Unset

from scripts.sandbox import DEFAULT_TOKEN, DRAFT_INVOICE_ID, SEED_LOCATIONS, create_app, serve_in_thread
from tests.mock_api import INVOICE_ID, LOCATION, READ_BODY, TOKEN, Read, Server, error_body, json_response, request_body


def test_a_read_is_one_get_with_the_location_in_the_query(read: Read) -> None:
    server = Server(json_response(200, READ_BODY))
    result = read(server.client())

    assert isinstance(result, Invoice)
    assert (result.id, result.status) == (INVOICE_ID, InvoiceStatus.SENT)
    assert result.updated_at == READ_BODY["updatedAt"]
    assert result.deviations == ()
    request = server.requests[0]
    assert (request.method, request.url.path) == ("GET", f"/invoices/{INVOICE_ID}")
    assert dict(request.url.params) == {"altId": LOCATION, "altType": "location"}
    assert request.headers["Version"] == "2021-07-28"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.content == b""


def test_the_upstream_example_reads_its_reminders_and_totals(read: Read) -> None:
    result = read(Server(json_response(200, READ_BODY)).client())

    assert not isinstance(result.total_summary, Unset)
    assert result.total_summary.tax == 0
    assert not isinstance(result.reminders_configuration, Unset)
    settings = result.reminders_configuration.reminder_settings
    assert not isinstance(settings, Unset)
    assert not isinstance(settings.reminders, Unset)
    assert settings.reminders[0].reminder_invoice_condition == "invoice_sent"


def test_an_alt_type_given_as_its_string_is_accepted(read: Read) -> None:
    server = Server(json_response(200, READ_BODY))
    read(server.client(), alt_type="location")

    assert server.requests[0].url.params["altType"] == "location"


def test_a_deviating_answer_is_returned_tolerantly_and_raised_strictly(read: Read) -> None:
    body = {**READ_BODY, "total": "999", "invoiceItems": ["a string"]}
    tolerant = read(Server(json_response(200, body)).client())

    assert isinstance(tolerant.total, Unset)
    assert {d.path for d in tolerant.deviations} >= {"$.total", "$.invoiceItems[0]"}
    with pytest.raises(ContractViolationError) as caught:
        read(Server(json_response(200, body)).client(), strict=True)
    assert (caught.value.method, caught.value.invoice_id, caught.value.alt_id) == ("GET", INVOICE_ID, LOCATION)


def test_an_answer_without_the_rate_limit_headers_is_read_even_strictly_and_not_paced(read: Read) -> None:
    # The spec requires the five X-RateLimit-* headers on a 2xx, for the contract checks; the client
    # stays tolerant of their absence: strict mode judges the body, and the pacer does not wait.
    server = Server(json_response(200, READ_BODY))
    pacer = Pacer()
    client = server.client(pacer=pacer)
    for _ in range(3):
        assert read(client, strict=True).id == INVOICE_ID
    assert len(server.requests) == 3
    assert not any(name.lower().startswith("x-ratelimit") for name in json_response(200, READ_BODY).headers)
    assert isinstance(pacer.acquire(LOCATION), Ticket), "no budget was read, so nothing to wait for"


def test_an_answer_without_id_and_status_is_a_contract_violation(read: Read) -> None:
    with pytest.raises(ContractViolationError):
        read(Server(json_response(200, {"status": "sent"})).client())


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError)],
)
def test_error_statuses_are_typed_errors_naming_the_read(read: Read, status: int, error: type[Exception]) -> None:
    server = Server(error_body(status))
    with pytest.raises(error) as caught:
        read(server.client())

    assert str(caught.value).startswith(f"GET invoice {INVOICE_ID}: {status}")
    assert server.sends == 1
    assert TOKEN.encode() not in pickle.dumps(caught.value)
    assert TOKEN not in repr(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alt_id": ""}, "alt_id must not be empty"),
        ({"alt_id": 5}, "alt_id must be a string"),
        ({"alt_id": "x" * 129}, "at most 128"),
        ({"alt_id": "a\r\nb"}, "alt_id contains a control"),
        ({"alt_type": "galaxy"}, "alt_type must be one of 'account', 'location'"),
        ({"alt_type": None}, "alt_type must be one of"),
        ({"invoice_id": ".."}, "would change the request's path"),
    ],
)
def test_bad_parameters_are_refused_before_any_io(read: Read, kwargs: dict[str, Any], message: str) -> None:
    server = Server()
    with pytest.raises(ValueError, match=message):
        read(server.client(), **kwargs)
    assert server.sends == 0


def test_detailed_returns_every_answer() -> None:
    ok = get_invoice.sync_detailed(
        INVOICE_ID, client=Server(json_response(200, READ_BODY)).client(), alt_id=LOCATION, alt_type=AltType.LOCATION
    )
    missing = get_invoice.sync_detailed(
        INVOICE_ID, client=Server(error_body(404)).client(), alt_id=LOCATION, alt_type=AltType.LOCATION
    )

    assert isinstance(ok.parsed, Invoice)
    assert (missing.status_code, type(missing.parsed)) == (404, ErrorResponse)


def test_a_send_changes_what_the_sandbox_read_returns() -> None:
    app = create_app()
    with serve_in_thread(app) as base_url:
        client = AuthenticatedClient(base_url, DEFAULT_TOKEN)
        kwargs: dict[str, Any] = {"client": client, "alt_id": SEED_LOCATIONS[0], "alt_type": AltType.LOCATION}
        before = get_invoice.sync(DRAFT_INVOICE_ID, **kwargs)
        send_invoice.sync(DRAFT_INVOICE_ID, client=client, body=request_body(SEED_LOCATIONS[0]))
        after = asyncio.run(get_invoice.asyncio(DRAFT_INVOICE_ID, **kwargs))

    assert (before.status, after.status) == (InvoiceStatus.DRAFT, InvoiceStatus.SENT)
    assert isinstance(before.updated_at, str)
    assert isinstance(after.updated_at, str)
    assert after.updated_at > before.updated_at
    assert (before.deviations, after.deviations) == ((), ())
    assert "sentAt" not in json.dumps(after.raw)


@pytest.mark.parametrize("version", list(ApiVersion))
def test_every_api_version_the_spec_names_sends_and_reads_strictly_against_the_sandbox(version: ApiVersion) -> None:
    # 2021-07-28 (the default), v3 (upstream's v3 document and Python SDK), 2023-02-21 (its TypeScript SDK).
    app, versions = create_app(), []

    async def recording(scope: Any, receive: Any, send: Any) -> None:  # the Version the sandbox received
        versions.append(dict(scope["headers"]).get(b"version", b"").decode())
        await app(scope, receive, send)

    with serve_in_thread(recording) as base_url:
        client = AuthenticatedClient(base_url, DEFAULT_TOKEN, api_version=version.value, strict=True)
        sent = send_invoice.sync(DRAFT_INVOICE_ID, client=client, body=request_body(SEED_LOCATIONS[0]))
        read = get_invoice.sync(DRAFT_INVOICE_ID, client=client, alt_id=SEED_LOCATIONS[0], alt_type=AltType.LOCATION)

    assert (sent.invoice.status, read.status) == (InvoiceStatus.SENT, InvoiceStatus.SENT)
    assert versions == [version.value, version.value]
    assert {str(v) for v in ApiVersion} == {"2021-07-28", "v3", "2023-02-21"}
