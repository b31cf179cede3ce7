"""An InvoiceSent webhook settles the keys of its invoice whose outcome is unknown or needs attention
and whose attempt came before it: whichever of the event and the send's outcome lands last."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from leadway_invoices_client import SendLedger, SendState
from leadway_invoices_client._ledger import claims
from leadway_invoices_client._ledger.postgres import PostgresTx, check_or_create
from leadway_invoices_client._ledger.reconcile import Outcome, Reconciliation
from leadway_invoices_client._ledger.records import WebhookEvent, stamp
from leadway_invoices_client._ledger.sqlite import SqliteTx, open_file
from leadway_invoices_client._ledger.store import Tx
from leadway_invoices_client._ledger.webhook_events import record_event

from tests.mock_api import error_body, mock_client, request_body

INVOICE = "6578278e879ad2646715ba9c"
ATTEMPT = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def event(
    webhook_id: str = "wh-1", *, seconds: float = 5, kind: str = "InvoiceSent", invoice: str = INVOICE
) -> WebhookEvent:
    sent = stamp(ATTEMPT + dt.timedelta(seconds=seconds))
    return WebhookEvent(webhook_id, invoice, kind, sent, stamp(dt.datetime.now(dt.UTC)))


def _row(
    tx: Tx,
    key: str,
    state: SendState,
    *,
    claim: str = "c-dead",
    pid: int = 999_999_999,
    start: str = "",
    evidence: str | None = None,
) -> None:
    tx.write_intent(
        key=key,
        invoice_id=INVOICE,
        alt_id="loc",
        alt_type="location",
        reason="sending",
        attempts=1,
        attempted_at=stamp(ATTEMPT),
        updated_at=stamp(ATTEMPT),
        claim=claim,
        held_by=claims.Owner(claims.me().host, claims.me().namespace, pid, start),
        lease=0.0,
    )
    if state is not SendState.PENDING:
        tx.write_outcome(
            key=key,
            claim=claim,
            state=state,
            reason=f"was {state}",
            updated_at=stamp(ATTEMPT),
            evidence=evidence,
            keep_claim=False,
        )


@pytest.fixture
def tx(target: str | Path) -> Iterator[Tx]:
    """A transaction's statements on a new ledger of each store (its statements committed one by one)."""
    if isinstance(target, Path):
        conn = open_file(target)
        yield SqliteTx(conn)
        conn.close()
        return
    psycopg = pytest.importorskip("psycopg")
    from psycopg.rows import dict_row

    with psycopg.connect(target, autocommit=True, row_factory=dict_row) as pg:
        check_or_create(pg, "test ledger")
        yield PostgresTx(pg)


def test_an_event_after_the_attempt_settles_unknown_and_attention_keys_and_nothing_else(tx: Tx) -> None:
    for state in SendState:
        _row(tx, f"k-{state.value}", state)

    outcome = record_event(tx, event())

    assert outcome.new
    assert sorted(r.key for r in outcome.settled) == ["k-needs_attention", "k-pending"]
    states = {r.key: r.state for r in tx.read_all()}
    assert states == {
        "k-needs_attention": SendState.SENT,
        "k-not_sent": SendState.NOT_SENT,
        "k-pending": SendState.SENT,
        "k-refused": SendState.REFUSED,
        "k-sent": SendState.SENT,
    }
    settled = tx.read_one("k-needs_attention")
    assert settled is not None
    assert settled.reason == (
        "sent: InvoiceSent webhook wh-1 sent at 2026-12-07T12:00:05.000000+00:00,"
        " after the attempt at 2026-12-07T12:00:00.000000+00:00"
    )
    [kept] = tx.events_for(INVOICE)
    assert (kept.webhook_id, kept.invoice_id, kept.event_type, kept.sent_at) == (
        "wh-1",
        INVOICE,
        "InvoiceSent",
        "2026-12-07T12:00:05.000000+00:00",
    )


def test_a_duplicate_is_recorded_once_and_does_nothing_again(tx: Tx) -> None:
    assert record_event(tx, event()).new
    _row(tx, "k", SendState.NEEDS_ATTENTION)
    again = record_event(tx, event(seconds=50))
    assert (again.new, again.settled) == (False, ())
    assert len(tx.events_for(INVOICE)) == 1
    assert tx.read_one("k").state is SendState.NEEDS_ATTENTION  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("seconds", "kind", "invoice"),
    [
        (-1, "InvoiceSent", INVOICE),
        (0, "InvoiceSent", INVOICE),
        (5, "InvoicePaid", INVOICE),
        (5, "InvoiceSent", "other"),
    ],
)
def test_an_earlier_event_another_type_or_another_invoice_settles_nothing(
    tx: Tx, seconds: float, kind: str, invoice: str
) -> None:
    _row(tx, "k", SendState.NEEDS_ATTENTION)
    assert record_event(tx, event(seconds=seconds, kind=kind, invoice=invoice)).settled == ()
    assert tx.read_one("k").state is SendState.NEEDS_ATTENTION  # type: ignore[union-attr]


