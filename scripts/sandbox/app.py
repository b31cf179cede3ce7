"""The Starlette app: the API's endpoints (`api_routes`) and the sandbox's own (`admin_routes`) over
one `Sandbox`, unknown paths and methods answered in the API's error shape."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scripts.project import READ_PATH, SEND_PATH
from scripts.sandbox.admin_routes import invoice_fault, list_faults, list_invoices, list_outbox, reset
from scripts.sandbox.api_routes import get_invoice, send_invoice
from scripts.sandbox.config import SandboxConfig
from scripts.sandbox.error_response import error_response
from scripts.sandbox.instance import Sandbox


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
            Route(READ_PATH, get_invoice, methods=["GET"]),
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
