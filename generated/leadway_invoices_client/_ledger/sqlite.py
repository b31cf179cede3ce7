"""The send ledger's SQLite file: its schema, every statement run on it, opening and checking it, and
its rows as records.

Table `sends`, a row per key: the send (key, invoice id, altId/altType), where it stands (state,
reason, attempts, when it was attempted and updated, the reconciliation's evidence) and, while a send
holds it, its owner (`claims.py`) and lease. Table `webhook_events`, a row per verified webhook
delivery (by webhookId): its invoice, type and times (`records.WebhookEvent`). No token, no request,
answer or webhook body. The file is in WAL
mode (readers never block the writer) and identifies itself by its application id and schema version.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Collection
from pathlib import Path

from .claims import Owner
from .records import LedgerError, LedgerRecord, SendState, WebhookEvent, record_of

SCHEMA_VERSION = 3
"""PRAGMA user_version of a ledger this package writes: 1 had no `refused` state, 2 no webhook events."""
# PRAGMA application_id of a ledger file ("LWSL"): tells our file from any other SQLite database.
APPLICATION_ID = 0x4C57534C
BUSY_TIMEOUT_MS = 30_000

_TABLE = """
CREATE TABLE {name} (
    key TEXT PRIMARY KEY NOT NULL,
    invoice_id TEXT NOT NULL,
    alt_id TEXT NOT NULL,
    alt_type TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'not_sent', 'needs_attention', 'refused')),
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


_EVENTS = (
    """
CREATE TABLE webhook_events (
    webhook_id TEXT PRIMARY KEY NOT NULL,
    invoice_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    received_at TEXT NOT NULL
) WITHOUT ROWID
""",
    "CREATE INDEX webhook_events_by_invoice ON webhook_events (invoice_id, sent_at)",
    # An event settles the keys of its invoice: found by index, not by a scan of every send.
    "CREATE INDEX sends_by_invoice ON sends (invoice_id)",
)


def _upgrade_from_2(conn: sqlite3.Connection) -> None:
    # Webhook events join the sends: a new table and two indexes, nothing rewritten.
    for statement in _EVENTS:
        conn.execute(statement)


def _upgrade_from_1(conn: sqlite3.Connection) -> None:
    # `refused` joins the states; SQLite changes a CHECK constraint only by rebuilding the table.
    conn.execute(_TABLE.format(name="sends_next"))
    conn.execute("INSERT INTO sends_next SELECT * FROM sends")
    conn.execute("DROP TABLE sends")
    conn.execute("ALTER TABLE sends_next RENAME TO sends")


# Each brings a ledger from its version to the next; all run in the transaction that opens the file.
_UPGRADES: dict[int, Callable[[sqlite3.Connection], None]] = {1: _upgrade_from_1, 2: _upgrade_from_2}

