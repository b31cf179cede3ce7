"""Fixtures for the generated client's tests: a scripted in-memory server that counts sends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from leadway_invoices_client import AuthenticatedClient, RetryPolicy
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import SendAction, SendInvoiceRequest, SendInvoiceResponse
from leadway_invoices_client.models.alt_type import AltType
from leadway_invoices_client.types import Response

from scripts.project import example

TOKEN = "tok-3c1f9e2a-very-secret"
INVOICE_ID = "6578278e879ad2646715ba9c"
BASE_URL = "https://api.test"
# Fast retries for tests: the waits are capped far below any real interval.
FAST_RETRY = RetryPolicy(attempts=3, max_wait=0.01, backoff=0.001)


SUCCESS_BODY = example("response", "leadwayPage")


def request_body(alt_id: str = "6578278e879ad2646715ba9c") -> SendInvoiceRequest:
    return SendInvoiceRequest(
        alt_id=alt_id, alt_type=AltType.LOCATION, user_id="u1", action=SendAction.EMAIL, live_mode=False
    )


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return httpx.Response(status, content=json.dumps(body).encode(), headers=all_headers)


Reply = httpx.Response | Exception


def snapshot(request: httpx.Request) -> httpx.Request:
    """A copy of `request` as it is on the wire now, headers included."""
    return httpx.Request(request.method, request.url, headers=request.headers.copy(), content=request.content)


class Server:
    """A MockTransport handler answering from a script (the last reply repeats) and recording requests."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [json_response(200, SUCCESS_BODY)]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A snapshot: the client takes the credential off its request once the request is answered.
        self.requests.append(snapshot(request))
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        # A fresh Response per request: one httpx.Response cannot be read twice across clients.
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)

    @property
    def sends(self) -> int:
        return len(self.requests)

    def client(self, **kwargs: Any) -> AuthenticatedClient:
        return mock_client(self, **kwargs)


def mock_client(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> AuthenticatedClient:
    """A client whose requests `handler` answers in memory; fast retries unless told otherwise."""
    kwargs.setdefault("retry", FAST_RETRY)
    if "token_provider" not in kwargs:
        kwargs.setdefault("token", TOKEN)
    return AuthenticatedClient(BASE_URL, httpx_args={"transport": httpx.MockTransport(handler)}, **kwargs)


Send = Callable[..., SendInvoiceResponse]
SendDetailed = Callable[..., Response[Any]]


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    mode: str = request.param
    return mode


@pytest.fixture
def send(mode: str) -> Send:
    """`send_invoice.sync`, or `send_invoice.asyncio` run to completion: one test body for both."""

    def call(client: AuthenticatedClient, invoice_id: str = INVOICE_ID, **kwargs: Any) -> SendInvoiceResponse:
        kwargs.setdefault("body", request_body())
        if mode == "sync":
            return send_invoice.sync(invoice_id, client=client, **kwargs)
        return asyncio.run(send_invoice.asyncio(invoice_id, client=client, **kwargs))

    return call


@pytest.fixture
def send_detailed(mode: str) -> SendDetailed:
    def call(client: AuthenticatedClient, invoice_id: str = INVOICE_ID, **kwargs: Any) -> Response[Any]:
        kwargs.setdefault("body", request_body())
        if mode == "sync":
            return send_invoice.sync_detailed(invoice_id, client=client, **kwargs)
        return asyncio.run(send_invoice.asyncio_detailed(invoice_id, client=client, **kwargs))

    return call
