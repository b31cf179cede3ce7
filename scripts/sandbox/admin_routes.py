"""The sandbox's own endpoints, `/_sandbox/*` (not in the public spec): the invoices, the outbox and a
reset, open to any caller; the invoices' faults, agency token only.

`GET /_sandbox/faults` lists the faults, `PUT /_sandbox/faults/{invoiceId}` with the fault as a text
body (`html-500`, `slow:2`, ...) assigns one, `DELETE` clears it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scripts.sandbox.config import SandboxError
from scripts.sandbox.error_response import error_response
from scripts.sandbox.instance import Sandbox
from scripts.sandbox.json_words import json_text


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
        return error_response(404, f"Invoice {json_text(invoice_id[:40])} not found")
    if request.method == "DELETE":
        sandbox.faults.clear(invoice_id)
        return JSONResponse({"invoiceId": invoice_id, "fault": None})
    try:
        value = (await request.body()).decode("utf-8")
        sandbox.faults.assign(invoice_id, value)
    except (UnicodeDecodeError, SandboxError) as exc:
        return error_response(400, str(exc))
    return JSONResponse({"invoiceId": invoice_id, "fault": value})