_RECORD = "SELECT key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, evidence FROM sends"
_ONE = "SELECT * FROM sends WHERE key = ?"
_INTENT = (
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
_RESOLUTION = "UPDATE sends SET state = ?, reason = ?, updated_at = ?, owner_claim = NULL WHERE key = ?"
_EVENT = (
    "INSERT INTO webhook_events (webhook_id, invoice_id, event_type, sent_at, received_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (webhook_id) DO NOTHING"
)
_EVENTS_OF = "SELECT * FROM webhook_events WHERE invoice_id = ? ORDER BY sent_at"
_ROWS_OF = "SELECT * FROM sends WHERE invoice_id = ? ORDER BY key"


class SqliteTx:
    """The statements of one transaction on a ledger file (the store's `Tx`)."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def clock(self) -> float:
        return time.time()  # the file is shared by one host's processes: its clock is theirs

    def row(self, key: str) -> sqlite3.Row | None:
        found: sqlite3.Row | None = self.conn.execute(_ONE, (key,)).fetchone()
        return found

    def read_one(self, key: str) -> LedgerRecord | None:
        row = self.conn.execute(f"{_RECORD} WHERE key = ?", (key,)).fetchone()
        return record_of(row) if row is not None else None

    def read_all(self) -> list[LedgerRecord]:
        return [record_of(row) for row in self.conn.execute(f"{_RECORD} ORDER BY key")]

    def write_intent(
        self,
        *,
        key: str,
        invoice_id: str,
        alt_id: str,
        alt_type: str,
        reason: str,
        attempts: int,
        attempted_at: str | None,
        updated_at: str,
        claim: str,
        held_by: Owner,
        lease: float,
    ) -> None:
        self.conn.execute(
            _INTENT,
            (
                key,
                invoice_id,
                alt_id,
                alt_type,
                reason,
                attempts,
                attempted_at,
                updated_at,
                claim,
                held_by.host,
                held_by.namespace,
                held_by.pid,
                held_by.start,
                time.time() + lease,
            ),
        )

    def write_outcome(
        self,
        *,
        key: str,
        claim: str,
        state: SendState,
        reason: str,
        updated_at: str,
        evidence: str | None,
        keep_claim: bool,
    ) -> LedgerRecord:
        self.conn.execute(_OUTCOME, (state.value, reason, updated_at, evidence, keep_claim, key, claim))
        found = self.read_one(key)
        assert found is not None  # the claim's intent wrote the row
        return found

    def write_resolution(self, *, key: str, state: SendState, reason: str, updated_at: str) -> LedgerRecord:
        self.conn.execute(_RESOLUTION, (state.value, reason, updated_at, key))
        found = self.read_one(key)
        assert found is not None  # the caller found the row in this transaction
        return found

    def write_event(self, event: WebhookEvent) -> bool:
        cursor = self.conn.execute(
            _EVENT, (event.webhook_id, event.invoice_id, event.event_type, event.sent_at, event.received_at)
        )
        return cursor.rowcount == 1

    def events_for(self, invoice_id: str) -> list[WebhookEvent]:
        return [WebhookEvent(**dict(row)) for row in self.conn.execute(_EVENTS_OF, (invoice_id,))]

    def rows_for(self, invoice_id: str) -> list[sqlite3.Row]:
        return list(self.conn.execute(_ROWS_OF, (invoice_id,)))


def open_file(path: Path) -> sqlite3.Connection:
    """Open (or create) a ledger file, refusing anything that is not one, before any I/O."""
    if path.is_dir():
        raise LedgerError(f"ledger path {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise LedgerError(f"ledger path {path}: folder {path.parent} does not exist")
    _create_private(path)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open ledger {path}: {exc}") from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _retry_while_locked(lambda: _check_or_create(conn, path))
    except sqlite3.Error as exc:
        conn.close()
        raise LedgerError(f"{path} is not a usable send ledger ({exc})") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _create_private(path: Path) -> None:
    """Create a new ledger file readable and writable by its owner only: it names invoices and
    locations. SQLite gives its WAL and shared-memory files the same permissions."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass  # an existing file, or another process made it first: opened as it is
    except OSError as exc:
        raise LedgerError(f"cannot create ledger {path}: {exc.strerror or exc}") from exc


def begin(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE: take the file's write lock, waiting while another connection holds it.

    SQLite's own wait sleeps 1, 2, 5, 10 ms... between tries, far longer than a commit holds the lock
    (well under a millisecond plus its fsync): processes sending together would spend more time asleep
    than writing. So the wait here is ours, in steps of a tenth of a millisecond at first.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline, pause = time.monotonic() + BUSY_TIMEOUT_MS / 1000, 0.0001
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.005)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _retry_while_locked(step: Callable[[], None]) -> None:
    # Switching a new file to WAL needs every other connection gone, and SQLite answers "locked" at
    # once instead of waiting: several processes opening one new ledger together try again.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


def _version(conn: sqlite3.Connection, path: Path) -> int | None:
    """The schema version of the ledger `conn` opened; None for an empty file (a new ledger). Refuses
    a file that is not a ledger, or one of a newer schema than this package reads."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id == 0 and version == 0 and tables == 0:
        return None
    if app_id != APPLICATION_ID:
        raise LedgerError(f"{path} is an SQLite database but not a send ledger; give another file")
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"ledger {path} has schema version {version}, written by a newer leadway-invoices-client;"
            f" this one reads up to version {SCHEMA_VERSION}: upgrade the package"
        )
    return version


def _check_or_create(conn: sqlite3.Connection, path: Path) -> None:
    # Identify the file before changing anything in it (WAL mode included): a foreign database is
    # left as it was.
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _version(conn, path)
        if version is None:
            conn.execute(_TABLE.format(name="sends"))
            for statement in _EVENTS:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version < SCHEMA_VERSION:
            # An older release's ledger: brought up to date in this one transaction, or not at all.
            for step in range(version, SCHEMA_VERSION):
                _UPGRADES[step](conn)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
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


_LOOKUP_CHUNK = 500  # keys per query: SQLite caps a statement's parameters (999 in older builds)


def recorded_invoices(path: Path, keys: Collection[str]) -> dict[str, str]:
    """The invoice each of `keys` is recorded for in the ledger at `path`, read without creating or
    changing anything (a dry run's check); empty when there is no file yet. LedgerError for a file
    that cannot be read as a ledger."""
    if not path.exists():
        return {}
    if path.is_dir():
        raise LedgerError(f"ledger path {path} is a directory; give a file name")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc}") from exc
    try:
        if _version(conn, path) is None:
            return {}
        wanted = list(keys)
        found: dict[str, str] = {}
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))
            found.update(conn.execute(f"SELECT key, invoice_id FROM sends WHERE key IN ({marks})", chunk))  # noqa: S608
        return found
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot read ledger {path}: {exc}") from exc
    finally:
        conn.close()
