"""A scripted in-memory API for the client's tests: canned answers, and a MockTransport handler
that answers from a script and records every request (so a test counts sends)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from leadway_invoices_client import AuthenticatedClient, RetryPolicy
from leadway_invoices_client.models import Invoice, SendAction, SendInvoiceRequest, SendInvoiceResponse
from leadway_invoices_client.models.alt_type import AltType
from leadway_invoices_client.types import Response

from scripts.project import READ_PATH, example

TOKEN = "tok-3c1f9e2a-very-secret"
INVOICE_ID = "6578278e879ad2646715ba9c"
LOCATION = "6578278e879ad2646715ba9c"
BASE_URL = "https://api.test"
# Fast retries for tests: the waits are capped far below any real interval.
FAST_RETRY = RetryPolicy(attempts=3, max_wait=0.01, backoff=0.001)


SUCCESS_BODY = example("response", "leadwayPage")
"""The answer to a send, as the spec's example gives it."""
READ_BODY = example("response", "upstreamExample", path=READ_PATH, method="get")
"""The answer to a read (`get_invoice`), as upstream's example gives it."""


def success_body_without(path: tuple[str | int, ...]) -> dict[str, Any]:
    """SUCCESS_BODY without the value at `path` (keys and list indexes)."""
    body: dict[str, Any] = json.loads(json.dumps(SUCCESS_BODY))
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def success_body_with(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """SUCCESS_BODY with `value` at `path` (keys and list indexes)."""
    body: dict[str, Any] = json.loads(json.dumps(SUCCESS_BODY))
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def request_body(alt_id: str = LOCATION) -> SendInvoiceRequest:
    return SendInvoiceRequest(
        alt_id=alt_id, alt_type=AltType.LOCATION, user_id="u1", action=SendAction.EMAIL, live_mode=False
    )


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return httpx.Response(status, content=json.dumps(body).encode(), headers=all_headers)


def error_body(status: int, message: str = "nope") -> httpx.Response:
    """An error answer as the API words it."""
    return json_response(status, {"statusCode": status, "message": message})


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
Read = Callable[..., Invoice]
