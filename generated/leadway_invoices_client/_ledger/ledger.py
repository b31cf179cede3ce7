"""A durable send ledger: each intended send, named by a key, goes out at most once.

The send call has no idempotency key, so a job that crashes and is run again would email the
customer twice. The ledger records the intent (durably, before any I/O) and the outcome (after), in a
store shared by every thread and process that sends (an SQLite file: `sqlite.py`, `sqlite_store.py`):

* a key that is SENT is never sent again;
* a key whose outcome is unknown (timeout, dropped connection, 5xx, a 2xx that breaks the spec, a
  process killed between intent and outcome, or an outcome the store could not record) is reconciled
  by reading the invoice before anything is resent: SENT, NOT_SENT (sent in the same call, once it is
  claimed again) or UNDETERMINED (NEEDS_ATTENTION: never resent automatically; a person decides with
  `resolve`), or PENDING again while the invoice cannot be read;
* only a provable not-sent (a failure before the request left, 401, 429, a reconciled NOT_SENT) is sent
  again, and a NOT_SENT that reconciliation found is read once more first: a slow send may have landed
  since;
* a send the API refused as asked (400, 403, 404, 422) is REFUSED: left alone unless asked again;
* a key is claimed atomically, with its owner's identity (`claims.py`), so two threads or processes
  never send it at once, and a dead owner's claim is recognised and reconciled.

`send` / `asend` do the whole job for a key in one call. This module decides; the store keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

from .._runtime.call import Call
from .._runtime.client import AuthenticatedClient
from .._runtime.constants import GRACE_PERIOD, LEASE, LOCATION_LEASE, MAX_READS, WEBHOOK_POLL
from .._runtime.errors import LeadwayError, proves_not_sent
from .._runtime.text import plain
from .._runtime.validation import seconds
from ..api.invoices import get_invoice, send_invoice
from ..models.send_invoice_request import SendInvoiceRequest
from . import claims
from .postgres_store import PostgresStore, is_postgres_url
from .reconcile import MAX_GRACE_PERIOD, READS_LIMIT, Reconciliation, ledger_areconciler, ledger_reconciler
from .records import (
    LedgerError,
    LedgerRecord,
    SendState,
    WebhookEvent,
    WebhookOutcome,
    check_key,
    describe,
    encode_evidence,
    held,
    reconciled_not_sent,
    reconciled_state,
    record_of,
    refusal,
    refused,
    stamp,
    unreconciled_state,
)
from .sqlite_store import SqliteStore
from .store import Job, Store, Tx
from .verdicts import text_of
from .webhook_events import record_event, sent_evidence, settled_reason

__all__ = ["LedgerError", "LedgerRecord", "SendLedger", "SendState", "WebhookEvent", "WebhookOutcome"]

Reconciler = Callable[..., Reconciliation]
"""Called with `error` (the send's OutcomeUnknownError or ContractViolationError, or None for a key
an interrupted send left pending), `client`, `invoice_id`, `alt_id`, `alt_type`, `attempted_at`,
`grace_period` and `max_reads`."""
AsyncReconciler = Callable[..., Awaitable[Reconciliation]]


@dataclasses.dataclass
class _Claim:
    """What claiming a key decided for one call: send `call`, reconcile first, or return `record`.

    `alt_id` / `alt_type` are the location the key's intent records: the call's, or for a key left
    pending, the one its interrupted send recorded (which reconciliation reads)."""

    key: str
    call: Call
    alt_id: str
    alt_type: str
    attempts: int = 0
    record: LedgerRecord | None = None
    claim: str = ""
    attempted_at: dt.datetime | None = None
    reconcile_first: bool = False
    read_once: bool = False
    """Reconcile with one read now: a NOT_SENT that reconciliation found, about to be sent again."""
    just_read: bool = False
    """Claimed again right after a reconciliation in this call read the invoice: no read before sending."""

    @classmethod
    def of(cls, key: str, call: Call, *, just_read: bool = False) -> _Claim:
        return cls(key, call, str(call.alt_id), str(call.alt_type), just_read=just_read)

    @property
    def invoice_id(self) -> str:
        return self.call.invoice_id

    def as_record(self, state: SendState, reason: str, status_code: int | None) -> LedgerRecord:
        """The key's record as this call left it, when the store could not record it."""
        return LedgerRecord(
            self.key, self.invoice_id, self.alt_id, state, reason, self.attempts, None, False, status_code
        )


