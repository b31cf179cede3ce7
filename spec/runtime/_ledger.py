"""A durable send ledger: each intended send, named by a key, goes out at most once.

The send call has no idempotency key, so a job that crashes and is run again would email the
customer twice. The ledger records the intent (durably, before any I/O) and the outcome (after),
in one SQLite file shared by every thread and process that sends:

* a key that is SENT is never sent again;
* a key whose outcome is unknown (timeout, dropped connection, 5xx, a 2xx that breaks the spec, or
  a process killed between intent and outcome) is reconciled by reading the invoice before anything
  is resent: SENT, NOT_SENT (sent by a later call) or UNDETERMINED (NEEDS_ATTENTION: never resent
  automatically; a person decides with `resolve`);
* only a provable not-sent (a 4xx, a failure before the request left the machine, a reconciled
  NOT_SENT) is sent again, by the next call for the key;
* a key is claimed atomically (BEGIN IMMEDIATE), with its owner's identity, so two threads or
  processes never send it at once, and a dead owner's claim is recognised and reconciled.

Stored per key: the key, invoice id, altId/altType, state, a reason (error class and status, never
a server's message), attempt count, timestamps and the reconciliation's evidence (statuses and
updatedAt). No token, no request or answer body.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import attrs

from . import _ledger_owner
from ._errors import ContractViolationError, LeadwayError, OutcomeUnknownError
from ._validation import path_segment
from .api.invoices import send_invoice
from .client import AuthenticatedClient
from .models.send_invoice_request import SendInvoiceRequest

SCHEMA_VERSION = 1
# PRAGMA application_id of a ledger file ("LWSL"): tells our file from any other SQLite database.
APPLICATION_ID = 0x4C57534C
MAX_KEY_LENGTH = 1024
_BUSY_TIMEOUT_MS = 30_000

_SCHEMA = """
CREATE TABLE sends (
    key TEXT PRIMARY KEY NOT NULL,
    invoice_id TEXT NOT NULL,
    alt_id TEXT NOT NULL,
    alt_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'not_sent', 'needs_attention')),
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    attempted_at TEXT,
    updated_at TEXT NOT NULL,
    evidence TEXT,
    owner_claim TEXT,
    owner_host TEXT,
    owner_namespace TEXT,
    owner_pid INTEGER,
    owner_start TEXT,
    lease_until REAL
) WITHOUT ROWID
"""
_SELECT_ALL = (
    "SELECT key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, evidence FROM sends ORDER BY key"
)
_SELECT_ONE = (
    "SELECT key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, evidence FROM sends WHERE key = ?"
)


class LedgerError(ValueError):
    """The ledger cannot be used as asked: its file (a directory, not a ledger, corrupt, written by a
    newer version), a key reused for another invoice, or a closed ledger. Raised before any I/O."""


class SendState(enum.StrEnum):
    """Where a key stands."""

    PENDING = "pending"
    """Intent recorded; being sent, or left by a send that was interrupted (reconciled next time)."""
    SENT = "sent"
    """Sent (a 2xx, or reconciled as sent): never sent again."""
    NOT_SENT = "not_sent"
    """Provably not sent (a 4xx, a failure before any I/O, or reconciled): the next call sends it."""
    NEEDS_ATTENTION = "needs_attention"
    """The outcome could not be determined: never sent again until a person `resolve`s it."""


class Evidence(Protocol):
    """What a reconciliation found (the shape of `Reconciliation`)."""

    @property
    def outcome(self) -> Any: ...
    @property
    def reason(self) -> str: ...
    @property
    def before_status(self) -> Any: ...
    @property
    def before_updated_at(self) -> Any: ...
    @property
    def after_status(self) -> Any: ...
    @property
    def after_updated_at(self) -> Any: ...
    @property
    def reads(self) -> int: ...


Reconciler = Callable[..., Evidence]
AsyncReconciler = Callable[..., Awaitable[Evidence]]


@attrs.frozen
class StoredEvidence:
    """A reconciliation's evidence as the ledger keeps it (plain strings)."""

    outcome: str
    reason: str
    before_status: str | None
    before_updated_at: str | None
    after_status: str | None
    after_updated_at: str | None
    reads: int


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
    evidence: StoredEvidence | None = None
    skipped: bool = False


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(getattr(value, "value", value))


