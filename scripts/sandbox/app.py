"""The Starlette app: `POST /invoices/{invoiceId}/send` and `GET /invoices/{invoiceId}` as the spec
describes them, plus `/_sandbox/*`.

Checks run in the order of a real API gateway and service:

1. Authentication, before anything is counted or kept: missing or non-bearer Authorization → 401,
   an unknown token → 401 (so unauthenticated requests never make a rate-limit bucket).
2. `X-Sandbox-Fault` is parsed (400 naming an unknown fault); without the header, the fault assigned to
   the invoice (if any) applies. `rate-limit`, `html-500` and `503` answer now.
3. The rate limiter counts the request against the location its body names (`altId`; an unreadable
   body counts against a shared anonymous bucket): 429 with Retry-After when a budget is spent.
4. openapi-core validates the request against the spec: every spec violation of parameters and body
   (an id such as `%2e%2e` included) → 422 with the list.
5. The business rules (`SandboxState.send`): 404 unknown invoice, 403 token without access to the
   invoice's location or to `altId`, 404 invoice of another location than `altId`, 400 void or paid
   invoice, or no address for the channel.
6. 200 with the invoice, and the deliveries appended to the outbox.

A read (`GET /invoices/{invoiceId}?altId=&altType=`) goes through the same steps, counted in the
same rate-limit bucket as the sends of its `altId` (upstream counts every request of a location),
and answers 200 with the invoice as it is now: a send changes its `status` and `updatedAt`.

Every answer of the send endpoint carries the five X-RateLimit-* headers (a full budget before
authentication); without an injected fault it conforms to the spec, and an unforeseen failure is a
500 in the spec's ErrorResponse shape, not a plain-text page.

`/_sandbox/faults` (not in the public spec; agency token only) assigns faults to invoices:
`GET /_sandbox/faults` lists them, `PUT /_sandbox/faults/{invoiceId}` with the fault as a text body
(`html-500`, `slow:2`, ...) assigns one, `DELETE` clears it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

# Re-exported: the sandbox's tests name the routes by these.
from scripts.project import READ_PATH as INVOICE_PATH
from scripts.project import SEND_PATH as SEND_PATH
from scripts.sandbox.auth import Grant, TokenRegistry
from scripts.sandbox.config import SPEC_PATH, SandboxConfig, SandboxError
from scripts.sandbox.faults import (
    FAULT_HEADER,
    HTML_500_PAGE,
    DroppedConnectionResponse,
    Fault,
    FaultError,
    FaultKind,
    parse_fault,
)
from scripts.sandbox.invoice_faults import InvoiceFaults, load_fault_file
from scripts.sandbox.rate_limit import RateLimiter, RateLimitStatus
from scripts.sandbox.state import SEED_LOCATIONS, Delivery, SandboxState, SendRefused, load_invoices, seed_invoices
from scripts.sandbox.validation import OperationValidator

logger = logging.getLogger(__name__)

#: Rate-limit bucket of requests whose body names no location.
ANONYMOUS_BUCKET = "-"


@dataclass
class Sandbox:
    """Everything one sandbox app holds; reachable in-process as `app.state.sandbox`."""

    config: SandboxConfig
    state: SandboxState
    limiter: RateLimiter
    tokens: TokenRegistry
    validator: OperationValidator
    read_validator: OperationValidator
    faults: InvoiceFaults

    @classmethod
    def from_config(cls, config: SandboxConfig) -> Sandbox:
        """Build the state from the seed and `config.invoices_file`.

        Raises:
            SandboxError: the invoices or faults file is unreadable or invalid, or a fault names an
                unknown invoice.
        """
        invoices = seed_invoices()
        if config.invoices_file is not None:
            seeded = {invoice["_id"] for invoice in invoices}
            extra = load_invoices(config.invoices_file)
            clashes = sorted(seeded.intersection(invoice["_id"] for invoice in extra))
            if clashes:
                raise SandboxError(f"{config.invoices_file}: _id {clashes[0]!r} is already a seeded invoice")
            invoices += extra
        faults = dict(config.faults)
        if config.faults_file is not None:
            from_file = load_fault_file(config.faults_file)
            clashes = sorted(faults.keys() & from_file.keys())
            if clashes:
                raise SandboxError(f"{config.faults_file}: invoice {clashes[0]!r} already has a fault in the config")
            faults.update(from_file)
        return cls(
            config=config,
            state=SandboxState(invoices, config.wall_clock),
            limiter=RateLimiter(config.burst_limit, config.burst_interval_ms, config.daily_limit, config.clock),
            tokens=TokenRegistry.for_sandbox(config.agency_token, config.location_token, SEED_LOCATIONS[0]),
            validator=OperationValidator(SPEC_PATH, SEND_PATH, "post"),
            read_validator=OperationValidator(SPEC_PATH, INVOICE_PATH, "get"),
            faults=InvoiceFaults(faults, (invoice["_id"] for invoice in invoices), config.max_slow_seconds),
        )

    @property
    def outbox(self) -> tuple[Delivery, ...]:
        """Every email and SMS delivered since the last reset, oldest first."""
        return self.state.outbox

    @property
    def invoices(self) -> list[dict[str, Any]]:
        """Id, location, status and number of every invoice (what `GET /_sandbox/invoices` lists)."""
        return self.state.summaries()

    def reset(self) -> None:
        """Restore the seed, the invoices file and the startup faults; empty the outbox; forget rate-limit counts."""
        self.state.reset()
        self.limiter.reset()
        self.faults.reset()


# Upstream's reason phrases, fixed here: http.HTTPStatus's change between Python versions (3.13 calls
# 422 "Unprocessable Content"), and the sandbox must answer the same on every version.
REASON_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def error_response(status_code: int, message: str | list[str], headers: dict[str, str] | None = None) -> JSONResponse:
    """The spec's ErrorResponse: `{"statusCode", "message", "error"}` (error = upstream's reason phrase)."""
    reason = REASON_PHRASES.get(status_code) or HTTPStatus(status_code).phrase
    body = {"statusCode": status_code, "message": message, "error": reason}
    return JSONResponse(body, status_code=status_code, headers=headers)


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
    message = (
        "Invalid token: access token is invalid"
        if "authorization" in request.headers
        else "Missing bearer token: send 'Authorization: Bearer <token>'"
    )
    return error_response(401, message, sandbox.limiter.peek(ANONYMOUS_BUCKET).headers())


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
    early = _early_fault(sandbox, fault, bucket)
    if early is not None:
        return early
    if fault is not None and fault.kind is FaultKind.SLOW:
        await asyncio.sleep(fault.seconds)
    limit = sandbox.limiter.hit(bucket)
    if not limit.allowed:
        return _too_many(limit)
    try:
        response = _handle_send(sandbox, request, body, limit.headers(), fault)
    except Exception:  # a sandbox bug must still answer in the spec's shape, with the rate-limit headers
        logger.exception("send failed")
        response = error_response(500, "Internal Server Error", limit.headers())
    if fault is not None and fault.kind is FaultKind.DROP_AFTER_SEND:
        return DroppedConnectionResponse(response)
    return response


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
            sandbox.state.send(invoice_id, body, grant, generation)
        except SendRefused as exc:
            logger.info("delayed send of %s did not land: %s %s", invoice_id, exc.status_code, exc.message)

    asyncio.get_running_loop().call_later(seconds, land)
    return DroppedConnectionResponse(JSONResponse({}))


def _fault(sandbox: Sandbox, request: Request) -> Fault | None:
    """The header's fault when the header is there, else the one assigned to the invoice (or None)."""
    header = request.headers.get(FAULT_HEADER)
    if header is not None:
        return parse_fault(header, sandbox.config.max_slow_seconds)
    return sandbox.faults.fault_for(request.path_params["invoiceId"])


