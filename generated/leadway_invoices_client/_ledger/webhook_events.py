"""InvoiceSent webhooks as evidence of a send: the one rule by which an event settles a key, written
against `Tx`, so every store applies it alike.

The rule: an InvoiceSent event for the key's invoice, sent (its `timestamp`, HighLevel's clock) after
the key's attempt (ours), settles a key whose outcome is unknown (PENDING, no live send holding it),
that needs attention, or that a reconciliation found NOT_SENT (a send that landed after the grace
period: the next run would send it again): SENT, with the event (webhook id and time) as the reason. It applies where
each side lands last: when the receiver records the event (`record_event`), and when a send records
an unknown outcome after an event already came (`sent_evidence`), so the order of the two does not
matter. Both run in a store transaction, which serialises them.

What this assumes, since the API does not promise it: each send, a resend included, fires one
InvoiceSent (upstream documents it as "called whenever an invoice is sent"; if a resend fired none,
such a key stays NEEDS_ATTENTION, as before); an event sent before our attempt is another send's (a
clock of HighLevel's behind ours can make our own send's event look earlier: it then settles
nothing, the safe side); an event of another type (`type` other than InvoiceSent) settles nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .records import SendState, WebhookEvent, WebhookOutcome, held, reconciled_not_sent
from .store import Tx

INVOICE_SENT = "InvoiceSent"


def _after(event: WebhookEvent, attempted_at: str | None) -> bool:
    if attempted_at is None:  # a key recorded without its attempt time: nothing to compare with
        return False
    return dt.datetime.fromisoformat(event.sent_at) > dt.datetime.fromisoformat(attempted_at)


def sent_evidence(events: Iterable[WebhookEvent], attempted_at: str | None) -> WebhookEvent | None:
    """The first InvoiceSent event among `events` sent after the attempt, or None."""
    return next((e for e in events if e.event_type == INVOICE_SENT and _after(e, attempted_at)), None)


def settled_reason(event: WebhookEvent, attempted_at: str | None) -> str:
    return f"sent: InvoiceSent webhook {event.webhook_id} sent at {event.sent_at}, after the attempt at {attempted_at}"


def record_event(tx: Tx, event: WebhookEvent) -> WebhookOutcome:
    """Record `event` once (by webhook id) and settle the keys of its invoice that it proves sent."""
    if not tx.write_event(event):
        return WebhookOutcome(event, new=False)
    if event.event_type != INVOICE_SENT:
        return WebhookOutcome(event, new=True)
    settled = []
    for row in tx.rows_for(event.invoice_id):
        unknown = (row["state"] == SendState.PENDING and not held(row, tx.clock())) or reconciled_not_sent(row)
        if (unknown or row["state"] == SendState.NEEDS_ATTENTION) and _after(event, row["attempted_at"]):
            reason = settled_reason(event, row["attempted_at"])
            settled.append(
                tx.write_resolution(key=row["key"], state=SendState.SENT, reason=reason, updated_at=event.received_at)
            )
    return WebhookOutcome(event, new=True, settled=tuple(settled))
