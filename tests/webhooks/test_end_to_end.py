"""End to end: a bulk send whose faults leave keys needing a person today (answers lost, a send that
lands late, an invoice whose `updatedAt` tells nothing), run again with the sandbox's webhooks going
to a receiver on the same ledger: every such key is settled with no person."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from leadway_invoices_client import SendLedger, SendState
from leadway_invoices_client._bulk.engine import bulk_client, run_bulk
from leadway_invoices_client._bulk.rows import read_rows
from leadway_invoices_client.webhooks import WebhookReceiver, WebhookVerifier

from scripts.sandbox import DEFAULT_TOKEN, SandboxConfig, create_app, serve_in_thread
from scripts.sandbox.state import fixed_clock
from tests.bulk.world import build, invoice_id

# Row index -> the send's fault; the webhook faults below go to some of the same invoices.
SEND_FAULTS = {1: "drop-after-send", 2: "drop-after-send", 3: "delayed-send:0.3", 5: "503", 6: "drop-after-send"}
ROWS, LOCATIONS = 16, 4


def _webhook_faults() -> dict[str, str]:
    def iid(index: int) -> str:
        return invoice_id(index % LOCATIONS, index)

    return {
        iid(1): "duplicated",
        iid(2): "out-of-order",
        iid(6): "delayed:2",  # lands after the run ended: the key waits, then is settled as it lands
        iid(8): "dropped",  # a plain send's event lost: nothing needed it
    }


def _bulk(folder: Path, webhooks: bool) -> tuple[dict[str, SendState], Counter[str], Any]:
    """Run the world's bulk send (with the sandbox's webhooks going to a receiver on the same ledger,
    or without); every key's state at the end, and the deliveries per invoice."""
    folder.mkdir()
    world = build(ROWS, LOCATIONS, SEND_FAULTS)
    rows_file, invoices, faults = world.write(folder)
    path = folder / "ledger.db"
    with SendLedger(path) as receiving:
        receiver = WebhookReceiver(receiving, WebhookVerifier())
        with serve_in_thread(receiver) as hook_url:
            config = SandboxConfig(
                invoices_file=invoices,
                faults_file=faults,
                # updatedAt never moves past the attempt: a read cannot tell our send from an earlier one.
                wall_clock=fixed_clock,
                webhook_url=hook_url if webhooks else None,
                webhook_faults=_webhook_faults() if webhooks else {},
            )
            app = create_app(config)
            sender = app.state.sandbox.webhooks
            if sender is not None:  # the receiver knows the sandbox's TEST-ONLY key before any send
                receiver.verifier = WebhookVerifier(ed25519_key=sender.public_key_pem)
            with serve_in_thread(app) as base_url, SendLedger(path, grace_period=1.0) as ledger:

                async def send_all() -> Any:
                    async with bulk_client(base_url, DEFAULT_TOKEN) as client:
                        return await run_bulk(read_rows(rows_file).rows, ledger=ledger, client=client)

                asyncio.run(send_all())
                if sender is not None:  # every delivery made or given up on (the delayed one included)
                    landed = ROWS - sum(fault == "503" for fault in SEND_FAULTS.values())
                    expected = landed + 1  # one of them duplicated
                    deadline = time.monotonic() + 15
                    while len(sender.delivered) + len(sender.lost) < expected and time.monotonic() < deadline:
                        time.sleep(0.05)
                states = {record.key: record.state for record in ledger.records()}
            deliveries = Counter(d.invoice_id for d in app.state.sandbox.outbox)
    return states, deliveries, world


@pytest.mark.slow
def test_webhooks_settle_every_key_a_person_had_to_decide(tmp_path: Path) -> None:
    before, _, world = _bulk(tmp_path / "before", webhooks=False)
    after, deliveries, _ = _bulk(tmp_path / "after", webhooks=True)

    needing = {key for key, state in before.items() if state in (SendState.NEEDS_ATTENTION, SendState.PENDING)}
    faulted = {
        row["key"] for index, row in enumerate(world.rows) if SEND_FAULTS.get(index, "").startswith(("drop", "delayed"))
    }
    assert needing == faulted  # today: a person decides each of them
    assert {key: after[key] for key in needing} == dict.fromkeys(needing, SendState.SENT)
    assert not [key for key, state in after.items() if state in (SendState.NEEDS_ATTENTION, SendState.PENDING)]
    assert all(deliveries[invoice] == 1 for invoice in world.deliverable)
    print(f"keys needing a person: {len(needing)} before webhooks, 0 after ({len(after)} keys)")