def _outcome_name(outcome: Any) -> str:
    # Outcome is a StrEnum whose member names are SENT / NOT_SENT / UNDETERMINED.
    return str(getattr(outcome, "name", outcome)).upper()


def _store_evidence(evidence: Evidence) -> str:
    return json.dumps(
        {
            "outcome": _outcome_name(evidence.outcome),
            "reason": str(evidence.reason),
            "before_status": _text(evidence.before_status),
            "before_updated_at": _text(evidence.before_updated_at),
            "after_status": _text(evidence.after_status),
            "after_updated_at": _text(evidence.after_updated_at),
            "reads": int(evidence.reads),
        }
    )


def _load_evidence(text: str | None) -> StoredEvidence | None:
    return StoredEvidence(**json.loads(text)) if text else None


def describe(error: BaseException) -> str:
    """An error as the ledger stores it: its class, status and failure kind, never a server's text
    (an answer's message could quote customer data)."""
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    cause = error.__cause__
    if status is not None:
        return f"{name} {status}"
    if cause is not None:
        return f"{name} ({type(cause).__name__})"
    return name


def _not_sent(error: LeadwayError) -> bool:
    """True when the error proves the request did not run: the error tree's own verdict
    (`safe_to_retry`), or an error status below 500 (the API refused it)."""
    if isinstance(error, OutcomeUnknownError | ContractViolationError):
        return False
    status = error.status_code
    return error.safe_to_retry or (status is not None and 400 <= status < 500)


def _default_reconciler(name: str) -> Any:
    # Resolved on use: reconciliation lives in its own module (`_reconcile`).
    return getattr(importlib.import_module(f"{__package__}._reconcile"), name)


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
    attempts: int
    record: LedgerRecord | None = None
    claim: str = ""
    attempted_at: dt.datetime | None = None
    reconcile_only: bool = False


