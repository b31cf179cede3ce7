"""Faults injected with X-Sandbox-Fault, over a real socket (uvicorn) so clients meet real network errors."""

from __future__ import annotations

import time

import httpx
import pytest
from openapi_core import OpenAPI

from scripts.sandbox import DRAFT_INVOICE_ID, FAULT_HEADER, SEED_LOCATIONS, ConnectionDropped, Sandbox
from scripts.sandbox.faults import Fault, FaultError, FaultKind, parse_fault
from tests.sandbox.conftest import RATE_LIMIT_HEADERS, assert_conforms, auth, send_body

SEND = f"/invoices/{DRAFT_INVOICE_ID}/send"


def fault(name: str) -> dict[str, str]:
    return auth(**{FAULT_HEADER: name})


def test_drop_after_send_closes_the_socket_after_recording_the_send(served: httpx.Client, sandbox: Sandbox) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection"):
        served.post(SEND, json=send_body(), headers=fault("drop-after-send"))

    # The client saw a network error, yet the customer got the email and the SMS.
    assert [d.channel for d in sandbox.state.deliveries_for(DRAFT_INVOICE_ID)] == ["email", "sms"]
    invoices = served.get("/_sandbox/invoices").json()
    assert {i["id"]: i["status"] for i in invoices}[DRAFT_INVOICE_ID] == "sent"


def test_the_server_keeps_serving_after_a_drop(served: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        served.post(SEND, json=send_body(), headers=fault("drop-after-send"))

    assert served.post(SEND, json=send_body(), headers=auth()).status_code == 200


def test_html_500_is_a_proxy_page(served: httpx.Client, sandbox: Sandbox) -> None:
    response = served.post(SEND, json=send_body(), headers=fault("html-500"))

    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>500 Internal Server Error</h1>" in response.text
    assert sandbox.outbox == ()


def test_503_is_the_spec_error_and_sends_nothing(served: httpx.Client, sandbox: Sandbox, openapi: OpenAPI) -> None:
    response = served.post(SEND, json=send_body(), headers=fault("503"))

    assert response.status_code == 503
    assert response.json() == {"statusCode": 503, "message": "Service Unavailable", "error": "Service Unavailable"}
    assert_conforms(openapi, response)
    assert sandbox.outbox == ()


def test_slow_answers_after_the_delay(served: httpx.Client, sandbox: Sandbox) -> None:
    started = time.monotonic()
    response = served.post(SEND, json=send_body(), headers=fault("slow:0.2"))

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2
    assert len(sandbox.outbox) == 2


def test_slow_makes_a_client_time_out(served: httpx.Client) -> None:
    with pytest.raises(httpx.ReadTimeout):
        served.post(SEND, json=send_body(), headers=fault("slow:0.3"), timeout=0.05)


def test_rate_limit_fault_is_an_immediate_429(served: httpx.Client, sandbox: Sandbox, openapi: OpenAPI) -> None:
    response = served.post(SEND, json=send_body(), headers=fault("rate-limit"))

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert all(name in response.headers for name in RATE_LIMIT_HEADERS)
    assert_conforms(openapi, response)
    assert sandbox.outbox == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("explode", 'Unknown X-Sandbox-Fault "explode"; expected one of: drop-after-send, html-500, 503'),
        ("slow:forever", "slow needs a delay in seconds between 0 and 30"),
        ("slow:3600", "slow needs a delay in seconds between 0 and 30"),
    ],
)
def test_bad_fault_values_get_a_clear_400(
    served: httpx.Client, sandbox: Sandbox, openapi: OpenAPI, value: str, expected: str
) -> None:
    response = served.post(SEND, json=send_body(), headers=fault(value))

    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert_conforms(openapi, response)
    assert sandbox.outbox == ()


async def test_in_process_drop_raises_the_same_error_class(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    with pytest.raises(httpx.RemoteProtocolError) as raised:
        await client.post(SEND, json=send_body(), headers=fault("drop-after-send"))

    assert isinstance(raised.value, ConnectionDropped)
    assert len(sandbox.outbox) == 2


async def test_in_process_slow_waits(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    response = await client.post(SEND, json=send_body(), headers=fault("slow:0.1"))

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.1


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (None, None),
        ("drop-after-send", Fault(FaultKind.DROP_AFTER_SEND)),
        (" HTML-500 ", Fault(FaultKind.HTML_500)),
        ("503", Fault(FaultKind.SERVICE_UNAVAILABLE)),
        ("slow:0.25", Fault(FaultKind.SLOW, 0.25)),
        ("slow:0", Fault(FaultKind.SLOW, 0.0)),
        ("rate-limit", Fault(FaultKind.RATE_LIMIT)),
        ("omit:X-RateLimit-Remaining", Fault(FaultKind.OMIT, name="X-RateLimit-Remaining")),
        ("omit: _id", Fault(FaultKind.OMIT, name="_id")),
    ],
)
def test_parse_fault_accepts_each_documented_value(value: str | None, parsed: Fault | None) -> None:
    assert parse_fault(value, max_slow_seconds=30) == parsed


@pytest.mark.parametrize(
    "value",
    [
        "",
        "bogus",
        "slow",
        "slow:",
        "slow:-1",
        "slow:nan",
        "slow:inf",
        "503:1",
        "html-500:x",
        "omit",
        "omit:",
        "omit:a b",
    ],
)
def test_parse_fault_refuses_everything_else(value: str) -> None:
    with pytest.raises(FaultError, match="X-Sandbox-Fault"):
        parse_fault(value, max_slow_seconds=30)


READ = f"/invoices/{DRAFT_INVOICE_ID}?altId={SEED_LOCATIONS[0]}&altType=location"


async def test_omit_leaves_a_header_out_of_a_2xx(client: httpx.AsyncClient, openapi: OpenAPI) -> None:
    response = await client.post(SEND, json=send_body(), headers=fault("omit:x-ratelimit-remaining"))

    assert response.status_code == 200
    assert "X-RateLimit-Remaining" not in response.headers
    assert all(name in response.headers for name in RATE_LIMIT_HEADERS if name != "X-RateLimit-Remaining")
    assert response.json()["invoice"]["_id"] == DRAFT_INVOICE_ID
    with pytest.raises(Exception, match="X-RateLimit-Remaining"):  # the spec requires it on a 2xx
        assert_conforms(openapi, response)


async def test_omit_leaves_a_field_out_of_the_invoice_sent_or_read(client: httpx.AsyncClient) -> None:
    sent = await client.post(SEND, json=send_body(), headers=fault("omit:total"))
    read = await client.get(READ, headers=fault("omit:total"))

    assert sent.status_code == read.status_code == 200
    assert "total" not in sent.json()["invoice"]
    assert "total" not in read.json()
    assert read.json()["_id"] == DRAFT_INVOICE_ID
    assert int(read.headers["content-length"]) == len(read.content)


async def test_omit_leaves_error_answers_alone(client: httpx.AsyncClient) -> None:
    response = await client.get(READ.replace("altType=location", "altType=galaxy"), headers=fault("omit:total"))

    assert response.status_code == 422
    assert all(name in response.headers for name in RATE_LIMIT_HEADERS)
