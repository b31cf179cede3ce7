"""The send ledger's SQLite file: its schema, opening and checking it, and group commit.

Durability: the file is in WAL mode. A batch holding an intent commits with synchronous=FULL (on
disk before the request goes out, since a request cannot be taken back); a batch of outcomes only
with synchronous=NORMAL: a killed process loses nothing, an OS crash may lose the last outcomes,
whose keys are then PENDING and reconciled.

Group commit: the fsync of an intent dominates a send's ledger cost, so writes queued by several
threads (and asyncio tasks, whose writes run in threads) while one commit is under way go into
the next transaction together, one fsync for all of them.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
# PRAGMA application_id of a ledger file ("LWSL"): tells our file from any other SQLite database.
APPLICATION_ID = 0x4C57534C
BUSY_TIMEOUT_MS = 30_000

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


class LedgerError(ValueError):
    """The ledger cannot be used as asked: its file (a directory, not a ledger, corrupt, written by a
    newer version), a key reused for another invoice, or a closed ledger. Raised before any I/O."""


class Job:
    """One step run inside a shared transaction: `run(conn)` gives the result; `durable` when the
    step records an intent. `aborted` undoes what `run` did outside the database when the
    transaction it was part of is rolled back."""

    def __init__(
        self,
        run: Callable[[sqlite3.Connection], Any],
        *,
        durable: bool,
        aborted: Callable[[], None] | None = None,
    ) -> None:
        self.run, self.durable, self.aborted = run, durable, aborted
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.finished = threading.Event()  # set once `done` is
        self.notify: Callable[[Job], None] | None = None


class LedgerFile:
    """One connection to a ledger file, shared by threads; every write goes through `submit`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = _open(path)
        self._lock = threading.Lock()  # held by the thread using the connection (the batch leader)
        self._queue: list[Job] = []
        self._queue_lock = threading.Lock()
        self._draining = False  # a thread is committing queued jobs for `submit_later`

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerError(f"ledger {self.path} is closed")
        return self._conn

    def read(self, query: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db().execute(query, args).fetchall()
            except sqlite3.Error as exc:
                raise LedgerError(f"ledger {self.path} cannot be read: {exc}") from exc

    def submit(self, job: Job) -> Any:
        """Run `job` in a transaction, with whatever other jobs are queued meanwhile; its result."""
        self._db()
        with self._queue_lock:
            self._queue.append(job)
        with self._lock:
            if not job.done:
                # Leader: take every queued job (ours among them, unless a leader before us took it).
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if job.error is not None:
            raise job.error
        return job.result

    def submit_later(self, job: Job, start: Callable[[Callable[[], None]], object]) -> None:
        """Queue `job` without waiting: `job.notify(job)` is called once it is done. When no thread
        is draining the queue, `start(drain)` runs one (an executor's submit): a single thread then
        commits batch after batch until the queue is empty, rather than a thread per waiting job."""
        self._db()
        with self._queue_lock:
            self._queue.append(job)
            idle, self._draining = not self._draining, True
        if idle:
            start(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                    if not batch:
                        self._draining = False
                        return
                self._commit(batch)

    def _commit(self, batch: list[Job]) -> None:
        try:
            conn = self._db()
            conn.execute(f"PRAGMA synchronous = {'FULL' if any(j.durable for j in batch) else 'NORMAL'}")
            conn.execute("BEGIN IMMEDIATE")
            for number, job in enumerate(batch):
                # A savepoint per job: one job's bad input does not undo the others'.
                conn.execute(f"SAVEPOINT job{number}")
                try:
                    job.result = job.run(conn)
                except Exception as exc:
                    conn.execute(f"ROLLBACK TO job{number}")
                    job.error = exc
                    if isinstance(exc, sqlite3.Error):
                        job.error = LedgerError(f"ledger {self.path} cannot be written: {exc}")
                        job.error.__cause__ = exc
                conn.execute(f"RELEASE job{number}")
            conn.execute("COMMIT")
        except BaseException as exc:
            # Nothing of the batch was recorded: every job that ran fails (with its own error if it
            # had one); an interruption (KeyboardInterrupt) reaches only the leader's thread.
            if self._conn is not None and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            failure = LedgerError(f"ledger {self.path} cannot be written: {type(exc).__name__}: {exc}")
            failure.__cause__ = exc
            for job in batch:
                if job.error is None:
                    job.error = failure
                    if job.aborted is not None:
                        job.aborted()
            if not isinstance(exc, Exception):
                raise
        finally:
            for job in batch:
                job.done = True
                job.finished.set()
                if job.notify is not None:  # a `submit_later` job, whichever thread committed it
                    job.notify(job)


def _open(path: Path) -> sqlite3.Connection:
    """Open (or create) a ledger file, refusing anything that is not one, before any I/O."""
    if path.is_dir():
        raise LedgerError(f"ledger path {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise LedgerError(f"ledger path {path}: folder {path.parent} does not exist")
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