class SendLedger:
    """A durable ledger of sends, safe across threads and processes: in one SQLite file (WAL) shared
    by one host's processes, or in a PostgreSQL database shared by hosts.

    Args:
        path: The ledger file, created when absent (its folder must exist), readable by its owner
            only; or a `postgresql://` URL (needs the `postgres` extra), whose tables are created
            when absent.
        grace_period, max_reads: passed to reconciliation (see `reconcile`); the grace period is at most
            an hour, as reconciliation takes it.
        lease: Seconds a claim is presumed alive when its owner cannot be checked (another host or
            container sharing the file, or Windows); on the same host the owner's pid is checked. On
            PostgreSQL it runs on the database's clock, renewed while the send is in flight.
        location_lease: Seconds a host holds a location's rate budget on PostgreSQL (`take_location`).
        reconciler, areconciler: replace `reconcile.ledger_reconciler` / `ledger_areconciler` (for tests).
        webhooks: a receiver feeds this ledger InvoiceSent webhooks (`leadway-invoices webhooks serve`):
            a key that a reconciliation leaves unsettled before its grace period ends (a read refused at
            once: a token without `invoices.readonly`, a 404) waits the rest of the period for one.
            Without it such a key is recorded at once, and an event that comes later settles it then.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        grace_period: float = GRACE_PERIOD,
        max_reads: int = MAX_READS,
        lease: float = LEASE,
        location_lease: float = LOCATION_LEASE,
        reconciler: Reconciler = ledger_reconciler,
        areconciler: AsyncReconciler = ledger_areconciler,
        webhooks: bool = False,
    ) -> None:
        self.path: Path | None = None if is_postgres_url(path) else Path(path)
        # Checked now, by reconciliation's own rules: it would refuse them only after a send.
        self.grace_period = seconds("grace_period", grace_period, maximum=MAX_GRACE_PERIOD)
        if isinstance(max_reads, bool) or not isinstance(max_reads, int) or not 1 <= max_reads <= READS_LIMIT:
            raise ValueError(f"max_reads must be an int from 1 to {READS_LIMIT}, not {max_reads!r}")
        self.max_reads = max_reads
        self.lease = seconds("lease", lease, positive=True)
        self.location_lease = seconds("location_lease", location_lease, positive=True)
        self._reconciler = reconciler
        self._areconciler = areconciler
        self.webhooks = bool(webhooks)
        # The one place a store is chosen: by the URL's scheme.
        self._store: Store = (
            PostgresStore(str(path), lease=self.lease, location_lease=self.location_lease)
            if self.path is None
            else SqliteStore(self.path)
        )

    @property
    def location(self) -> str:
        """Where the records are, as it may be shown: the file, or the URL with its password masked."""
        return self._store.location

    @property
    def shared(self) -> bool:
        """Whether hosts share this ledger (PostgreSQL): each location's rate budget is then one
        host's at a time (`take_location`)."""
        return isinstance(self._store, PostgresStore)

    def take_location(self, location: str, of: int = 0) -> bool:
        """Whether this process may send to `location` now: on a shared ledger, whether it holds the
        location's lease (taken now, or still its own, renewed while it is held); always on a file.
        `of`: how many locations this process has to send to; it then takes no more than its share of
        them among the hosts using the ledger, so that hosts starting together split the locations."""
        return self._store.take_location(location, of) if isinstance(self._store, PostgresStore) else True

    def sent_already(self, keys: list[str]) -> dict[str, LedgerRecord]:
        """On a shared ledger, the records of those of `keys` that are SENT, read at once (a host taking
        over a location another host sent to skips those rows without a claim each); else empty."""
        if not isinstance(self._store, PostgresStore):
            return {}
        return {record.key: attrs.evolve(record, skipped=True) for record in self._store.read_sent(keys)}

    def holds_location(self, location: str) -> bool:
        """Whether this process still holds `location`'s lease (a host stalled past it lost it)."""
        return self._store.holds_location(location) if isinstance(self._store, PostgresStore) else True

    def free_location(self, location: str) -> None:
        """Give `location`'s lease up, for another host to take."""
        if isinstance(self._store, PostgresStore):
            self._store.free_location(location)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> SendLedger:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SendLedger({self._store.location!r})"

    def get(self, key: str) -> LedgerRecord | None:
        """The record of `key`, or None when the ledger has never seen it."""
        key = check_key(key)
        return self._store.read(lambda tx: tx.read_one(key))

    def records(self) -> list[LedgerRecord]:
        """Every record, by key."""
        return self._store.read(lambda tx: tx.read_all())

    def send(
        self,
        key: str,
        *,
        client: AuthenticatedClient,
        invoice_id: str,
        body: SendInvoiceRequest,
        only_if_draft: bool = False,
        retry_refused: bool = False,
    ) -> LedgerRecord:
        """Send the invoice unless the key says it was (or may have been) sent; record the outcome.

        A key left pending by an interrupted send is reconciled first, and sent in this same call
        only when the invoice shows it was not.

        Args:
            only_if_draft: before the key's first send (or a resend of a provable not-sent), read the
                invoice and send only if it still reads `draft`; else the key is REFUSED. A guard for
                a ledger that does not know what was sent before (a new file, another host); leave
                it off for a deliberate resend, such as a reminder.
            retry_refused: send a REFUSED key again (the API refused it as asked; has that changed?).

        Returns the key's record. Raises only for bad input (TypeError, ValueError, LedgerError)
        before any I/O, LedgerError when the intent cannot be recorded (disk full...: nothing was
        sent), or re-raises what interrupted the call (KeyboardInterrupt...) after leaving the key
        PENDING, to be reconciled by the next call. An outcome the store cannot record after the
        request left is no error: the key stays PENDING for the next call to reconcile, and the
        record returned says so.
        """
        claiming = self._claim(key, invoice_id, body, client, retry_refused)
        try:
            claimed: _Claim = self._store.submit(claiming)
            if claimed.reconcile_first:
                reconciled = self._reconcile(claimed, client, None)
                if reconciled.state is not SendState.NOT_SENT:
                    return reconciled
                claiming = self._claim_again(claimed, retry_refused)
                claimed = self._store.submit(claiming)
            if claimed.record is not None:
                return claimed.record
            if only_if_draft and not claimed.just_read:
                declined = self._read_first(claimed, client)
                if declined is not None:
                    return declined
            try:
                send_invoice.sync_prepared(self._stamped(claimed), client=client)
            except LeadwayError as error:
                return self._failed(claimed, client, error)
            return self._finish(claimed, SendState.SENT, "sent", status_code=200)
        except BaseException as error:
            self._abandon(claiming, error)
            raise

    async def asend(
        self,
        key: str,
        *,
        client: AuthenticatedClient,
        invoice_id: str,
        body: SendInvoiceRequest,
        only_if_draft: bool = False,
        retry_refused: bool = False,
    ) -> LedgerRecord:
        """`send` for asyncio. The ledger's writes run in a thread of its own (an intent waits for
        its fsync), off the event loop; writes of concurrent tasks share one commit. A cancelled task
        leaves the key PENDING, like an interrupted `send`."""
        claiming = self._claim(key, invoice_id, body, client, retry_refused)
        try:
            claimed: _Claim = await self._store.asubmit(claiming)
            if claimed.reconcile_first:
                reconciled = await self._areconcile(claimed, client, None)
                if reconciled.state is not SendState.NOT_SENT:
                    return reconciled
                claiming = self._claim_again(claimed, retry_refused)
                claimed = await self._store.asubmit(claiming)
            if claimed.record is not None:
                return claimed.record
            if only_if_draft and not claimed.just_read:
                declined = await self._aread_first(claimed, client)
                if declined is not None:
                    return declined
            try:
                await send_invoice.asyncio_prepared(self._stamped(claimed), client=client)
            except LeadwayError as error:
                return await self._afailed(claimed, client, error)
            return await self._afinish(claimed, SendState.SENT, "sent", status_code=200)
        except BaseException as error:
            self._abandon(claiming, error)
            raise

    def resolve(self, key: str, state: SendState, note: str) -> LedgerRecord:
        """A person's verdict on a key (typically NEEDS_ATTENTION after checking the InvoiceSent
        webhook or the customer): SENT (never send it) or NOT_SENT (the next call sends it).

        Refused for a key that is being sent right now. `note` is stored (printable, at most 500
        characters): keep customer data out.
        """
        key = check_key(key)
        state = SendState(state)
        if state not in (SendState.SENT, SendState.NOT_SENT):
            raise ValueError(f"a key can be resolved as SENT or NOT_SENT, not {state.name}")
        if not isinstance(note, str) or not note.strip():
            raise ValueError("resolve needs a note saying how the outcome was established")
        reason = f"resolved by hand: {plain(note.strip(), 500)}"

        def run(tx: Tx) -> LedgerRecord:
            row = tx.row(key)
            if row is None:
                raise LedgerError(f"ledger key {key!r} is unknown")
            if row["state"] == SendState.PENDING and held(row, tx.clock()):
                raise LedgerError(f"ledger key {key!r} is being sent right now; resolve it once that ends")
            return tx.write_resolution(key=key, state=state, reason=reason, updated_at=_now())

        result: LedgerRecord = self._store.submit(Job(run, durable=True))
        return result

    def record_webhook(self, event: WebhookEvent) -> WebhookOutcome:
        """Record a verified webhook delivery, durably, once per webhook id, and settle as SENT the keys
        of its invoice that an InvoiceSent proves sent (`webhook_events.py` says when). A duplicate
        delivery changes nothing (`new` is False). LedgerError when the ledger cannot be written."""
        result: WebhookOutcome = self._store.submit(self._event_job(event))
        return result

    async def arecord_webhook(self, event: WebhookEvent) -> WebhookOutcome:
        """`record_webhook` for asyncio (a receiver's): deliveries recorded meanwhile share one commit."""
        result: WebhookOutcome = await self._store.asubmit(self._event_job(event))
        return result

    def events(self, invoice_id: str) -> list[WebhookEvent]:
        """The webhook events recorded for `invoice_id`, oldest first."""
        return self._store.read(lambda tx: tx.events_for(invoice_id))

    @staticmethod
    def _event_job(event: WebhookEvent) -> Job:
        if not isinstance(event, WebhookEvent):
            raise TypeError(f"event must be a WebhookEvent, not {type(event).__name__}")
        return Job(lambda tx: record_event(tx, event), durable=True)

    # -- claiming a key -----------------------------------------------------------------------------

    def _claim(
        self, key: str, invoice_id: str, body: SendInvoiceRequest, client: AuthenticatedClient, retry_refused: bool
    ) -> Job:
        """Check the input and prepare the request (raising before anything is recorded), then the
        claim's job."""
        key = check_key(key)
        if not isinstance(client, AuthenticatedClient):
            raise TypeError(f"client must be an AuthenticatedClient, not {type(client).__name__}")
        if not isinstance(body, SendInvoiceRequest):
            raise TypeError(f"body must be a SendInvoiceRequest, not {type(body).__name__}")
        # The request, checked and serialised once: the ledger sends this very call.
        return self._claim_job(_Claim.of(key, send_invoice.prepare(invoice_id, body=body)), retry_refused)

    def _claim_again(self, reconciled: _Claim, retry_refused: bool) -> Job:
        """The claim of a key reconciled as not sent in this call, to send it now."""
        return self._claim_job(_Claim.of(reconciled.key, reconciled.call, just_read=True), retry_refused)

    def _claim_job(self, claimed: _Claim, retry_refused: bool) -> Job:
        lease = self.lease
        key, invoice_id = claimed.key, claimed.invoice_id

        def run(tx: Tx) -> _Claim:
            row = tx.row(key)
            now = dt.datetime.now(dt.UTC)
            if row is None:
                claimed.attempts, claimed.attempted_at = 1, now
            elif row["invoice_id"] != invoice_id:
                raise LedgerError(
                    f"ledger key {key!r} was recorded for invoice {row['invoice_id']}, not {invoice_id}:"
                    " a key names one send of one invoice"
                )
            elif row["state"] in (SendState.SENT, SendState.NEEDS_ATTENTION) or (
                row["state"] == SendState.REFUSED and not retry_refused
            ):
                claimed.record = attrs.evolve(record_of(row), skipped=True)
                return claimed
            elif row["state"] == SendState.PENDING and held(row, tx.clock()):
                reason = f"in progress elsewhere (pid {row['owner_pid']})"
                claimed.record = attrs.evolve(record_of(row), reason=reason, skipped=True)
                return claimed
            elif row["state"] == SendState.PENDING or (reconciled_not_sent(row) and not claimed.just_read):
                # Left by a send that never recorded its outcome, or found not sent by a reconciliation
                # that may be out of date (a slow send lands late): read before anything is resent,
                # with the location and attempt time that send recorded.
                claimed.reconcile_first = True
                claimed.read_once = row["state"] == SendState.NOT_SENT
                claimed.attempts = row["attempts"]
                claimed.alt_id, claimed.alt_type = row["alt_id"], row["alt_type"]
                claimed.attempted_at = dt.datetime.fromisoformat(row["attempted_at"]) if row["attempted_at"] else None
            else:  # NOT_SENT or REFUSED asked for again: provably not sent, so sent again
                claimed.attempts, claimed.attempted_at = row["attempts"] + 1, now
            claimed.claim = claims.new_claim()
            try:
                tx.write_intent(
                    key=key,
                    invoice_id=invoice_id,
                    alt_id=claimed.alt_id,
                    alt_type=claimed.alt_type,
                    reason="reconciling" if claimed.reconcile_first else "sending",
                    attempts=claimed.attempts,
                    attempted_at=stamp(claimed.attempted_at) if claimed.attempted_at else None,
                    updated_at=stamp(now),
                    claim=claimed.claim,
                    held_by=claims.me(),
                    lease=lease,
                )
            except BaseException:
                claims.drop_claim(claimed.claim)
                raise
            return claimed

        def aborted() -> None:
            if claimed.claim:
                claims.drop_claim(claimed.claim)

        return Job(run, durable=True, aborted=aborted)

    @staticmethod
    def _stamped(claimed: _Claim) -> Call:
        """The claim's call, stamped with the attempt time its intent recorded: one clock for the
        ledger, the request and its errors (which reconciliation reads)."""
        return dataclasses.replace(claimed.call, attempted_at=claimed.attempted_at)

    def _abandon(self, claiming: Job, error: BaseException) -> None:
        """After an interruption: a claim still held is released, PENDING, so the next call
        reconciles the key. Written inline (a cancelled task must not be cancelled again before
        this lands); its own failure must not hide the interruption."""
        claimed = claiming.result if claiming.done and claiming.error is None else None
        if isinstance(claimed, _Claim) and claimed.claim and claims.holds(claimed.claim):
            with contextlib.suppress(LedgerError):
                self._write(claimed, SendState.PENDING, f"interrupted: {describe(error)}")

    # -- before the first send: does the invoice still read draft? ----------------------------------

    def _read_first(self, claimed: _Claim, client: AuthenticatedClient) -> LedgerRecord | None:
        try:
            invoice = get_invoice.sync_prepared(_read_call(claimed), client=client, strict=False)
        except LeadwayError as error:
            return self._finish(claimed, *_unread(error))
        status = text_of(invoice.status)
        return None if status == "draft" else self._finish(claimed, *_not_draft(client, status))

    async def _aread_first(self, claimed: _Claim, client: AuthenticatedClient) -> LedgerRecord | None:
        try:
            invoice = await get_invoice.asyncio_prepared(_read_call(claimed), client=client, strict=False)
        except LeadwayError as error:
            return await self._afinish(claimed, *_unread(error))
        status = text_of(invoice.status)
        return None if status == "draft" else await self._afinish(claimed, *_not_draft(client, status))

    # -- after the request left: what it proves, recorded -------------------------------------------

    def _failed(self, claimed: _Claim, client: AuthenticatedClient, error: LeadwayError) -> LedgerRecord:
        if refused(error) or proves_not_sent(error):
            return self._finish(claimed, *_not_sent(error))
        with contextlib.suppress(LedgerError):  # PENDING already, from the intent: reconciled next call
            self._write(claimed, SendState.PENDING, f"outcome unknown: {describe(error)}; reconciling", keep_claim=True)
        return self._reconcile(claimed, client, error)

    async def _afailed(self, claimed: _Claim, client: AuthenticatedClient, error: LeadwayError) -> LedgerRecord:
        if refused(error) or proves_not_sent(error):
            return await self._afinish(claimed, *_not_sent(error))
        with contextlib.suppress(LedgerError):
            reason = f"outcome unknown: {describe(error)}; reconciling"
            await self._awrite(claimed, SendState.PENDING, reason, keep_claim=True)
        return await self._areconcile(claimed, client, error)

    def _finish(
        self, claimed: _Claim, state: SendState, reason: str, status_code: int | None = None, **kw: Any
    ) -> LedgerRecord:
        """Record an outcome after I/O. When the store cannot (disk full...), the key stays PENDING
        from its intent, for the next call to reconcile, and the record returned says so."""
        try:
            record = self._write(claimed, state, reason, **kw)
        except LedgerError as failure:
            return claimed.as_record(*_unrecorded(state, reason, failure), status_code)
        return attrs.evolve(record, status_code=status_code)

    async def _afinish(
        self, claimed: _Claim, state: SendState, reason: str, status_code: int | None = None, **kw: Any
    ) -> LedgerRecord:
        try:
            record = await self._awrite(claimed, state, reason, **kw)
        except LedgerError as failure:
            return claimed.as_record(*_unrecorded(state, reason, failure), status_code)
        return attrs.evolve(record, status_code=status_code)

    def _outcome(
        self,
        claimed: _Claim,
        state: SendState,
        reason: str,
        *,
        evidence: Reconciliation | None = None,
        keep_claim: bool = False,
        skipped: bool = False,
    ) -> Job:
        stored = encode_evidence(evidence) if evidence is not None else None
        # An unknown outcome recorded after an InvoiceSent webhook for this attempt already came: settled.
        settle = not keep_claim and (
            state in (SendState.PENDING, SendState.NEEDS_ATTENTION)
            or (state is SendState.NOT_SENT and evidence is not None)
        )
        attempted = stamp(claimed.attempted_at) if claimed.attempted_at is not None else None

        def run(tx: Tx) -> LedgerRecord:
            event = sent_evidence(tx.events_for(claimed.invoice_id), attempted) if settle and attempted else None
            found = tx.write_outcome(
                key=claimed.key,
                claim=claimed.claim,
                state=state if event is None else SendState.SENT,
                reason=reason if event is None else f"{settled_reason(event, attempted)} ({reason})",
                updated_at=_now(),
                evidence=stored,
                keep_claim=keep_claim,
            )
            return attrs.evolve(found, skipped=skipped)

        return Job(run, durable=False)

    def _write(self, claimed: _Claim, state: SendState, reason: str, **kwargs: Any) -> LedgerRecord:
        try:
            record: LedgerRecord = self._store.submit(self._outcome(claimed, state, reason, **kwargs))
        finally:
            self._done(claimed, kwargs)
        return record

    async def _awrite(self, claimed: _Claim, state: SendState, reason: str, **kwargs: Any) -> LedgerRecord:
        try:
            record: LedgerRecord = await self._store.asubmit(self._outcome(claimed, state, reason, **kwargs))
        finally:
            self._done(claimed, kwargs)
        return record

    @staticmethod
    def _done(claimed: _Claim, kwargs: dict[str, Any]) -> None:
        # Once the outcome is committed, or failed to be: the row then stays PENDING with this
        # claim, and other threads here must see it as abandoned (reconciled), not as being sent.
        if not kwargs.get("keep_claim", False):
            claims.drop_claim(claimed.claim)

    # -- reconciling --------------------------------------------------------------------------------

    def _reconcile_args(
        self, claimed: _Claim, client: AuthenticatedClient, error: LeadwayError | None
    ) -> dict[str, Any]:
        return {
            "error": error,
            "client": client,
            "invoice_id": claimed.invoice_id,
            "alt_id": claimed.alt_id,
            "alt_type": claimed.alt_type,
            "attempted_at": claimed.attempted_at,
            # A reconciled NOT_SENT waited out its grace period already: one read now tells.
            "grace_period": 0.0 if claimed.read_once else self.grace_period,
            "max_reads": 1 if claimed.read_once else self.max_reads,
        }

    def _reconcile(self, claimed: _Claim, client: AuthenticatedClient, error: LeadwayError | None) -> LedgerRecord:
        try:
            found = self._reconciler(**self._reconcile_args(claimed, client, error))
        except Exception as failure:
            return self._finish(claimed, *unreconciled_state(error, failure), skipped=error is None)
        state, reason = reconciled_state(error, found)
        while (left := self._webhook_time_left(claimed, state)) > 0 and not self._webhook_came(claimed):
            time.sleep(min(WEBHOOK_POLL, left))
        return self._finish(claimed, state, reason, evidence=found, skipped=error is None)

    async def _areconcile(
        self, claimed: _Claim, client: AuthenticatedClient, error: LeadwayError | None
    ) -> LedgerRecord:
        try:
            found = await self._areconciler(**self._reconcile_args(claimed, client, error))
        except Exception as failure:
            return await self._afinish(claimed, *unreconciled_state(error, failure), skipped=error is None)
        state, reason = reconciled_state(error, found)
        while True:  # the event comes from another process (the receiver): polled, as the sync path does
            left = self._webhook_time_left(claimed, state)
            if left <= 0 or await asyncio.to_thread(self._webhook_came, claimed):
                break
            await asyncio.sleep(min(WEBHOOK_POLL, left))
        return await self._afinish(claimed, state, reason, evidence=found, skipped=error is None)

    # -- webhooks within the grace period ------------------------------------------------------------

    def _webhook_time_left(self, claimed: _Claim, state: SendState) -> float:
        """Seconds of the grace period left in which an InvoiceSent may still settle a key that a
        reconciliation left unsettled before the period ended (a read refused at once): the period is
        what the caller gave the send to show, and a webhook is one way it shows. 0 for a settled key."""
        if not self.webhooks or state not in (SendState.PENDING, SendState.NEEDS_ATTENTION):
            return 0.0
        if claimed.attempted_at is None:
            return 0.0
        return claimed.attempted_at.timestamp() + self.grace_period - time.time()

    def _webhook_came(self, claimed: _Claim) -> bool:
        """Whether an InvoiceSent after the claim's attempt is in the ledger (its outcome job then
        settles the key)."""
        assert claimed.attempted_at is not None
        attempted = stamp(claimed.attempted_at)
        found = self._store.read(lambda tx: sent_evidence(tx.events_for(claimed.invoice_id), attempted))
        return found is not None