def _too_many(limit: RateLimitStatus) -> JSONResponse:
    return error_response(429, "Too Many Requests", limit.headers())


def _handle_send(
    sandbox: Sandbox, request: Request, body: bytes, headers: dict[str, str], fault: Fault | None = None
) -> Response:
    checked = sandbox.validator.check(request, body)
    if checked.token is None:
        message = (
            "Invalid token: access token is invalid"
            if "authorization" in request.headers
            else "Missing bearer token: send 'Authorization: Bearer <token>'"
        )
        return error_response(401, message, headers)
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
        fault = parse_fault(request.headers.get(FAULT_HEADER), sandbox.config.max_slow_seconds)
    except FaultError as exc:
        return error_response(400, str(exc), sandbox.limiter.peek(bucket).headers())
    if fault is not None and fault.kind is FaultKind.DELAYED_SEND:
        return error_response(
            400, f"{FAULT_HEADER} delayed-send applies to a send only", sandbox.limiter.peek(bucket).headers()
        )
    early = _early_fault(sandbox, fault, bucket)
    if early is not None:
        return early
    if fault is not None and fault.kind is FaultKind.SLOW:
        await asyncio.sleep(fault.seconds)
    limit = sandbox.limiter.hit(bucket)
    if not limit.allowed:
        return _too_many(limit)
    try:
        response = _handle_read(sandbox, request, alt_ids, limit.headers())
    except Exception:  # a sandbox bug must still answer in the spec's shape, with the rate-limit headers
        logger.exception("read failed")
        response = error_response(500, "Internal Server Error", limit.headers())
    if fault is not None and fault.kind is FaultKind.DROP_AFTER_SEND:
        return DroppedConnectionResponse(response)
    return response


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


