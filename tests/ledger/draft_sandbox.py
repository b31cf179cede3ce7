"""The send ledger tests' sandbox: many drafts, each with its own customer, and its outbox.
(`conftest.py` serves one per test module.)"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, NamedTuple

from starlette.applications import Starlette

from scripts.sandbox import FAULT_HEADER, SEED_LOCATIONS, SEED_USER_ID, Sandbox, SandboxConfig, create_app
from scripts.sandbox.state import SEED_PATH

from .ledger_workers import FAULT_HEADER as WORKER_FAULT_HEADER
from .ledger_workers import LOCATION, TOKEN, USER_ID, invoice_id

# The workers spell these out; they must be the sandbox's.
assert (SEED_LOCATIONS[0], SEED_USER_ID, FAULT_HEADER) == (LOCATION, USER_ID, WORKER_FAULT_HEADER)

# Customer data the drafts carry: none of it may reach the ledger file.
CUSTOMER_MARKERS = ("ledger-customer-", "example.invalid", "Zebediah", "+1-555-01")


def drafts(count: int) -> list[dict[str, Any]]:
    """`count` draft invoices in the first seeded location, each with its own customer."""
    seed = json.loads(SEED_PATH.read_text(encoding="utf-8"))["invoices"][0]
    made = []
    for index in range(count):
        invoice = copy.deepcopy(seed)
        invoice["_id"] = invoice_id(index)
        invoice["invoiceNumber"] = str(5000 + index)
        invoice["contactDetails"].update(
            name=f"Zebediah {index}", email=f"ledger-customer-{index}@example.invalid", phoneNo=f"+1-555-01{index:02d}"
        )
        made.append(invoice)
    return made


def create_sandbox(folder: Path, count: int) -> Starlette:
    path = folder / "drafts.json"
    path.write_text(json.dumps({"invoices": drafts(count)}), encoding="utf-8")
    config = SandboxConfig(agency_token=TOKEN, invoices_file=path, burst_limit=1_000_000)
    return create_app(config)


class Served(NamedTuple):
    """A sandbox of drafts served on a loopback port."""

    app: Starlette
    base_url: str

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox


def deliveries(app: Starlette) -> dict[str, int]:
    """Deliveries per invoice id since the last reset."""
    sandbox: Sandbox = app.state.sandbox
    counts: dict[str, int] = {}
    for delivery in sandbox.outbox:
        counts[delivery.invoice_id] = counts.get(delivery.invoice_id, 0) + 1
    return counts