class SendLedger:
    """A durable ledger of sends in one SQLite file (WAL), safe across threads and processes.

    Args:
        path: The ledger file; created (with its folder's permission) when absent.
        grace_period, max_reads: passed to reconciliation (see `reconcile_send`).
        lease: Seconds a claim is presumed alive when its owner cannot be checked (another host or
            container sharing the file, or Windows); on the same host the owner's pid is checked.
        reconciler, areconciler: replace `reconcile_send` / `areconcile_send` (for tests).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        grace_period: float = 10.0,
        max_reads: int = 4,
        lease: float = 600.0,
        reconciler: Reconciler | None = None,
        areconciler: AsyncReconciler | None = None,
    ) -> None:
        self.path = Path(path)
        self.grace_period = grace_period
        self.max_reads = max_reads
        self.lease = lease
        self._reconciler = reconciler
        self._areconciler = areconciler
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = _open(self.path)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SendLedger:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SendLedger({str(self.path)!r})"

    # -- reading ---------------------------------------------------------------------------------

    def get(self, key: str) -> LedgerRecord | None:
        """The record of `key`, or None when the ledger has never seen it."""
        key = _check_key(key)
        with self._lock:
            row = self._db().execute(_SELECT_ONE, (key,)).fetchone()
        return _record(row) if row is not None else None

    def records(self) -> list[LedgerRecord]:
        """Every record, by key."""
        with self._lock:
            rows = self._db().execute(_SELECT_ALL).fetchall()
        return [_record(row) for row in rows]

    # -- sending ---------------------------------------------------------------------------------

    def send(self, key: str, *, client: AuthenticatedClient, invoice_id: str, body: SendInvoiceRequest) -> LedgerRecord:
        """Send the invoice unless the key says it was (or may have been) sent; record the outcome.

        Returns the key's record. Raises only for bad input (TypeError, ValueError, LedgerError)
        before any I/O, or re-raises what interrupted the send (KeyboardInterrupt...), after
        marking the key for reconciliation.
        """
        plan = self._claim(key, invoice_id, body)
        if plan.record is not None:
            return plan.record
        if plan.reconcile_only:
            return self._reconcile(plan, client, None)
        try:
            send_invoice.sync(plan.invoice_id, client=client, body=body)
        except LeadwayError as error:
            if _not_sent(error):
                return self._finish(plan, SendState.NOT_SENT, f"not sent: {describe(error)}", skipped=False)
            self._note_unknown(plan, error)
            return self._reconcile(plan, client, error)
        except BaseException as error:
            self._release(plan, f"interrupted: {describe(error)}")
            raise
        return self._finish(plan, SendState.SENT, "sent", skipped=False)

    async def asend(
        self, key: str, *, client: AuthenticatedClient, invoice_id: str, body: SendInvoiceRequest
    ) -> LedgerRecord:
        """`send` for asyncio. The ledger's own writes are short SQLite transactions done inline."""
        plan = self._claim(key, invoice_id, body)
        if plan.record is not None:
            return plan.record
        if plan.reconcile_only:
            return await self._areconcile(plan, client, None)
        try:
            await send_invoice.asyncio(plan.invoice_id, client=client, body=body)
        except LeadwayError as error:
            if _not_sent(error):
                return self._finish(plan, SendState.NOT_SENT, f"not sent: {describe(error)}", skipped=False)
            self._note_unknown(plan, error)
            return await self._areconcile(plan, client, error)
        except BaseException as error:
            self._release(plan, f"interrupted: {describe(error)}")
            raise
        return self._finish(plan, SendState.SENT, "sent", skipped=False)

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
        with self._lock, self._transaction(durable=True) as conn:
            row = conn.execute("SELECT * FROM sends WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise LedgerError(f"ledger key {key!r} is unknown")
            if row["state"] == SendState.PENDING and self._held(row):
                raise LedgerError(f"ledger key {key!r} is being sent right now; resolve it once that ends")
            conn.execute(
                "UPDATE sends SET state = ?, reason = ?, updated_at = ?, owner_claim = NULL WHERE key = ?",
                (state.value, f"resolved by hand: {note.strip()}", _stamp(_now()), key),
            )
            row = conn.execute(_SELECT_ONE, (key,)).fetchone()
        return _record(row)

    # -- steps -----------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerError(f"ledger {self.path} is closed")
        return self._conn

    def _transaction(self, *, durable: bool) -> _Transaction:
        return _Transaction(self._db(), durable)

    def _held(self, row: sqlite3.Row) -> bool:
        claim = row["owner_claim"]
        if claim is None:
            return False
        owner = _ledger_owner.Owner(row["owner_host"], row["owner_namespace"], row["owner_pid"], row["owner_start"])
        return _ledger_owner.alive(owner, claim, row["lease_until"], time.time())

    def _claim(self, key: str, invoice_id: str, body: SendInvoiceRequest) -> _Plan:
        key = _check_key(key)
        invoice_id = path_segment("invoice_id", invoice_id)
        if not isinstance(body, SendInvoiceRequest):
            raise TypeError(f"body must be a SendInvoiceRequest, not {type(body).__name__}")
        wire = body.to_dict()  # the strict writer's checks, before anything is recorded
        alt_id, alt_type = str(wire["altId"]), str(wire["altType"])
        now = _now()
        owner = _ledger_owner.me()
        with self._lock, self._transaction(durable=True) as conn:
            row = conn.execute("SELECT * FROM sends WHERE key = ?", (key,)).fetchone()
            if row is not None and row["invoice_id"] != invoice_id:
                raise LedgerError(
                    f"ledger key {key!r} was recorded for invoice {row['invoice_id']}, not {invoice_id}:"
                    " a key names one send of one invoice"
                )
            plan = _Plan(key, invoice_id, alt_id, alt_type, attempts=row["attempts"] if row else 0)
            state = SendState(row["state"]) if row is not None else None
            if state in (SendState.SENT, SendState.NEEDS_ATTENTION):
                plan.record = attrs.evolve(_record(row), skipped=True)
                return plan
            if state is SendState.PENDING:
                if self._held(row):
                    plan.record = attrs.evolve(
                        _record(row), reason=f"in progress elsewhere (pid {row['owner_pid']})", skipped=True
                    )
                    return plan
                # Left by a send that never recorded its outcome: reconcile before anything else.
                plan.reconcile_only = True
                plan.alt_id, plan.alt_type = row["alt_id"], row["alt_type"]
                plan.attempted_at = dt.datetime.fromisoformat(row["attempted_at"]) if row["attempted_at"] else None
            else:
                plan.attempts += 1
                plan.attempted_at = now
            plan.claim = _ledger_owner.new_claim()
            try:
                conn.execute(
                    "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at,"
                    " updated_at, owner_claim, owner_host, owner_namespace, owner_pid, owner_start, lease_until)"
                    " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET alt_id = excluded.alt_id, alt_type = excluded.alt_type,"
                    " state = 'pending', reason = excluded.reason, attempts = excluded.attempts,"
                    " attempted_at = excluded.attempted_at, updated_at = excluded.updated_at,"
                    " owner_claim = excluded.owner_claim, owner_host = excluded.owner_host,"
                    " owner_namespace = excluded.owner_namespace, owner_pid = excluded.owner_pid,"
                    " owner_start = excluded.owner_start, lease_until = excluded.lease_until",
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
                        time.time() + self.lease,
                    ),
                )
            except BaseException:
                _ledger_owner.drop_claim(plan.claim)
                raise
        return plan

    def _write(
        self, plan: _Plan, state: SendState, reason: str, *, evidence: str | None = None, keep_claim: bool = False
    ) -> LedgerRecord:
        with self._lock, self._transaction(durable=False) as conn:
            conn.execute(
                "UPDATE sends SET state = ?, reason = ?, updated_at = ?, evidence = COALESCE(?, evidence),"
                " owner_claim = CASE WHEN ? THEN owner_claim END WHERE key = ? AND owner_claim = ?",
                (state.value, reason, _stamp(_now()), evidence, keep_claim, plan.key, plan.claim),
            )
            row = conn.execute(_SELECT_ONE, (plan.key,)).fetchone()
        if not keep_claim:
            _ledger_owner.drop_claim(plan.claim)
        return _record(row)

    def _finish(
        self, plan: _Plan, state: SendState, reason: str, *, skipped: bool, evidence: str | None = None
    ) -> LedgerRecord:
        return attrs.evolve(self._write(plan, state, reason, evidence=evidence), skipped=skipped)

    def _note_unknown(self, plan: _Plan, error: LeadwayError) -> None:
        # Kept claimed while reconciling; should this process die now, the reason says why it is pending.
        self._write(plan, SendState.PENDING, f"outcome unknown: {describe(error)}; reconciling", keep_claim=True)

    def _release(self, plan: _Plan, reason: str) -> None:
        # PENDING without an owner: the next call for the key reconciles it.
        self._write(plan, SendState.PENDING, reason)

    def _reconcile_args(self, plan: _Plan, client: AuthenticatedClient) -> dict[str, Any]:
        return {
            "client": client,
            "invoice_id": plan.invoice_id,
            "alt_id": plan.alt_id,
            "alt_type": plan.alt_type,
            "attempted_at": plan.attempted_at,
            "grace_period": self.grace_period,
            "max_reads": self.max_reads,
        }

    def _reconcile(self, plan: _Plan, client: AuthenticatedClient, error: LeadwayError | None) -> LedgerRecord:
        reconciler = self._reconciler
        try:
            reconciler = reconciler or _default_reconciler("reconcile_send")
            evidence = reconciler(**self._reconcile_args(plan, client))
        except Exception as failure:
            return self._unreconciled(plan, error, failure)
        except BaseException as failure:
            self._release(plan, f"interrupted while reconciling: {describe(failure)}")
            raise
        return self._reconciled(plan, error, evidence)

    async def _areconcile(self, plan: _Plan, client: AuthenticatedClient, error: LeadwayError | None) -> LedgerRecord:
        areconciler = self._areconciler
        try:
            areconciler = areconciler or _default_reconciler("areconcile_send")
            evidence = await areconciler(**self._reconcile_args(plan, client))
        except Exception as failure:
            return self._unreconciled(plan, error, failure)
        except BaseException as failure:
            self._release(plan, f"interrupted while reconciling: {describe(failure)}")
            raise
        return self._reconciled(plan, error, evidence)

    def _unreconciled(self, plan: _Plan, error: LeadwayError | None, failure: Exception) -> LedgerRecord:
        # The invoice could not be read (network, auth...): stay PENDING, released, so the next call
        # tries to reconcile again. Nothing is resent.
        cause = f"outcome unknown: {describe(error)}" if error else "left pending"
        reason = f"{cause}; reconciliation failed: {describe(failure)}"
        return self._finish(plan, SendState.PENDING, reason, skipped=error is None)

    def _reconciled(self, plan: _Plan, error: LeadwayError | None, evidence: Evidence) -> LedgerRecord:
        cause = f"outcome unknown: {describe(error)}" if error else "left pending by an interrupted send"
        outcome = _outcome_name(evidence.outcome)
        state = {"SENT": SendState.SENT, "NOT_SENT": SendState.NOT_SENT}.get(outcome, SendState.NEEDS_ATTENTION)
        reason = f"{cause}; reconciled {outcome}: {evidence.reason}"
        return self._finish(plan, state, reason, skipped=error is None, evidence=_store_evidence(evidence))


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error). `durable` makes the commit reach the disk
    (synchronous=FULL) before it returns: an intent must survive an OS crash, since the request
    that follows cannot be taken back. Outcomes are written with synchronous=NORMAL (WAL): a killed
    process loses nothing; an OS crash may lose the last outcomes, whose keys are then reconciled."""

    def __init__(self, conn: sqlite3.Connection, durable: bool) -> None:
        self.conn, self.durable = conn, durable

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute(f"PRAGMA synchronous = {'FULL' if self.durable else 'NORMAL'}")
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


def _record(row: sqlite3.Row) -> LedgerRecord:
    return LedgerRecord(
        key=row["key"],
        invoice_id=row["invoice_id"],
        alt_id=row["alt_id"],
        state=SendState(row["state"]),
        reason=row["reason"],
        attempts=row["attempts"],
        evidence=_load_evidence(row["evidence"]),
    )


def _open(path: Path) -> sqlite3.Connection:
    """Open (or create) a ledger file, refusing anything that is not one, before any I/O."""
    if path.is_dir():
        raise LedgerError(f"ledger path {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise LedgerError(f"ledger path {path}: folder {path.parent} does not exist")
    try:
        conn = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open ledger {path}: {exc}") from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        _retry_while_locked(lambda: _check_or_create(conn, path))
    except sqlite3.Error as exc:
        conn.close()
        raise LedgerError(f"{path} is not a usable send ledger ({exc})") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _retry_while_locked(step: Callable[[], None]) -> None:
    # Switching a new file to WAL needs every other connection gone, and SQLite answers "locked" at
    # once instead of waiting: several processes opening one new ledger together try again.
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def _check_or_create(conn: sqlite3.Connection, path: Path) -> None:
    # Identify the file before changing anything in it (WAL mode included): a foreign database is
    # left as it was.
    conn.execute("BEGIN IMMEDIATE")
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id == 0 and version == 0 and tables == 0:
            conn.execute(_SCHEMA)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif app_id != APPLICATION_ID:
            raise LedgerError(f"{path} is an SQLite database but not a send ledger; give another file")
        elif version > SCHEMA_VERSION:
            raise LedgerError(
                f"ledger {path} has schema version {version}, written by a newer leadway-invoices-client;"
                f" this one reads up to version {SCHEMA_VERSION}: upgrade the package"
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    problem = conn.execute("PRAGMA quick_check").fetchone()[0]
    if problem != "ok":
        raise LedgerError(f"ledger {path} is corrupt: {problem}")
    # WAL: readers never block the writer; set once per file, kept by SQLite.
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
        raise LedgerError(f"ledger {path}: SQLite refused WAL mode (a network or read-only file system?)")