async def list_invoices(request: Request) -> Response:
    """`GET /_sandbox/invoices`: id, location, status and number of every invoice."""
    sandbox: Sandbox = request.app.state.sandbox
    return JSONResponse(sandbox.invoices)


async def list_outbox(request: Request) -> Response:
    """`GET /_sandbox/outbox[?invoiceId=ID]`: the deliveries, oldest first."""
    sandbox: Sandbox = request.app.state.sandbox
    invoice_id = request.query_params.get("invoiceId")
    deliveries = sandbox.outbox if invoice_id is None else sandbox.state.deliveries_for(invoice_id)
    return JSONResponse([delivery.to_dict() for delivery in deliveries])


async def reset(request: Request) -> Response:
    """`POST /_sandbox/reset`: restore the seed, empty the outbox, forget rate-limit counts."""
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.reset()
    return JSONResponse({"invoices": len(sandbox.invoices), "outbox": len(sandbox.outbox)})


def _not_agency(sandbox: Sandbox, request: Request) -> JSONResponse | None:
    """401 without a known bearer token, 403 for a token that is not the agency token; else None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = sandbox.tokens.grant_for(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        return error_response(401, "The sandbox's admin endpoints need 'Authorization: Bearer <agency token>'")
    return None if grant.agency else error_response(403, "The sandbox's admin endpoints need the agency token")


async def list_faults(request: Request) -> Response:
    """`GET /_sandbox/faults`: `{invoiceId: fault}` of every invoice with a fault (agency token)."""
    sandbox: Sandbox = request.app.state.sandbox
    return _not_agency(sandbox, request) or JSONResponse(sandbox.faults.as_dict())


async def invoice_fault(request: Request) -> Response:
    """`PUT /_sandbox/faults/{invoiceId}` (text body: the fault) or `DELETE` it (agency token)."""
    sandbox: Sandbox = request.app.state.sandbox
    refused = _not_agency(sandbox, request)
    if refused is not None:
        return refused
    invoice_id = request.path_params["invoiceId"]
    if not sandbox.faults.knows(invoice_id):
        return error_response(404, f"Invoice {invoice_id[:40]!r} not found")
    if request.method == "DELETE":
        sandbox.faults.clear(invoice_id)
        return JSONResponse({"invoiceId": invoice_id, "fault": None})
    try:
        value = (await request.body()).decode("utf-8")
        sandbox.faults.assign(invoice_id, value)
    except (UnicodeDecodeError, SandboxError) as exc:
        return error_response(400, str(exc))
    return JSONResponse({"invoiceId": invoice_id, "fault": value})


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown paths and methods answer in the API's JSON error shape rather than Starlette's text.
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, exc.detail, dict(exc.headers or {}))


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """A new sandbox app with its own state (seeded afresh), rate limiter and tokens.

    Use it in-process (`httpx.ASGITransport(app)`, schemathesis `schema.app = app`) or serve it with
    `serve_in_thread`. `app.state.sandbox` is the `Sandbox`: `.outbox`, `.invoices`, `.reset()`.

    Raises:
        SandboxError: the config's invoices or faults file is unreadable or invalid, or a fault names
            an unknown invoice.
    """
    sandbox = Sandbox.from_config(config or SandboxConfig())
    app = Starlette(
        routes=[
            Route(SEND_PATH, send_invoice, methods=["POST"]),
            Route(INVOICE_PATH, get_invoice, methods=["GET"]),
            Route("/_sandbox/invoices", list_invoices, methods=["GET"]),
            Route("/_sandbox/outbox", list_outbox, methods=["GET"]),
            Route("/_sandbox/reset", reset, methods=["POST"]),
            Route("/_sandbox/faults", list_faults, methods=["GET"]),
            Route("/_sandbox/faults/{invoiceId}", invoice_fault, methods=["PUT", "DELETE"]),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.sandbox = sandbox
    return app
