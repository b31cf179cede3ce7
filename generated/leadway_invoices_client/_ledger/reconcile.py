"""Reconciliation: after a send whose outcome is unknown, read the invoice and say whether it was sent.

It only ever reads (`GET /invoices/{invoiceId}`); it never sends. The answer is one of:

* SENT: a read shows the send landed. Evidence, strongest first: the invoice was `draft` before the
  send (from `before`) and now reads `sent` or a later state (`payment_processing`, `paid`,
  `partially_paid`); or it reads one of those and its `updatedAt` is later than the `updatedAt` read
  before, or later than the time the send was attempted. A later `updatedAt` cannot tell a send from
  an edit or a payment; that ambiguity errs toward not sending again (no second email).
* NOT_SENT: the invoice still reads `draft` at the end of the grace period (a send makes it `sent`).
  Never answered when the API had answered the send with a 2xx (a ContractViolationError): the status
  said it was sent, so a draft then is UNDETERMINED.
* UNDETERMINED: nothing visible tells. An invoice that was already sent before (a resend) and whose
  `updatedAt` did not move: the API shows a first send (draft -> sent) but may show nothing for a
  resend; the InvoiceSent webhook (one delivery per send) is the remaining evidence. Also: a state
  a send does not produce (`void`, an unknown status), or no successful read at the end of the grace
  period (401, 403, 404, 400 and 422 stop at once; timeouts, dropped connections, 5xx after the GET
  client's own retries, 429 and unusable answers are read again at the next turn). The reason names the status
  or the error class, never customer data or the token.

Reads are spread evenly over `grace_period` seconds (at most an hour): the first at once, the last at
the end (one read only: at the end), so a send the API is still processing has time to show. Each
read is a `get_invoice` call with the client's own timeouts and GET retries, so a reconciliation
takes about the grace period, plus up to `max_reads` slow reads. SENT stops early; a final
answer needs the last read. Bad input (an error of another type: TypeError; an error that does not
name its invoice and location, an unsafe id, a naive datetime, a bad grace period: ValueError) is
refused before any I/O.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable
from typing import Any

from .._runtime.client import AuthenticatedClient
from .._runtime.constants import GRACE_PERIOD, MAX_READS
from .._runtime.errors import ContractViolationError, LeadwayError, OutcomeUnknownError, outcome_unknown
from .._runtime.types import Unset
from ..api.invoices import get_invoice
from ..models.invoice import Invoice
from .verdicts import MAX_GRACE_PERIOD, READS_LIMIT, SENT_OR_LATER, Outcome, Reading, Reconciliation, text_of

__all__ = [
    "MAX_GRACE_PERIOD",
    "READS_LIMIT",
    "SENT_OR_LATER",
    "Outcome",
    "Reconciliation",
    "areconcile",
    "areconcile_send",
    "ledger_areconciler",
    "ledger_reconciler",
    "reconcile",
    "reconcile_send",
]

# Seams for tests: reads are spaced on this clock and these sleeps.
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep


async def _asleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def _run(reading: Reading, client: AuthenticatedClient) -> Reconciliation:
    start = _clock()
    for offset in reading.offsets():
        wait = start + offset - _clock()
        if wait > 0:
            _sleep(wait)
        reading.reads += 1
        try:
            invoice = get_invoice.sync_prepared(reading.read, client=client, strict=False)
        except LeadwayError as exc:
            done = reading.judge_failure(exc)
        else:
            done = reading.judge_read(invoice)
        if done is not None:
            return done
    return reading.final()


async def _arun(reading: Reading, client: AuthenticatedClient) -> Reconciliation:
    start = _clock()
    for offset in reading.offsets():
        wait = start + offset - _clock()
        if wait > 0:
            await _asleep(wait)
        reading.reads += 1
        try:
            invoice = await get_invoice.asyncio_prepared(reading.read, client=client, strict=False)
        except LeadwayError as exc:
            done = reading.judge_failure(exc)
        else:
            done = reading.judge_read(invoice)
        if done is not None:
            return done
    return reading.final()


def _reading_for_error(
    error: object, client: object, before: object, grace_period: object, max_reads: object
) -> Reading:
    if not outcome_unknown(error):
        hint = " (its request was not sent: safe_to_retry)" if getattr(error, "safe_to_retry", False) else ""
        raise TypeError(
            "reconcile takes the OutcomeUnknownError or ContractViolationError of a send,"
            f" not {type(error).__name__}{hint}"
        )
    if error.method != "POST":
        raise ValueError(f"reconcile takes the error of a send (POST), not of a {error.method[:10]!r} request")
    if error.invoice_id is None or error.alt_id is None or error.alt_type is None:
        raise ValueError(
            "the error does not name its invoice, altId and altType (was it built by hand?);"
            " use reconcile_send() with them instead"
        )
    before_status = before_updated_at = None
    if before is not None:
        if not isinstance(before, Invoice):
            raise TypeError(f"before must be the Invoice read before the send, or None, not {type(before).__name__}")
        if text_of(before.id) != error.invoice_id:
            raise ValueError("before is another invoice than the error's")
        before_status = text_of(before.status)
        updated = before.updated_at
        before_updated_at = None if isinstance(updated, Unset) else text_of(updated)
    return Reading.build(
        client,
        error.invoice_id,
        error.alt_id,
        error.alt_type,
        error.attempted_at,
        before_status,
        before_updated_at,
        grace_period,
        max_reads,
        answered_2xx=isinstance(error, ContractViolationError),
    )


def reconcile(
    error: OutcomeUnknownError | ContractViolationError,
    *,
    client: AuthenticatedClient,
    before: Invoice | None = None,
    grace_period: float = GRACE_PERIOD,
    max_reads: int = MAX_READS,
) -> Reconciliation:
    """Read the invoice of a send that raised `error` and say whether it was sent (see the module).

    `before` is the invoice as read before the send (its status and updatedAt are the best evidence).
    Reads only; never sends. Raises TypeError or ValueError for bad input, before any I/O.
    """
    return _run(_reading_for_error(error, client, before, grace_period, max_reads), client)


async def areconcile(
    error: OutcomeUnknownError | ContractViolationError,
    *,
    client: AuthenticatedClient,
    before: Invoice | None = None,
    grace_period: float = GRACE_PERIOD,
    max_reads: int = MAX_READS,
) -> Reconciliation:
    """`reconcile` for asyncio."""
    return await _arun(_reading_for_error(error, client, before, grace_period, max_reads), client)


def reconcile_send(
    *,
    client: AuthenticatedClient,
    invoice_id: str,
    alt_id: str,
    alt_type: str = "location",
    attempted_at: datetime.datetime | None = None,
    before_status: str | None = None,
    before_updated_at: str | None = None,
    grace_period: float = GRACE_PERIOD,
    max_reads: int = MAX_READS,
) -> Reconciliation:
    """Reconcile a send whose error is gone (the process stopped between the send and its outcome),
    from what a ledger kept: the invoice, its location, when the send was attempted (aware, UTC) and,
    if read before, its status and updatedAt. Reads only; never sends."""
    reading = Reading.build(
        client, invoice_id, alt_id, alt_type, attempted_at, before_status, before_updated_at, grace_period, max_reads
    )
    return _run(reading, client)


async def areconcile_send(
    *,
    client: AuthenticatedClient,
    invoice_id: str,
    alt_id: str,
    alt_type: str = "location",
    attempted_at: datetime.datetime | None = None,
    before_status: str | None = None,
    before_updated_at: str | None = None,
    grace_period: float = GRACE_PERIOD,
    max_reads: int = MAX_READS,
) -> Reconciliation:
    """`reconcile_send` for asyncio."""
    reading = Reading.build(
        client, invoice_id, alt_id, alt_type, attempted_at, before_status, before_updated_at, grace_period, max_reads
    )
    return await _arun(reading, client)


def ledger_reconciler(*, error: LeadwayError | None, client: AuthenticatedClient, **send: Any) -> Reconciliation:
    """How a SendLedger reconciles a key: `reconcile(error)` when the send's error is at hand (it
    knows a 2xx was answered), else `reconcile_send` from what the ledger kept."""
    if error is not None and outcome_unknown(error) and error.alt_id is not None:
        return reconcile(error, client=client, grace_period=send["grace_period"], max_reads=send["max_reads"])
    return reconcile_send(client=client, **send)


async def ledger_areconciler(*, error: LeadwayError | None, client: AuthenticatedClient, **send: Any) -> Reconciliation:
    """`ledger_reconciler` for asyncio."""
    if error is not None and outcome_unknown(error) and error.alt_id is not None:
        return await areconcile(error, client=client, grace_period=send["grace_period"], max_reads=send["max_reads"])
    return await areconcile_send(client=client, **send)
