"""`_runtime/call.py`: one call of an operation, prepared once and sent as prepared. Every error of the
call carries what reconciliation needs (method, invoice, location, when it went out) and no token."""

from __future__ import annotations

import datetime as dt
import pickle

import httpx
import pytest
from leadway_invoices_client import LeadwayError, OutcomeUnknownError, ServerError
from leadway_invoices_client.api.invoices import send_invoice

from tests.mock_api import INVOICE_ID, LOCATION, TOKEN, Server, json_response, request_body


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
