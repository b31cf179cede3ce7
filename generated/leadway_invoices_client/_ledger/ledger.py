"""A durable send ledger: each intended send, named by a key, goes out at most once.

The send call has no idempotency key, so a job that crashes and is run again would email the
customer twice. The ledger records the intent (durably, before any I/O) and the outcome (after),
in one SQLite file (`sqlite.py`, written in group commits by `commit.py`) shared by every thread and
process that sends:

* a key that is SENT is never sent again;
* a key whose outcome is unknown (timeout, dropped connection, 5xx, a 2xx that breaks the spec, or
  a process killed between intent and outcome) is reconciled by reading the invoice before anything
  is resent: SENT, NOT_SENT (sent in the same call, once it is claimed again) or UNDETERMINED
  (NEEDS_ATTENTION: never resent automatically; a person decides with `resolve`), or PENDING again
  while the invoice cannot be read;
* only a provable not-sent (a 4xx, a failure before the request left the machine, a reconciled
  NOT_SENT) is sent again;
* a key is claimed atomically (BEGIN IMMEDIATE), with its owner's identity (`claims.py`), so two
  threads or processes never send it at once, and a dead owner's claim is recognised and reconciled.

`send` / `asend` do the whole job for a key in one call; this module decides, `sqlite.py` stores.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

from .._runtime.call import Call
from .._runtime.client import AuthenticatedClient
from .._runtime.constants import GRACE_PERIOD, LEASE, MAX_READS
from .._runtime.errors import LeadwayError, proves_not_sent
from .._runtime.validation import seconds
from ..api.invoices import send_invoice
from ..models.send_invoice_request import SendInvoiceRequest
from . import claims, sqlite
from .commit import Job, LedgerFile
from .reconcile import READS_LIMIT, Reconciliation, ledger_areconciler, ledger_reconciler
from .records import (
    LedgerError,
    LedgerRecord,
    SendState,
    check_key,
    describe,
    encode_evidence,
    reconciled_state,
    stamp,
    unreconciled_state,
)

__all__ = ["LedgerError", "LedgerRecord", "SendLedger", "SendState"]

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

    @classmethod
    def of(cls, key: str, call: Call) -> _Claim:
        return cls(key, call, str(call.alt_id), str(call.alt_type))

    @property
    def invoice_id(self) -> str:
        return self.call.invoice_id


class SendLedger:
    """A durable ledger of sends in one SQLite file (WAL), safe across threads and processes.

    Args:
        path: The ledger file; created when absent (its folder must exist).
        grace_period, max_reads: passed to reconciliation (see `reconcile`).
        lease: Seconds a claim is presumed alive when its owner cannot be checked (another host or
            container sharing the file, or Windows); on the same host the owner's pid is checked.
        reconciler, areconciler: replace `reconcile.ledger_reconciler` / `ledger_areconciler` (for tests).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        grace_period: float = GRACE_PERIOD,
        max_reads: int = MAX_READS,
        lease: float = LEASE,
        reconciler: Reconciler = ledger_reconciler,
        areconciler: AsyncReconciler = ledger_areconciler,
    ) -> None:
        self.path = Path(path)
        # Checked now: reconciliation would refuse them only after a send, when nothing can be fixed.
        self.grace_period = seconds("grace_period", grace_period)
        if isinstance(max_reads, bool) or not isinstance(max_reads, int) or not 1 <= max_reads <= READS_LIMIT:
            raise ValueError(f"max_reads must be an int from 1 to {READS_LIMIT}, not {max_reads!r}")
        self.max_reads = max_reads
        self.lease = seconds("lease", lease, positive=True)
        self._reconciler = reconciler
        self._areconciler = areconciler
        self._file = LedgerFile(self.path)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SendLedger:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SendLedger({str(self.path)!r})"

    def get(self, key: str) -> LedgerRecord | None:
        """The record of `key`, or None when the ledger has never seen it."""
        key = check_key(key)
        return self._file.read(lambda conn: sqlite.read_one(conn, key))

    def records(self) -> list[LedgerRecord]:
        """Every record, by key."""
        return self._file.read(sqlite.read_all)

    def send(self, key: str, *, client: AuthenticatedClient, invoice_id: str, body: SendInvoiceRequest) -> LedgerRecord:
        """Send the invoice unless the key says it was (or may have been) sent; record the outcome.

        A key left pending by an interrupted send is reconciled first, and sent in this same call
        only when the invoice shows it was not. Returns the key's record. Raises only for bad input
        (TypeError, ValueError, LedgerError) before any I/O, LedgerError when the file cannot be
        written (disk full...), or re-raises what interrupted the call (KeyboardInterrupt...) after
        leaving the key PENDING, to be reconciled by the next call.
        """
        claiming = self._claim(key, invoice_id, body, client)
        try:
            claimed: _Claim = self._file.submit(claiming)
            if claimed.reconcile_first:
                reconciled = self._reconcile(claimed, client, None)
                if reconciled.state is not SendState.NOT_SENT:
                    return reconciled
                claiming = self._claim_again(claimed)
                claimed = self._file.submit(claiming)
            if claimed.record is not None:
                return claimed.record
            try:
                send_invoice.sync_prepared(self._stamped(claimed), client=client)
            except LeadwayError as error:
                if proves_not_sent(error):
                    return self._write(claimed, SendState.NOT_SENT, f"not sent: {describe(error)}")
                reason = f"outcome unknown: {describe(error)}; reconciling"
                self._write(claimed, SendState.PENDING, reason, keep_claim=True)
                return self._reconcile(claimed, client, error)
            return self._write(claimed, SendState.SENT, "sent")
        except BaseException as error:
            self._abandon(claiming, error)
            raise

    async def asend(
        self, key: str, *, client: AuthenticatedClient, invoice_id: str, body: SendInvoiceRequest
    ) -> LedgerRecord:
        """`send` for asyncio. The ledger's writes run in a thread of its own (an intent waits for
        its fsync), off the event loop; writes of concurrent tasks share one commit. A cancelled task
        leaves the key PENDING, like an interrupted `send`."""
        claiming = self._claim(key, invoice_id, body, client)
        try:
            claimed: _Claim = await self._file.asubmit(claiming)
            if claimed.reconcile_first:
                reconciled = await self._areconcile(claimed, client, None)
                if reconciled.state is not SendState.NOT_SENT:
                    return reconciled
                claiming = self._claim_again(claimed)
                claimed = await self._file.asubmit(claiming)
            if claimed.record is not None:
                return claimed.record
            try:
                await send_invoice.asyncio_prepared(self._stamped(claimed), client=client)
            except LeadwayError as error:
                if proves_not_sent(error):
                    return await self._awrite(claimed, SendState.NOT_SENT, f"not sent: {describe(error)}")
                reason = f"outcome unknown: {describe(error)}; reconciling"
                await self._awrite(claimed, SendState.PENDING, reason, keep_claim=True)
                return await self._areconcile(claimed, client, error)
            return await self._awrite(claimed, SendState.SENT, "sent")
        except BaseException as error:
            self._abandon(claiming, error)
            raise

    def resolve(self, key: str, state: SendState, note: str) -> LedgerRecord:
        """A person's verdict on a key (typically NEEDS_ATTENTION after checking the InvoiceSent
        webhook or the customer): SENT (never send it) or NOT_SENT (the next call sends it).

        Refused for a key that is being sent right now. `note` is stored: keep customer data out.
        """
        key = check_key(key)
        state = SendState(state)
        if state not in (SendState.SENT, SendState.NOT_SENT):
            raise ValueError(f"a key can be resolved as SENT or NOT_SENT, not {state.name}")
        if not isinstance(note, str) or not note.strip():
            raise ValueError("resolve needs a note saying how the outcome was established")

        def run(conn: sqlite3.Connection) -> LedgerRecord:
            row = sqlite.row_of(conn, key)
            if row is None:
                raise LedgerError(f"ledger key {key!r} is unknown")
            if row["state"] == SendState.PENDING and _held(row):
                raise LedgerError(f"ledger key {key!r} is being sent right now; resolve it once that ends")
            reason = f"resolved by hand: {note.strip()}"
            return sqlite.write_resolution(conn, key=key, state=state, reason=reason, updated_at=_now())

        result: LedgerRecord = self._file.submit(Job(run, durable=True))
        return result

    # -- the steps of a send, each a Job for the ledger file ----------------------------------------

    def _claim(self, key: str, invoice_id: str, body: SendInvoiceRequest, client: AuthenticatedClient) -> Job:
        """Check the input and prepare the request (raising before anything is recorded), then the
        claim's job."""
        key = check_key(key)
        if not isinstance(client, AuthenticatedClient):
            raise TypeError(f"client must be an AuthenticatedClient, not {type(client).__name__}")
        if not isinstance(body, SendInvoiceRequest):
            raise TypeError(f"body must be a SendInvoiceRequest, not {type(body).__name__}")
        # The request, checked and serialised once: the ledger sends this very call.
        return self._claim_job(_Claim.of(key, send_invoice.prepare(invoice_id, body=body)))

    def _claim_again(self, reconciled: _Claim) -> Job:
        """The claim of a key reconciled as not sent in this call, to send it now."""
        return self._claim_job(_Claim.of(reconciled.key, reconciled.call))

    def _claim_job(self, claimed: _Claim) -> Job:
        lease = self.lease
        key, invoice_id = claimed.key, claimed.invoice_id

        def run(conn: sqlite3.Connection) -> _Claim:
            row = sqlite.row_of(conn, key)
            now = dt.datetime.now(dt.UTC)
            if row is None:
                claimed.attempts, claimed.attempted_at = 1, now
            elif row["invoice_id"] != invoice_id:
                raise LedgerError(
                    f"ledger key {key!r} was recorded for invoice {row['invoice_id']}, not {invoice_id}:"
                    " a key names one send of one invoice"
                )
            elif row["state"] in (SendState.SENT, SendState.NEEDS_ATTENTION):
                claimed.record = attrs.evolve(sqlite.record(row), skipped=True)
                return claimed
            elif row["state"] == SendState.PENDING and _held(row):
                reason = f"in progress elsewhere (pid {row['owner_pid']})"
                claimed.record = attrs.evolve(sqlite.record(row), reason=reason, skipped=True)
                return claimed
            elif row["state"] == SendState.PENDING:
                # Left by a send that never recorded its outcome: reconcile before anything else,
                # with the location and attempt time that send recorded.
                claimed.reconcile_first = True
                claimed.attempts = row["attempts"]
                claimed.alt_id, claimed.alt_type = row["alt_id"], row["alt_type"]
                claimed.attempted_at = dt.datetime.fromisoformat(row["attempted_at"]) if row["attempted_at"] else None
            else:  # NOT_SENT: provably not sent, so sent again
                claimed.attempts, claimed.attempted_at = row["attempts"] + 1, now
            claimed.claim = claims.new_claim()
            try:
                sqlite.write_intent(
                    conn,
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

        def run(conn: sqlite3.Connection) -> LedgerRecord:
            found = sqlite.write_outcome(
                conn,
                key=claimed.key,
                claim=claimed.claim,
                state=state,
                reason=reason,
                updated_at=_now(),
                evidence=stored,
                keep_claim=keep_claim,
            )
            return attrs.evolve(found, skipped=skipped)

        return Job(run, durable=False)

    def _write(self, claimed: _Claim, state: SendState, reason: str, **kwargs: Any) -> LedgerRecord:
        try:
            record: LedgerRecord = self._file.submit(self._outcome(claimed, state, reason, **kwargs))
        finally:
            self._done(claimed, kwargs)
        return record

    async def _awrite(self, claimed: _Claim, state: SendState, reason: str, **kwargs: Any) -> LedgerRecord:
        try:
            record: LedgerRecord = await self._file.asubmit(self._outcome(claimed, state, reason, **kwargs))
        finally:
            self._done(claimed, kwargs)
        return record

    @staticmethod
    def _done(claimed: _Claim, kwargs: dict[str, Any]) -> None:
        # Once the outcome is committed, or failed to be: the row then stays PENDING with this
        # claim, and other threads here must see it as abandoned (reconciled), not as being sent.
        if not kwargs.get("keep_claim", False):
            claims.drop_claim(claimed.claim)

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
            "grace_period": self.grace_period,
            "max_reads": self.max_reads,
        }

    def _reconcile(self, claimed: _Claim, client: AuthenticatedClient, error: LeadwayError | None) -> LedgerRecord:
        try:
            found = self._reconciler(**self._reconcile_args(claimed, client, error))
        except Exception as failure:
            return self._write(claimed, *unreconciled_state(error, failure), skipped=error is None)
        return self._write(claimed, *reconciled_state(error, found), evidence=found, skipped=error is None)

    async def _areconcile(
        self, claimed: _Claim, client: AuthenticatedClient, error: LeadwayError | None
    ) -> LedgerRecord:
        try:
            found = await self._areconciler(**self._reconcile_args(claimed, client, error))
        except Exception as failure:
            return await self._awrite(claimed, *unreconciled_state(error, failure), skipped=error is None)
        return await self._awrite(claimed, *reconciled_state(error, found), evidence=found, skipped=error is None)


def _now() -> str:
    return stamp(dt.datetime.now(dt.UTC))


def _held(row: sqlite3.Row) -> bool:
    """Whether the row's claim is held by a live owner (see `claims.alive`)."""
    held = sqlite.owner(row)
    if held is None:
        return False
    held_by, claim, lease_until = held
    return claims.alive(held_by, claim, lease_until, time.time())
