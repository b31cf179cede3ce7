"""`leadway-invoices status LEDGER [--json]`: how many keys stand where, and every key that needs a
person, with its evidence (the reconciliation's reads, the webhook events of its invoice) and the
command that settles it. Exit status 0 when nothing needs attention, 1 when something does."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from rich.console import Console

from .._bulk.tally import evidence_text
from .._ledger.ledger import SendLedger
from .._ledger.records import LedgerRecord, SendState, WebhookEvent
from .._ledger.webhook_events import INVOICE_SENT
from .._runtime.text import plain
from .usage import ledger_location, open_existing

_TEXT = 600
RESOLVE_HINT = "leadway-invoices resolve {ledger} KEY --sent|--not-sent --note TEXT"


def add(commands: Any) -> None:
    status = commands.add_parser(
        "status",
        help="counts per state, and the keys that need a person with their evidence",
        description="Show a ledger: counts per state, and each key that needs attention with its evidence. "
        "Exit status 0 when none needs attention, 1 when some do.",
    )
    status.add_argument("ledger", type=ledger_location, metavar="LEDGER", help="the ledger file or PostgreSQL URL")
    status.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    status.set_defaults(run=run)


def _attention(ledger: SendLedger, record: LedgerRecord) -> dict[str, Any]:
    evidence = record.evidence
    return {
        "key": record.key,
        "invoice_id": record.invoice_id,
        "alt_id": record.alt_id,
        "attempts": record.attempts,
        "reason": record.reason,
        "reconciliation": None
        if evidence is None
        else {
            "outcome": evidence.outcome.name,
            "reason": evidence.reason,
            "before_status": evidence.before_status,
            "after_status": evidence.after_status,
            "reads": evidence.reads,
        },
        "webhooks": [_event(e) for e in ledger.events(record.invoice_id)],
    }


def _event(event: WebhookEvent) -> dict[str, str]:
    return {"webhook_id": event.webhook_id, "type": event.event_type, "sent_at": event.sent_at}


def report(ledger: SendLedger) -> dict[str, Any]:
    """The ledger's status as one JSON-able object."""
    records = ledger.records()
    counts = Counter(record.state for record in records)
    return {
        "ledger": ledger.location,
        "counts": {state.value: counts.get(state, 0) for state in SendState},
        "needs_attention": [_attention(ledger, r) for r in records if r.state is SendState.NEEDS_ATTENTION],
    }


def lines(found: Mapping[str, Any]) -> list[str]:
    text = [f"Ledger {plain(found['ledger'], _TEXT)}"]
    text += [f"  {state.replace('_', ' '):<16}{count:>7}" for state, count in found["counts"].items()]
    attention = found["needs_attention"]
    if attention:
        text += ["", f"Needs attention ({len(attention)}): the invoice may have been sent"]
    for key in attention:
        text.append(f"  key {plain(key['key'], 200)}, invoice {plain(key['invoice_id'], 200)}")
        text.append(f"    {plain(key['reason'], _TEXT)}")
        if key["reconciliation"] is not None:
            text.append(f"    evidence: {plain(evidence_text(_Evidence(key['reconciliation'])), _TEXT)}")
        events = key["webhooks"]
        if events:
            for event in events:
                why = "sent before the attempt" if event["type"] == INVOICE_SENT else "not an InvoiceSent"
                shown = (
                    f"{plain(event['type'], 40)} webhook {plain(event['webhook_id'], 100)} sent at {event['sent_at']}"
                )
                text.append(f"    {shown} ({why}: settles nothing)")
        else:
            text.append("    no InvoiceSent webhook recorded for this invoice")
    if attention:
        text += ["", "Settle a key once its invoice is checked; the next run then skips or sends it:"]
        text.append("  " + RESOLVE_HINT.format(ledger=plain(found["ledger"], _TEXT)))
    return text


class _Evidence:
    def __init__(self, kept: Mapping[str, Any]) -> None:
        self.reason, self.reads = kept["reason"], kept["reads"]
        self.before_status, self.after_status = kept["before_status"], kept["after_status"]


def run(args: argparse.Namespace, environ: Mapping[str, str], out: Console, err: Console) -> int:
    with open_existing(args.ledger) as ledger:
        found = report(ledger)
    if args.json:
        out.out(json.dumps(found, indent=2), highlight=False)
    else:
        for line in lines(found):
            out.out(line, highlight=False)
    return 1 if found["needs_attention"] else 0
