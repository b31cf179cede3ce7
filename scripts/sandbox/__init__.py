"""A local sandbox of Leadway's send-invoice endpoint: nothing it does leaves the machine.

In-process::

    from scripts.sandbox import create_app, serve_in_thread, DEFAULT_TOKEN, DRAFT_INVOICE_ID

    app = create_app()                          # fresh seeded state
    with serve_in_thread(app) as base_url:      # uvicorn on 127.0.0.1, a free port
        ...                                     # POST {base_url}/invoices/{DRAFT_INVOICE_ID}/send
    app.state.sandbox.outbox                    # what was "delivered"

From a shell: `python -m scripts.sandbox --port 8765` (or `nox -s sandbox -- --port 8765`).

Faults: per request with the `X-Sandbox-Fault` header (`scripts/sandbox/faults.py`), or per invoice
for clients that send no header (`scripts/sandbox/invoice_faults.py`)::

    app = create_app(SandboxConfig(faults={DRAFT_INVOICE_ID: "drop-after-send"}))   # or faults_file=PATH
    # python -m scripts.sandbox --faults faults.json     ({"<invoiceId>": "<fault>", ...})
    # PUT /_sandbox/faults/{invoiceId} (text body: the fault), DELETE to clear, GET /_sandbox/faults
    # to list: agency token only; not part of the public spec.

An invoice's fault applies to every send of it until cleared; the header, when sent, wins.
"""

from __future__ import annotations

# The spec the sandbox serves and validates against, from the repository's facts: re-exported for the
# contract suite, which imports nothing else of scripts/.
from scripts.project import READ_PATH, SEND_PATH, SPEC_DIR, SPEC_PATH, example, load_spec
from scripts.sandbox.app import create_app
from scripts.sandbox.auth import DEFAULT_TOKEN, FORBIDDEN_MESSAGE, LOCATION_TOKEN, TOKEN_ENV
from scripts.sandbox.config import (
    DEFAULT_BURST_INTERVAL_MS,
    DEFAULT_BURST_LIMIT,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_PORT,
    MAX_SLOW_SECONDS,
    SPEC_SERVER_URL,
    SandboxConfig,
    SandboxError,
)
from scripts.sandbox.error_response import error_response
from scripts.sandbox.faults import FAULT_HEADER, ConnectionDropped, FaultKind
from scripts.sandbox.instance import Sandbox
from scripts.sandbox.server import serve_in_thread
from scripts.sandbox.state import (
    DRAFT_INVOICE_ID,
    OTHER_LOCATION_DRAFT_ID,
    PAID_INVOICE_ID,
    SECOND_DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    SEED_USER_ID,
    VOID_INVOICE_ID,
    Delivery,
)

__all__ = [
    "DEFAULT_BURST_INTERVAL_MS",
    "DEFAULT_BURST_LIMIT",
    "DEFAULT_DAILY_LIMIT",
    "DEFAULT_PORT",
    "DEFAULT_TOKEN",
    "DRAFT_INVOICE_ID",
    "FAULT_HEADER",
    "FORBIDDEN_MESSAGE",
    "LOCATION_TOKEN",
    "MAX_SLOW_SECONDS",
    "OTHER_LOCATION_DRAFT_ID",
    "PAID_INVOICE_ID",
    "READ_PATH",
    "SECOND_DRAFT_INVOICE_ID",
    "SEED_LOCATIONS",
    "SEED_USER_ID",
    "SEND_PATH",
    "SPEC_DIR",
    "SPEC_PATH",
    "SPEC_SERVER_URL",
    "TOKEN_ENV",
    "VOID_INVOICE_ID",
    "ConnectionDropped",
    "Delivery",
    "FaultKind",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "create_app",
    "error_response",
    "example",
    "load_spec",
    "serve_in_thread",
]
