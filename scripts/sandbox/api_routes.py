"""The API's two endpoints, `POST /invoices/{invoiceId}/send` and `GET /invoices/{invoiceId}`, as the
spec describes them.

Checks run in the order of a real API gateway and service:

1. Authentication, before anything is counted or kept: missing or non-bearer Authorization → 401,
   an unknown token → 401 (so unauthenticated requests never make a rate-limit bucket).
2. `X-Sandbox-Fault` is parsed (400 naming an unknown fault); without the header, the fault assigned to
   the invoice (if any) applies. `rate-limit`, `html-500` and `503` answer now.
3. The rate limiter counts the request against the location its body names (`altId`; an unreadable
   body counts against a shared anonymous bucket): 429 with Retry-After when a budget is spent.
4. openapi-core validates the request against the spec: every spec violation of parameters and body
   (an id such as `%2e%2e` included) → 422 with the list. A `Version` outside the three the spec
   accepts (`2021-07-28`, `v3`, `2023-02-21`) is one of them.
5. The business rules (`SandboxState.send`): 404 unknown invoice, 403 token without access to the
   invoice's location or to `altId`, 404 invoice of another location than `altId`, 400 void or paid
   invoice, or no address for the channel.
6. 200 with the invoice, and the deliveries appended to the outbox.

The request is checked (4) before any invoice is looked up (5), on purpose: the `Version` header names
the contract by which the rest of the request is read, so a request the API cannot read is refused
whatever it names, and the answer to a malformed request does not tell whether an invoice exists. So a
wrong `Version` on an unknown invoice is a 422, not a 404; once the header is one the API reads, the
404 shows (`tests/sandbox/test_send.py`).

A read (`GET /invoices/{invoiceId}?altId=&altType=`) goes through the same steps, counted in the
same rate-limit bucket as the sends of its `altId` (upstream counts every request of a location),
and answers 200 with the invoice as it is now: a send changes its `status` and `updatedAt`.

Every answer of the send endpoint carries the five X-RateLimit-* headers (a full budget before
authentication); without an injected fault it conforms to the spec, and an unforeseen failure is a
500 in the spec's ErrorResponse shape, not a plain-text page.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from scripts.sandbox.auth import Grant
from scripts.sandbox.error_response import error_response
from scripts.sandbox.faults import (
    FAULT_HEADER,
    HTML_500_PAGE,
    DroppedConnectionResponse,
    Fault,
    FaultError,
    FaultKind,
    parse_fault,
)
from scripts.sandbox.instance import Sandbox
from scripts.sandbox.rate_limit import RateLimitStatus
from scripts.sandbox.state import SendRefused

logger = logging.getLogger(__name__)

#: Rate-limit bucket of requests whose body names no location.
ANONYMOUS_BUCKET = "-"


def _bucket(body: bytes) -> str:
    # The limiter runs before validation, so the location is read leniently from the raw body.
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ANONYMOUS_BUCKET
    alt_id = document.get("altId") if isinstance(document, dict) else None
    return alt_id if isinstance(alt_id, str) and alt_id else ANONYMOUS_BUCKET


def _unauthenticated(sandbox: Sandbox, request: Request) -> JSONResponse | None:
    """The 401 for a request without a known bearer token, else None. Counts and keeps nothing."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip() and sandbox.tokens.grant_for(token.strip()) is not None:
        return None
    return error_response(401, _no_token_message(request), sandbox.limiter.peek(ANONYMOUS_BUCKET).headers())


def _no_token_message(request: Request) -> str:
    return (
        "Invalid token: access token is invalid"
        if "authorization" in request.headers
        else 'Missing bearer token: send "Authorization: Bearer <token>"'
    )


async def send_invoice(request: Request) -> Response:
    """`POST /invoices/{invoiceId}/send`."""
    sandbox: Sandbox = request.app.state.sandbox
    body = await request.body()
    refused = _unauthenticated(sandbox, request)
    if refused is not None:
        return refused
    bucket = _bucket(body)
    try:
        fault = _fault(sandbox, request)
    except FaultError as exc:
        return error_response(400, str(exc), sandbox.limiter.peek(bucket).headers())
    return await _answer(
        sandbox, fault, bucket, "send", lambda headers: _handle_send(sandbox, request, body, headers, fault)
    )


async def _answer(
    sandbox: Sandbox, fault: Fault | None, bucket: str, what: str, handle: Callable[[dict[str, str]], Response]
) -> Response:
    """A send's or a read's answer once authenticated and its fault known: a fault that answers at once
    does; else, after a `slow` fault's wait, the rate limit counts the request and `handle` answers with
    its headers (a 500 in the API's shape if it fails), cut off by `drop-after-send`."""
    early = _early_fault(sandbox, fault, bucket)
    if early is not None:
        return early
    if fault is not None and fault.kind is FaultKind.SLOW:
        await asyncio.sleep(fault.seconds)
    limit = sandbox.limiter.hit(bucket)
    if not limit.allowed:
        return _too_many(limit)
    try:
        response = handle(limit.headers())
    except Exception:  # a sandbox bug must still answer in the spec's shape, with the rate-limit headers
        logger.exception("%s failed", what)
        response = error_response(500, "Internal Server Error", limit.headers())
    if fault is not None and fault.kind is FaultKind.DROP_AFTER_SEND:
        return DroppedConnectionResponse(response)
    if fault is not None and fault.kind is FaultKind.OMIT and 200 <= response.status_code < 300:
        return _omit(response, fault, what)
    return response