def _read_call(claimed: _Claim) -> Call:
    return get_invoice.prepare(claimed.invoice_id, alt_id=claimed.alt_id, alt_type=claimed.alt_type)  # type: ignore[arg-type]


def _not_sent(error: LeadwayError) -> tuple[SendState, str, int | None]:
    """The state and reason of a send that provably did not run."""
    if refused(error):
        return SendState.REFUSED, f"refused: {refusal(error)}", error.status_code
    return SendState.NOT_SENT, f"not sent: {describe(error)}", error.status_code


def _unread(error: LeadwayError) -> tuple[SendState, str, int | None]:
    """The invoice could not be read before its first send: nothing is sent."""
    if refused(error):
        reason = f"refused: the invoice could not be read before its first send: {refusal(error)}"
        return SendState.REFUSED, reason, error.status_code
    cause = f"not sent: the invoice could not be read before its first send ({describe(error)})"
    return SendState.NOT_SENT, cause, error.status_code


def _not_draft(client: AuthenticatedClient, status: str | None) -> tuple[SendState, str, int | None]:
    shown = plain(client.redact(status), 40) if status is not None else "no status"
    reason = f"refused: the invoice reads {shown}, not draft; only a draft is sent, unless a resend is asked for"
    return SendState.REFUSED, reason, 200


def _unrecorded(state: SendState, reason: str, failure: LedgerError) -> tuple[SendState, str]:
    """What a call reports when the store could not record its outcome: a send's outcome is then
    unknown to the ledger (the key stays PENDING, reconciled by the next call); a provable not-sent
    is still not sent."""
    note = f"the ledger could not record it ({plain(str(failure), 200)}); the next call reconciles the key"
    if state is SendState.SENT:
        return SendState.PENDING, f"outcome unknown to the ledger: the API answered the send with a 2xx, but {note}"
    return state, f"{reason} ({note})"


def _now() -> str:
    return stamp(dt.datetime.now(dt.UTC))