def test_a_key_being_sent_right_now_is_left_to_its_sender(tx: Tx) -> None:
    claim = claims.new_claim()
    try:
        _row(tx, "k", SendState.PENDING, claim=claim, pid=claims.me().pid, start=claims.me().start)
        assert record_event(tx, event()).settled == ()
        assert tx.read_one("k").state is SendState.PENDING  # type: ignore[union-attr]
    finally:
        claims.drop_claim(claim)


def _undetermined(ledger_events: list[WebhookEvent], ledger: list[SendLedger]) -> Any:
    """A reconciler that finds nothing, while (as a receiver would) the events land in the ledger."""

    def reconciler(*, invoice_id: str, attempted_at: dt.datetime, **_: Any) -> Reconciliation:
        for e in ledger_events:
            sent = stamp(attempted_at + dt.timedelta(seconds=1))
            ledger[0].record_webhook(WebhookEvent(e.webhook_id, invoice_id, e.event_type, sent, sent))
        return Reconciliation(
            Outcome.UNDETERMINED, invoice_id, "status sent, updatedAt unchanged", "sent", None, "sent", None, 1
        )

    return reconciler


@pytest.mark.parametrize("events", [[], [event()]], ids=["no webhook", "webhook during the grace period"])
def test_a_send_whose_event_came_while_it_reconciled_is_sent_not_needing_attention(
    tmp_path: Path, events: list[WebhookEvent]
) -> None:
    holder: list[SendLedger] = []
    client = mock_client(lambda request: error_body(503))
    with SendLedger(tmp_path / "l.db", reconciler=_undetermined(events, holder), grace_period=0) as ledger:
        holder.append(ledger)
        record = ledger.send("k", client=client, invoice_id=INVOICE, body=request_body())
        later = ledger.record_webhook(event("wh-late", seconds=10**6))

    if events:
        assert record.state is SendState.SENT
        assert record.reason.startswith("sent: InvoiceSent webhook wh-1 sent at ")
        assert "outcome unknown: ServerError 503; reconciled UNDETERMINED" in record.reason
        assert later.settled == ()
    else:
        assert record.state is SendState.NEEDS_ATTENTION
        # The event that comes after the grace period settles the key as it lands.
        assert [r.key for r in later.settled] == ["k"]
        assert later.settled[0].state is SendState.SENT


def test_a_key_a_reconciliation_found_not_sent_is_settled_by_a_later_event(tx: Tx) -> None:
    evidence = (
        '{"outcome": "not_sent", "reason": "status draft", "before_status": null, "before_updated_at": null,'
        ' "after_status": "draft", "after_updated_at": null, "reads": 4}'
    )
    _row(tx, "k", SendState.NOT_SENT, evidence=evidence)
    # The send landed after the grace period: the next run would have sent it again.
    assert [r.key for r in record_event(tx, event(seconds=60)).settled] == ["k"]
    assert tx.read_one("k").state is SendState.SENT  # type: ignore[union-attr]


def _refused_read(**kwargs: Any) -> Reconciliation:
    # A token without invoices.readonly: the read is refused at once, long before the grace period ends.
    return Reconciliation(
        Outcome.UNDETERMINED,
        kwargs["invoice_id"],
        "the read failed (PermissionDeniedError 403)",
        None,
        None,
        None,
        None,
        1,
    )


@pytest.mark.parametrize("webhooks", [True, False])
def test_a_ledger_fed_webhooks_waits_the_grace_period_for_one_when_a_read_is_refused(
    tmp_path: Path, webhooks: bool
) -> None:
    path = tmp_path / "l.db"
    returned = threading.Event()

    def receiver() -> None:  # another process's receiver, recording the event a little later
        if webhooks:
            time.sleep(0.3)  # while the send waits for it
        else:
            returned.wait(10)  # after the send returned
        sent = stamp(dt.datetime.now(dt.UTC))
        with SendLedger(path) as fed:
            fed.record_webhook(WebhookEvent("wh-during", INVOICE, "InvoiceSent", sent, sent))

    client = mock_client(lambda request: error_body(503))
    with SendLedger(path, reconciler=_refused_read, grace_period=5.0, webhooks=webhooks) as ledger:
        thread = threading.Thread(target=receiver)
        thread.start()
        started = time.monotonic()
        record = ledger.send("k", client=client, invoice_id=INVOICE, body=request_body())
        waited = time.monotonic() - started
        returned.set()
        thread.join()
        settled_later = ledger.get("k")

    assert settled_later is not None
    assert settled_later.state is SendState.SENT  # either way, once the event is in
    if webhooks:
        assert record.state is SendState.SENT
        assert waited < 5.0  # it stopped waiting when the event came
    else:
        assert record.state is SendState.NEEDS_ATTENTION
