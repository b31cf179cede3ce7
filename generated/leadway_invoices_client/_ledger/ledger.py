"""A durable send ledger: each intended send, named by a key, goes out at most once.

The send call has no idempotency key, so a job that crashes and is run again would email the
customer twice. The ledger records the intent (durably, before any I/O) and the outcome (after),
in one SQLite file (`file.py`) shared by every thread and process that sends:

* a key that is SENT is never sent again;
* a key whose outcome is unknown (timeout, dropped connection, 5xx, a 2xx that breaks the spec, or
  a process killed between intent and outcome) is reconciled by reading the invoice before anything
  is resent: SENT, NOT_SENT (sent by a later call) or UNDETERMINED (NEEDS_ATTENTION: never resent
  automatically; a person decides with `resolve`), or PENDING again while the invoice cannot be read;
* only a provable not-sent (a 4xx, a failure before the request left the machine, a reconciled
  NOT_SENT) is sent again, by the next call for the key;
* a key is claimed atomically (BEGIN IMMEDIATE), with its owner's identity (`claims`), so two
  threads or processes never send it at once, and a dead owner's claim is recognised and reconciled.

Stored per key: the key, invoice id, altId/altType, state, a reason (error class and status, never
a server's message), attempt count, timestamps and the reconciliation's evidence (statuses and
updatedAt). No token, no request or answer body.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs

from .._runtime.client import AuthenticatedClient
from .._runtime.constants import GRACE_PERIOD, LEASE, MAX_READS
from .._runtime.errors import ContractViolationError, LeadwayError, OutcomeUnknownError
from .._runtime.validation import path_segment
from ..api.invoices import send_invoice
from ..models.send_invoice_request import SendInvoiceRequest
from . import claims
from .file import Job, LedgerFile
from .file import LedgerError as LedgerError  # the ledger's error, importable beside it
from .reconcile import Outcome, Reconciliation, areconcile, areconcile_send, reconcile, reconcile_send

MAX_KEY_LENGTH = 1024

_SELECT_ALL = (
    "SELECT key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, evidence FROM sends ORDER BY key"
)
_SELECT_ONE = (
    "SELECT key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, evidence FROM sends WHERE key = ?"
)
_UPSERT = (
    "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, updated_at,"
    " owner_claim, owner_host, owner_namespace, owner_pid, owner_start, lease_until)"
    " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (key) DO UPDATE SET alt_id = excluded.alt_id, alt_type = excluded.alt_type,"
    " state = 'pending', reason = excluded.reason, attempts = excluded.attempts,"
    " attempted_at = excluded.attempted_at, updated_at = excluded.updated_at,"
    " owner_claim = excluded.owner_claim, owner_host = excluded.owner_host,"
    " owner_namespace = excluded.owner_namespace, owner_pid = excluded.owner_pid,"
    " owner_start = excluded.owner_start, lease_until = excluded.lease_until"
)
_OUTCOME = (
    "UPDATE sends SET state = ?, reason = ?, updated_at = ?, evidence = COALESCE(?, evidence),"
    " owner_claim = CASE WHEN ? THEN owner_claim END WHERE key = ? AND owner_claim = ?"
)


class SendState(enum.StrEnum):
    """Where a key stands."""

    PENDING = "pending"
    """Intent recorded; being sent, or left by a send that was interrupted or whose invoice could
    not be read yet: reconciled by the next call."""
    SENT = "sent"
    """Sent (a 2xx, or reconciled as sent): never sent again."""
    NOT_SENT = "not_sent"
    """Provably not sent (a 4xx, a failure before any I/O, or reconciled): the next call sends it."""
    NEEDS_ATTENTION = "needs_attention"
    """The outcome could not be determined: never sent again until a person `resolve`s it."""


Reconciler = Callable[..., Reconciliation]
"""Called with `error` (the send's OutcomeUnknownError or ContractViolationError, or None for a key
an interrupted send left pending), `client`, `invoice_id`, `alt_id`, `alt_type`, `attempted_at`,
`grace_period` and `max_reads`."""
AsyncReconciler = Callable[..., Awaitable[Reconciliation]]


@attrs.frozen
class LedgerRecord:
    """One key's entry, as a send left it.

    `skipped` is True when no request went out in this call: the key was already SENT, is being
    sent by someone else, NEEDS_ATTENTION, or was only reconciled (a reconciled NOT_SENT is sent by
    the next call).
    """

    key: str
    invoice_id: str
    alt_id: str
    state: SendState
    reason: str
    attempts: int
    evidence: Reconciliation | None = None
    skipped: bool = False


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _store_evidence(found: Reconciliation) -> str:
    return json.dumps(
        {
            "outcome": Outcome(found.outcome).value,
            "reason": found.reason,
            "before_status": found.before_status,
            "before_updated_at": found.before_updated_at,
            "after_status": found.after_status,
            "after_updated_at": found.after_updated_at,
            "reads": found.reads,
        }
    )


def _record(row: sqlite3.Row) -> LedgerRecord:
    evidence = None
    if row["evidence"]:
        kept = json.loads(row["evidence"])
        evidence = Reconciliation(invoice_id=row["invoice_id"], **{**kept, "outcome": Outcome(kept["outcome"])})
    return LedgerRecord(
        key=row["key"],
        invoice_id=row["invoice_id"],
        alt_id=row["alt_id"],
        state=SendState(row["state"]),
        reason=row["reason"],
        attempts=row["attempts"],
        evidence=evidence,
    )


def describe(error: BaseException) -> str:
    """An error as the ledger stores it: its class, status and failure kind, never a server's text
    (an answer's message could quote customer data)."""
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    if status is not None:
        return f"{name} {status}"
    if error.__cause__ is not None:
        return f"{name} ({type(error.__cause__).__name__})"
    return name


def _not_sent(error: LeadwayError) -> bool:
    """True when the error proves the request did not run: the error tree's own verdict
    (`safe_to_retry`: a failure before any byte left, 401, 429), or another error status below 500
    (the API refused the request)."""
    if isinstance(error, OutcomeUnknownError | ContractViolationError):
        return False
    status = error.status_code
    return error.safe_to_retry or (status is not None and 400 <= status < 500)


def default_reconciler(*, error: LeadwayError | None, client: AuthenticatedClient, **send: Any) -> Reconciliation:
    """`reconcile(error)` when the send's error is at hand (it knows a 2xx was answered), else
    `reconcile_send` from what the ledger kept."""
    if isinstance(error, OutcomeUnknownError | ContractViolationError) and error.alt_id is not None:
        return reconcile(error, client=client, grace_period=send["grace_period"], max_reads=send["max_reads"])
    return reconcile_send(client=client, **send)


async def default_areconciler(
    *, error: LeadwayError | None, client: AuthenticatedClient, **send: Any
) -> Reconciliation:
    """`default_reconciler` for asyncio."""
    if isinstance(error, OutcomeUnknownError | ContractViolationError) and error.alt_id is not None:
        return await areconcile(error, client=client, grace_period=send["grace_period"], max_reads=send["max_reads"])
    return await areconcile_send(client=client, **send)


def _seconds(name: str, value: object, *, zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, not {value!r}")
    if value < 0 or (value == 0 and not zero):
        raise ValueError(f"{name} must be {'>= 0' if zero else '> 0'} seconds, not {value!r}")
    return float(value)


def _check_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"a ledger key must be a str, not {type(key).__name__}")
    if not key:
        raise ValueError("a ledger key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a ledger key is at most {MAX_KEY_LENGTH} characters; got {len(key)}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"ledger key {key!r} is not valid Unicode text (a lone surrogate)") from exc
    return str.__str__(key)


@dataclass
class _Plan:
    """What a claim decided for one call: send, reconcile, or return `record` as it is."""

    key: str
    invoice_id: str
    alt_id: str
    alt_type: str
    attempts: int = 0
    record: LedgerRecord | None = None
    claim: str = ""
    attempted_at: dt.datetime | None = None
    reconcile_only: bool = False


class SendLedger:
    """A durable ledger of sends in one SQLite file (WAL), safe across threads and processes.

    Args:
        path: The ledger file; created when absent (its folder must exist).
        grace_period, max_reads: passed to reconciliation (see `reconcile`).
        lease: Seconds a claim is presumed alive when its owner cannot be checked (another host or
            container sharing the file, or Windows); on the same host the owner's pid is checked.
        reconciler, areconciler: replace `default_reconciler` / `default_areconciler` (for tests).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        grace_period: float = GRACE_PERIOD,
        max_reads: int = MAX_READS,
        lease: float = LEASE,
        reconciler: Reconciler = default_reconciler,
        areconciler: AsyncReconciler = default_areconciler,
    ) -> None:
        self.path = Path(path)
        # Checked now: reconciliation would refuse them only after a send, when nothing can be fixed.
        self.grace_period = _seconds("grace_period", grace_period, zero=True)
        if isinstance(max_reads, bool) or not isinstance(max_reads, int) or not 1 <= max_reads <= 100:
            raise ValueError(f"max_reads must be an int from 1 to 100, not {max_reads!r}")
        self.max_reads = max_reads
        self.lease = _seconds("lease", lease, zero=False)
        self._reconciler = reconciler
        self._areconciler = areconciler
        self._file = LedgerFile(self.path)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self._file.close()

    def __enter__(self) -> SendLedger:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SendLedger({str(self.path)!r})"

    def get(self, key: str) -> LedgerRecord | None:
        """The record of `key`, or None when the ledger has never seen it."""
        rows = self._file.read(_SELECT_ONE, _check_key(key))
        return _record(rows[0]) if rows else None

    def records(self) -> list[LedgerRecord]:
        """Every record, by key."""
        return [_record(row) for row in self._file.read(_SELECT_ALL)]

    def send(self, key: str, *, client: AuthenticatedClient, invoice_id: str, body: SendInvoiceRequest) -> LedgerRecord:
        """Send the invoice unless the key says it was (or may have been) sent; record the outcome.

        Returns the key's record. Raises only for bad input (TypeError, ValueError, LedgerError)
        before any I/O, LedgerError when the file cannot be written (disk full...), or re-raises
        what interrupted the call (KeyboardInterrupt...) after leaving the key PENDING, to be
        reconciled by the next call.
        """
        claim = self._claim(key, invoice_id, body, client)
        try:
            plan: _Plan = self._file.submit(claim)
            if plan.record is not None:
                return plan.record
            if plan.reconcile_only:
                return self._reconcile(plan, client, None)
            try:
                send_invoice.sync(plan.invoice_id, client=client, body=body)
            except LeadwayError as error:
                if _not_sent(error):
                    return self._write(plan, SendState.NOT_SENT, f"not sent: {describe(error)}")
                reason = f"outcome unknown: {describe(error)}; reconciling"
                self._write(plan, SendState.PENDING, reason, keep_claim=True)
                return self._reconcile(plan, client, error)
            return self._write(plan, SendState.SENT, "sent")
        except BaseException as error:
            self._abandon(claim, error)
            raise

    async def asend(
        self, key: str, *, client: AuthenticatedClient, invoice_id: str, body: SendInvoiceRequest
    ) -> LedgerRecord:
        """`send` for asyncio. The ledger's writes run in worker threads (an intent waits for its
        fsync), off the event loop; writes of concurrent tasks share one commit. A cancelled task
        leaves the key PENDING, like an interrupted `send`."""
        claim = self._claim(key, invoice_id, body, client)
        try:
            plan: _Plan = await self._asubmit(claim)
            if plan.record is not None:
                return plan.record
            if plan.reconcile_only:
                return await self._areconcile(plan, client, None)
            try:
                await send_invoice.asyncio(plan.invoice_id, client=client, body=body)
            except LeadwayError as error:
                if _not_sent(error):
                    return await self._awrite(plan, SendState.NOT_SENT, f"not sent: {describe(error)}")
                reason = f"outcome unknown: {describe(error)}; reconciling"
                await self._awrite(plan, SendState.PENDING, reason, keep_claim=True)
                return await self._areconcile(plan, client, error)
            return await self._awrite(plan, SendState.SENT, "sent")
        except BaseException as error:
            self._abandon(claim, error)
            raise

    def _abandon(self, claim: Job, error: BaseException) -> None:
        """After an interruption: a claim still held is released, PENDING, so the next call
        reconciles the key. Written inline (a cancelled task must not be cancelled again before
        this lands); its own failure must not hide the interruption."""
        plan = claim.result if claim.done and claim.error is None else None
        if isinstance(plan, _Plan) and plan.claim and claims.holds(plan.claim):
            with contextlib.suppress(LedgerError):
                self._write(plan, SendState.PENDING, f"interrupted: {describe(error)}")

    def resolve(self, key: str, state: SendState, note: str) -> LedgerRecord:
        """A person's verdict on a key (typically NEEDS_ATTENTION after checking the InvoiceSent
        webhook or the customer): SENT (never send it) or NOT_SENT (the next call sends it).

        Refused for a key that is being sent right now. `note` is stored: keep customer data out.
        """
        key = _check_key(key)
        state = SendState(state)
        if state not in (SendState.SENT, SendState.NOT_SENT):
            raise ValueError(f"a key can be resolved as SENT or NOT_SENT, not {state.name}")
        if not isinstance(note, str) or not note.strip():
            raise ValueError("resolve needs a note saying how the outcome was established")

        def run(conn: sqlite3.Connection) -> LedgerRecord:
            row = conn.execute("SELECT * FROM sends WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise LedgerError(f"ledger key {key!r} is unknown")
            if row["state"] == SendState.PENDING and _held(row):
                raise LedgerError(f"ledger key {key!r} is being sent right now; resolve it once that ends")
            conn.execute(
                "UPDATE sends SET state = ?, reason = ?, updated_at = ?, owner_claim = NULL WHERE key = ?",
                (state.value, f"resolved by hand: {note.strip()}", _stamp(dt.datetime.now(dt.UTC)), key),
            )
            return _record(conn.execute(_SELECT_ONE, (key,)).fetchone())

        result: LedgerRecord = self._file.submit(Job(run, durable=True))
        return result

    # -- steps: each a Job for the ledger file -----------------------------------------------------

    async def _asubmit(self, job: Job) -> Any:
        # Off the event loop (an intent waits for its fsync): one thread of the ledger's own
        # commits whatever the tasks queued meanwhile, batch after batch, and wakes each task.
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="send-ledger")
            pool = self._pool
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[Any] = loop.create_future()

        def settle(done: Job) -> None:
            if not settled.done():
                if done.error is not None:
                    settled.set_exception(done.error)
                else:
                    settled.set_result(done.result)

        def notify(done: Job) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
                loop.call_soon_threadsafe(settle, done)

        job.notify = notify
        self._file.submit_later(job, pool.submit)
        try:
            return await settled
        except asyncio.CancelledError:
            # The job goes on in the ledger's thread: let it land (a commit: milliseconds) before
            # the cancellation goes on, so that what it recorded can be released.
            job.finished.wait()
            raise

    def _claim(self, key: str, invoice_id: str, body: SendInvoiceRequest, client: AuthenticatedClient) -> Job:
        """Check the input (raising before anything is recorded), then the claim's job."""
        key = _check_key(key)
        if not isinstance(client, AuthenticatedClient):
            raise TypeError(f"client must be an AuthenticatedClient, not {type(client).__name__}")
        invoice_id = path_segment("invoice_id", invoice_id)
        if not isinstance(body, SendInvoiceRequest):
            raise TypeError(f"body must be a SendInvoiceRequest, not {type(body).__name__}")
        wire = body.to_dict()  # the strict writer's checks
        plan = _Plan(key, invoice_id, str(wire["altId"]), str(wire["altType"]))
        lease = self.lease

        def run(conn: sqlite3.Connection) -> _Plan:
            row = conn.execute("SELECT * FROM sends WHERE key = ?", (key,)).fetchone()
            if row is not None and row["invoice_id"] != invoice_id:
                raise LedgerError(
                    f"ledger key {key!r} was recorded for invoice {row['invoice_id']}, not {invoice_id}:"
                    " a key names one send of one invoice"
                )
            state = SendState(row["state"]) if row is not None else None
            plan.attempts = row["attempts"] if row is not None else 0
            if state in (SendState.SENT, SendState.NEEDS_ATTENTION):
                plan.record = attrs.evolve(_record(row), skipped=True)
                return plan
            now = dt.datetime.now(dt.UTC)
            if state is SendState.PENDING:
                if _held(row):
                    reason = f"in progress elsewhere (pid {row['owner_pid']})"
                    plan.record = attrs.evolve(_record(row), reason=reason, skipped=True)
                    return plan
                # Left by a send that never recorded its outcome: reconcile before anything else.
                plan.reconcile_only = True
                plan.alt_id, plan.alt_type = row["alt_id"], row["alt_type"]
                plan.attempted_at = dt.datetime.fromisoformat(row["attempted_at"]) if row["attempted_at"] else None
            else:
                plan.attempts += 1
                plan.attempted_at = now
            plan.claim = claims.new_claim()
            owner = claims.me()
            try:
                conn.execute(
                    _UPSERT,
                    (
                        key,
                        invoice_id,
                        plan.alt_id,
                        plan.alt_type,
                        "reconciling" if plan.reconcile_only else "sending",
                        plan.attempts,
                        _stamp(plan.attempted_at) if plan.attempted_at else None,
                        _stamp(now),
                        plan.claim,
                        owner.host,
                        owner.namespace,
                        owner.pid,
                        owner.start,
                        time.time() + lease,
                    ),
                )
            except BaseException:
                claims.drop_claim(plan.claim)
                raise
            return plan

        def aborted() -> None:
            if plan.claim:
                claims.drop_claim(plan.claim)

        return Job(run, durable=True, aborted=aborted)

    def _outcome(
        self,
        plan: _Plan,
        state: SendState,
        reason: str,
        *,
        evidence: Reconciliation | None = None,
        keep_claim: bool = False,
        skipped: bool = False,
    ) -> Job:
        stored = _store_evidence(evidence) if evidence is not None else None

        def run(conn: sqlite3.Connection) -> LedgerRecord:
            now = _stamp(dt.datetime.now(dt.UTC))
            conn.execute(_OUTCOME, (state.value, reason, now, stored, keep_claim, plan.key, plan.claim))
            return attrs.evolve(_record(conn.execute(_SELECT_ONE, (plan.key,)).fetchone()), skipped=skipped)

        return Job(run, durable=False)

    def _write(self, plan: _Plan, state: SendState, reason: str, **kwargs: Any) -> LedgerRecord:
        try:
            record: LedgerRecord = self._file.submit(self._outcome(plan, state, reason, **kwargs))
        finally:
            self._done(plan, kwargs)
        return record

    async def _awrite(self, plan: _Plan, state: SendState, reason: str, **kwargs: Any) -> LedgerRecord:
        try:
            record: LedgerRecord = await self._asubmit(self._outcome(plan, state, reason, **kwargs))
        finally:
            self._done(plan, kwargs)
        return record

    @staticmethod
    def _done(plan: _Plan, kwargs: dict[str, Any]) -> None:
        # Once the outcome is committed, or failed to be: the row then stays PENDING with this
        # claim, and other threads here must see it as abandoned (reconciled), not as being sent.
        if not kwargs.get("keep_claim", False):
            claims.drop_claim(plan.claim)

    def _reconcile_args(self, plan: _Plan, client: AuthenticatedClient, error: LeadwayError | None) -> dict[str, Any]:
        return {
            "error": error,
            "client": client,
            "invoice_id": plan.invoice_id,
            "alt_id": plan.alt_id,
            "alt_type": plan.alt_type,
            "attempted_at": plan.attempted_at,
            "grace_period": self.grace_period,
            "max_reads": self.max_reads,
        }

    def _reconcile(self, plan: _Plan, client: AuthenticatedClient, error: LeadwayError | None) -> LedgerRecord:
        try:
            found = self._reconciler(**self._reconcile_args(plan, client, error))
        except Exception as failure:
            return self._write(plan, *self._unreconciled(error, failure), skipped=error is None)
        return self._write(plan, *self._reconciled(error, found), evidence=found, skipped=error is None)

    async def _areconcile(self, plan: _Plan, client: AuthenticatedClient, error: LeadwayError | None) -> LedgerRecord:
        try:
            found = await self._areconciler(**self._reconcile_args(plan, client, error))
        except Exception as failure:
            return await self._awrite(plan, *self._unreconciled(error, failure), skipped=error is None)
        return await self._awrite(plan, *self._reconciled(error, found), evidence=found, skipped=error is None)

    @staticmethod
    def _unreconciled(error: LeadwayError | None, failure: Exception) -> tuple[SendState, str]:
        # Reconciliation itself failed (bad input it refused, a bug): stay PENDING, released, so the
        # next call tries again. Nothing is resent.
        cause = f"outcome unknown: {describe(error)}" if error else "left pending"
        return SendState.PENDING, f"{cause}; reconciliation failed: {describe(failure)}"

    @staticmethod
    def _reconciled(error: LeadwayError | None, found: Reconciliation) -> tuple[SendState, str]:
        cause = f"outcome unknown: {describe(error)}" if error else "left pending by an interrupted send"
        outcome = Outcome(found.outcome)
        if outcome is Outcome.UNDETERMINED and found.after_status is None and found.read_again:
            # No read succeeded (network, 5xx, 429, a token without the read scope): nothing was
            # learnt about the invoice, so a later call reads again rather than asking a person.
            # A read refused as asked (404: no such invoice there) would be refused again: a
            # person decides (NEEDS_ATTENTION), or the key would stay pending for ever.
            return SendState.PENDING, f"{cause}; not reconciled yet: {found.reason}"
        state = {Outcome.SENT: SendState.SENT, Outcome.NOT_SENT: SendState.NOT_SENT}.get(
            outcome, SendState.NEEDS_ATTENTION
        )
        return state, f"{cause}; reconciled {outcome.name}: {found.reason}"


def _held(row: sqlite3.Row) -> bool:
    """Whether the row's claim is held by a live owner (see `claims.alive`)."""
    claim = row["owner_claim"]
    if claim is None:
        return False
    owner = claims.Owner(row["owner_host"], row["owner_namespace"], row["owner_pid"], row["owner_start"])
    return claims.alive(owner, claim, row["lease_until"], time.time())
