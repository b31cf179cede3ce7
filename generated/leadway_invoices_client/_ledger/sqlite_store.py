"""The SQLite store: one connection to a ledger file, shared by a process's threads and tasks, every
write a Job run in a shared transaction (group commit).

Durability: a batch holding an intent commits with synchronous=FULL (on disk before the request goes
out, since a request cannot be taken back); a batch of outcomes only with synchronous=NORMAL: a killed
process loses nothing, an OS crash may lose the last outcomes, whose keys are then PENDING and
reconciled. (The file is in WAL mode, and its statements are in `sqlite.py`.)

Group commit: the fsync of an intent dominates a send's ledger cost, so writes queued by several
threads (and asyncio tasks, whose writes run in threads) while one commit is under way go into
the next transaction together, one fsync for all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .records import LedgerError
from .sqlite import SqliteTx, begin, open_file
from .store import Job, Tx, settle_all

T = TypeVar("T")


class SqliteStore:
    """One connection to a ledger file, shared by threads; every write goes through `submit`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._conn: sqlite3.Connection | None = open_file(path)
        self._lock = threading.Lock()  # held by the thread using the connection (the batch leader)
        self._queue: list[Job] = []
        self._queue_lock = threading.Lock()
        self._draining = False  # a thread is committing queued jobs for `asubmit`
        self._synchronous: str | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerError(f"ledger {self.path} is closed")
        return self._conn

    def read(self, query: Callable[[Tx], T]) -> T:
        """What `query` reads from the file, outside any write transaction."""
        with self._lock:
            try:
                return query(SqliteTx(self._db()))
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

    async def asubmit(self, job: Job) -> Any:
        """`submit` for asyncio, off the event loop (an intent waits for its fsync): one thread of
        the ledger's own commits whatever the tasks queued meanwhile, batch after batch, and wakes
        each task. A cancelled task's job goes on: it lands (a commit: milliseconds) before the
        cancellation does, so that what it recorded can be released."""
        self._db()
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[Any] = loop.create_future()
        job.waiter = (loop, settled)
        with self._queue_lock:
            self._queue.append(job)
            idle, self._draining = not self._draining, True
        if idle:
            # No thread drains the queue: start one, rather than a thread per waiting job.
            self._executor().submit(self._drain)
        try:
            return await settled
        except asyncio.CancelledError:
            job.finished.wait()
            raise

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="send-ledger")
            return self._pool

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
            synchronous = "FULL" if any(j.durable for j in batch) else "NORMAL"
            if synchronous != self._synchronous:  # a connection keeps it: set it only when it changes
                conn.execute(f"PRAGMA synchronous = {synchronous}")
                self._synchronous = synchronous
            begin(conn)
            tx = SqliteTx(conn)
            for number, job in enumerate(batch):
                # A savepoint per job: one job's bad input does not undo the others'.
                conn.execute(f"SAVEPOINT job{number}")
                try:
                    job.result = job.run(tx)
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
            waiting: dict[asyncio.AbstractEventLoop, list[Job]] = {}
            for job in batch:
                job.done = True
                job.finished.set()
                if job.waiter is not None:  # an `asubmit` job, whichever thread committed it
                    waiting.setdefault(job.waiter[0], []).append(job)
            # One wake-up per loop for the whole batch, not one per job.
            for loop, jobs in waiting.items():
                with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
                    loop.call_soon_threadsafe(settle_all, jobs)
