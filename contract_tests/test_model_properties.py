"""Property tests of the generated package against the spec.

Every spec-valid request body goes on the wire unchanged; every spec-valid response, also with
unknown properties and unknown invoice statuses, parses strictly and round-trips losslessly; a 200
answer that breaks the spec fails a strict client with the typed `ContractViolationError`, never a bare
KeyError. (The default, tolerant client returns such answers: see test_upstream_answers.py.)
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from leadway_invoices_client import AuthenticatedClient, errors
from leadway_invoices_client._runtime.parsing import Reader
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import ErrorResponse, InvoiceStatus, SendInvoiceRequest, SendInvoiceResponse

from contract_tests.budget import contract_settings, tally
from contract_tests.strategies import (
    INVOICE_STATUSES,
    request_bodies,
    response_bodies,
    response_schemas,
    unknown_statuses,
    with_unknown_properties,
)
from scripts.sandbox import example, load_spec

INVOICE_ID = "6578278e879ad2646715ba9c"
STRICT = Reader(strict=True)  # never collects anything: the first deviation raises
ERROR_STATUSES = sorted(status for status in response_schemas() if status != "200")
VALID_REQUEST = example("request", "emailAndSms")
VALID_RESPONSE = example("response", "leadwayPage")


def client_answering(status: int, content: bytes, sent: list[httpx.Request] | None = None) -> AuthenticatedClient:
    """A client whose every request gets this answer, recording what it sent into `sent`."""

    def handler(request: httpx.Request) -> httpx.Response:
        if sent is not None:
            sent.append(request)
        return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})

    # Strict, as the whole contract suite: any deviation from the spec must fail loudly here.
    return AuthenticatedClient(
        base_url="http://127.0.0.1:8765",
        token="property-tests",
        httpx_args={"transport": httpx.MockTransport(handler)},
        strict=True,
    )


def send(client: AuthenticatedClient) -> Any:
    return send_invoice.sync(INVOICE_ID, client=client, body=SendInvoiceRequest.from_dict(VALID_REQUEST))


# --- requests ------------------------------------------------------------------------------------


@contract_settings(150)
@given(body=request_bodies())
def test_every_valid_request_body_goes_on_the_wire_unchanged(body: dict[str, Any]) -> None:
    tally["property request bodies"] += 1
    model = SendInvoiceRequest.from_dict(body)
    assert model.to_dict() == body
    sent: list[httpx.Request] = []
    client = client_answering(200, json.dumps(VALID_RESPONSE).encode(), sent)
    send_invoice.sync_detailed(INVOICE_ID, client=client, body=model)
    [request] = sent
    assert json.loads(request.content) == body
    assert request.headers["Version"] == "2021-07-28"


# --- valid responses -----------------------------------------------------------------------------


def assert_status_kept(raw: Any, parsed: InvoiceStatus | str) -> None:
    if raw in INVOICE_STATUSES:
        assert parsed is InvoiceStatus(raw)
    else:
        assert not isinstance(parsed, InvoiceStatus)
        assert parsed == raw


@contract_settings(60)
@given(body=response_bodies("200"))
def test_every_valid_response_round_trips_losslessly(body: dict[str, Any]) -> None:
    tally["property response bodies"] += 1
    parsed = SendInvoiceResponse.from_dict(copy.deepcopy(body), STRICT)
    assert parsed.to_dict() == body
    assert_status_kept(body["invoice"]["status"], parsed.invoice.status)


@contract_settings(40)
@given(data=st.data(), status=unknown_statuses | st.sampled_from(sorted(INVOICE_STATUSES)))
def test_unknown_properties_and_statuses_are_kept(data: st.DataObject, status: str) -> None:
    tally["property response bodies"] += 1
    body = data.draw(response_bodies("200"))
    body["invoice"]["status"] = status
    body = data.draw(with_unknown_properties(body))
    parsed = SendInvoiceResponse.from_dict(copy.deepcopy(body), STRICT)
    assert parsed.to_dict() == body
    assert_status_kept(status, parsed.invoice.status)
    top_level_unknown = {k for k in body if k not in {"invoice", "smsData", "emailData"}}
    assert set(parsed.additional_properties) == top_level_unknown


@pytest.mark.parametrize("status", ERROR_STATUSES)
def test_every_valid_error_body_round_trips_losslessly(status: str) -> None:
    @contract_settings(15)
    @given(body=response_bodies(status).flatmap(with_unknown_properties))
    def check(body: dict[str, Any]) -> None:
        tally["property error bodies"] += 1
        assert ErrorResponse.from_dict(copy.deepcopy(body), STRICT).to_dict() == body

    check()


@pytest.mark.parametrize("status", ["draft", "sent", "archived", "SENT", ""])
def test_the_sync_call_returns_the_parsed_answer_whatever_the_status(status: str) -> None:
    body = copy.deepcopy(VALID_RESPONSE)
    body["invoice"]["status"] = status
    parsed = send(client_answering(200, json.dumps(body).encode()))
    assert isinstance(parsed, SendInvoiceResponse)
    assert parsed.to_dict() == body
    assert_status_kept(status, parsed.invoice.status)


# --- responses that break the spec ---------------------------------------------------------------


def _required_paths(
    value: Any, schema_required: dict[str, list[str]], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every (nested) required key of the example response, as a key path."""
    for key in schema_required.get("/".join(prefix), []):
        yield (*prefix, key)
        if isinstance(value.get(key), dict):
            yield from _required_paths(value[key], schema_required, (*prefix, key))


