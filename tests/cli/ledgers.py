"""Ledgers for the operator commands' tests: one key in each state, written as a send would leave it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from leadway_invoices_client import SendLedger
from leadway_invoices_client._ledger.records import WebhookEvent

INVOICE = "6578278e879ad2646715ba9c"
ATTEMPT = "2026-12-07T12:00:00.000000+00:00"
EVIDENCE = (
    '{"outcome": "undetermined", "reason": "status sent, updatedAt unchanged", "before_status": null,'
    ' "before_updated_at": null, "after_status": "sent", "after_updated_at": null, "reads": 4}'
)


def ledger_with_every_state(path: Path) -> Path:
    SendLedger(path).close()  # creates it at the current schema
    conn = sqlite3.connect(path)
    rows = [
        ("k-sent", "sent", "sent", None),
        ("k-not", "not_sent", "not sent: RateLimitError 429", None),
        ("k-refused", "refused", "refused: NotFoundError 404: no such invoice", None),
        ("k-attention", "needs_attention", "outcome unknown: ReadTimeout; reconciled UNDETERMINED", EVIDENCE),
    ]
    for number, (key, state, reason, evidence) in enumerate(rows):
        conn.execute(
            "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at,"
            " updated_at, evidence) VALUES (?, ?, 'loc-1', 'location', ?, ?, 1, ?, ?, ?)",
            (key, INVOICE[:-1] + str(number), state, reason, ATTEMPT, ATTEMPT, evidence),
        )
    conn.commit()
    conn.close()
    with SendLedger(path) as ledger:  # an earlier send's event for the invoice needing attention
        early = "2026-12-07T11:00:00.000000+00:00"
        ledger.record_webhook(WebhookEvent("wh-early", INVOICE[:-1] + "3", "InvoiceSent", early, early))
    return path