def _omit(response: Response, fault: Fault, what: str) -> Response:
    """`omit:NAME`: the 2xx without the header NAME, or without the invoice's field NAME."""
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    if fault.omits_header:
        headers = {k: v for k, v in headers.items() if k.lower() != fault.name.lower()}
        return Response(bytes(response.body), status_code=response.status_code, headers=headers)
    document = json.loads(bytes(response.body))
    invoice = document["invoice"] if what == "send" else document
    invoice.pop(fault.name, None)
    return JSONResponse(document, status_code=response.status_code, headers=headers)


def _early_fault(sandbox: Sandbox, fault: Fault | None, bucket: str) -> Response | None:
    """The answer of a fault that answers before anything is counted or done, else None."""
    if fault is not None:
        if fault.kind is FaultKind.RATE_LIMIT:
            return _too_many(sandbox.limiter.refuse(bucket))
        if fault.kind is FaultKind.HTML_500:
            return HTMLResponse(HTML_500_PAGE, status_code=500)
        if fault.kind is FaultKind.SERVICE_UNAVAILABLE:
            return error_response(503, "Service Unavailable", sandbox.limiter.peek(bucket).headers())
    return None


def _land_later(sandbox: Sandbox, seconds: float, invoice_id: str, body: dict[str, Any], grant: Grant) -> Response:
    """`delayed-send`: schedule the send `seconds` from now on the server's loop and lose the answer
    (an empty 200 cut mid-body). A send refused at landing is only logged: its answer is lost too."""
    generation = sandbox.state.generation

    def land() -> None:
        try:
            landed = sandbox.state.send(invoice_id, body, grant, generation)
        except SendRefused as exc:
            logger.info("delayed send of %s did not land: %s %s", invoice_id, exc.status_code, exc.message)
            return
        sandbox.landed(landed.invoice)

    asyncio.get_running_loop().call_later(seconds, land)
    return DroppedConnectionResponse(JSONResponse({}))


def _fault(sandbox: Sandbox, request: Request) -> Fault | None:
    """The header's fault when the header is there, else the one assigned to the invoice (or None)."""
    header = request.headers.get(FAULT_HEADER)
    if header is not None:
        return parse_fault(header, sandbox.config.max_slow_seconds)
    return sandbox.faults.fault_for(request.path_params["invoiceId"])


def _read_fault(sandbox: Sandbox, request: Request) -> Fault | None:
    """A read's fault: the header's; of the invoice's assigned fault only `omit` (the others fail its
    sends only, so that reconciliation's reads stay reliable; `omit` is there to make answers deviate)."""
    header = request.headers.get(FAULT_HEADER)
    if header is not None:
        return parse_fault(header, sandbox.config.max_slow_seconds)
    assigned = sandbox.faults.fault_for(request.path_params["invoiceId"])
    return assigned if assigned is not None and assigned.kind is FaultKind.OMIT else None


def _too_many(limit: RateLimitStatus) -> JSONResponse:
    return error_response(429, "Too Many Requests", limit.headers())


def _handle_send(
    sandbox: Sandbox, request: Request, body: bytes, headers: dict[str, str], fault: Fault | None = None
) -> Response:
    checked = sandbox.validator.check(request, body)
    if checked.token is None:
        return error_response(401, _no_token_message(request), headers)
    grant = sandbox.tokens.grant_for(checked.token)
    if grant is None:
        return error_response(401, "Invalid token: access token is invalid", headers)
    if checked.messages:
        return error_response(422, checked.messages, headers)
    assert checked.invoice_id is not None
    assert checked.body is not None
    if fault is not None and fault.kind is FaultKind.DELAYED_SEND:
        return _land_later(sandbox, fault.seconds, checked.invoice_id, checked.body, grant)
    try:
        result = sandbox.state.send(checked.invoice_id, checked.body, grant)
    except SendRefused as exc:
        return error_response(exc.status_code, exc.message, headers)
    sandbox.landed(result.invoice)
    return JSONResponse(result.to_response(), headers=headers)


async def get_invoice(request: Request) -> Response:
    """`GET /invoices/{invoiceId}?altId=&altType=`: the invoice as it is now."""
    sandbox: Sandbox = request.app.state.sandbox
    refused = _unauthenticated(sandbox, request)
    if refused is not None:
        return refused
    alt_ids = request.query_params.getlist("altId")
    # Counted against the location it names, in the same bucket as that location's sends.
    bucket = alt_ids[0] if len(alt_ids) == 1 and alt_ids[0] else ANONYMOUS_BUCKET
    try:
        fault = _read_fault(sandbox, request)
    except FaultError as exc:
        return error_response(400, str(exc), sandbox.limiter.peek(bucket).headers())
    if fault is not None and fault.kind is FaultKind.DELAYED_SEND:
        return error_response(
            400, f"{FAULT_HEADER} delayed-send applies to a send only", sandbox.limiter.peek(bucket).headers()
        )
    return await _answer(
        sandbox, fault, bucket, "read", lambda headers: _handle_read(sandbox, request, alt_ids, headers)
    )


def _handle_read(sandbox: Sandbox, request: Request, alt_ids: list[str], headers: dict[str, str]) -> JSONResponse:
    checked = sandbox.read_validator.check(request, b"")
    grant = sandbox.tokens.grant_for(checked.token) if checked.token is not None else None
    if grant is None:
        return error_response(401, "Invalid token: access token is invalid", headers)
    messages = list(checked.messages)
    if len(alt_ids) > 1:
        messages.append("query parameter altId: given more than once")
    if messages:
        return error_response(422, messages, headers)
    assert checked.invoice_id is not None
    try:
        invoice = sandbox.state.read(checked.invoice_id, alt_ids[0], grant)
    except SendRefused as exc:
        return error_response(exc.status_code, exc.message, headers)
    return JSONResponse(invoice, headers=headers)