_REQUIRED = {
    "": ["invoice", "smsData", "emailData"],
    "invoice": load_spec()["components"]["schemas"]["Invoice"]["required"],
}
REQUIRED_PATHS = list(_required_paths(VALID_RESPONSE, _REQUIRED))


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    body = copy.deepcopy(VALID_RESPONSE)
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def _replaced(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(VALID_RESPONSE)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def _encoded(change: Callable[[tuple[str, ...]], dict[str, Any]], path: tuple[str, ...]) -> bytes:
    return json.dumps(change(path)).encode()


BROKEN: dict[str, Callable[[], bytes]] = {
    **{f"missing {'.'.join(p)}": functools.partial(_encoded, _without, p) for p in REQUIRED_PATHS},
    "invoice is a list": lambda: json.dumps(_replaced(("invoice",), [])).encode(),
    "invoice is a string": lambda: json.dumps(_replaced(("invoice",), "sent")).encode(),
    "businessDetails is null": lambda: json.dumps(_replaced(("invoice", "businessDetails"), None)).encode(),
    "invoiceItems is an object": lambda: json.dumps(_replaced(("invoice", "invoiceItems"), {})).encode(),
    "body is a list": lambda: b"[]",
    "body is not JSON": lambda: b"<html>502 Bad Gateway</html>",
    "body is truncated": lambda: json.dumps(VALID_RESPONSE).encode()[:200],
    "body is empty": lambda: b"",
}


@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_a_200_that_breaks_the_spec_raises_the_typed_error_naming_the_problem(breakage: str) -> None:
    with pytest.raises(errors.ContractViolationError) as caught:
        send(client_answering(200, BROKEN[breakage]()))
    assert isinstance(caught.value, errors.LeadwayError)
    assert "200" in str(caught.value)
    if breakage.startswith("missing "):
        key = breakage.removeprefix("missing ").rsplit(".", 1)[-1]
        assert key in str(caught.value)


@contract_settings(60)
@given(body=response_bodies("200", valid=False))
def test_every_spec_breaking_200_raises_the_typed_error(body: Any) -> None:
    tally["property spec-breaking bodies"] += 1
    # Whatever breaks the schema (a missing key, a wrong type at any depth, not JSON at all) must come
    # out as ContractViolationError: never parsed silently, never a KeyError or TypeError.
    # Negative generation also yields raw bytes (bodies that are not JSON at all).
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(errors.ContractViolationError):
        send(client_answering(200, content))
