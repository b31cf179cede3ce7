"""The PostgreSQL store: a send ledger shared by hosts, in the database they already run.

Each write is a Job in a transaction of its own, on a connection of a pool (psycopg_pool) that checks
a connection before handing it out, so one broken by a server restart or a killed backend is replaced.
Durability: a transaction holding an intent commits as the server is configured (synchronous_commit
on: on disk before the request goes out); an outcome with synchronous_commit off (a server crash may
lose the last outcomes, whose keys are then PENDING and reconciled, like the SQLite store's NORMAL).

Owners on other hosts cannot be checked: a claim is held by a lease on the database's clock
(`postgres.py`), which a heartbeat thread renews while the send is in flight (every quarter of the
shorter of the claim's and the location's lease), and a key whose lease has run out is reconciled
(its invoice read) before anything is sent again. The same heartbeat renews the leases of the
locations this process sends to (`take_location`): a location's rate budget is one host's at a time.

The connection string's password is never shown: `location` masks it, and psycopg's errors become
LedgerErrors that keep neither the string nor the original exception.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from .._runtime.constants import PG_CONNECT_TIMEOUT, PG_POOL_SIZE
from . import claims
from .postgres import PostgresTx, check_or_create, import_psycopg, ledger_error, recorded
from .records import LedgerError, LedgerRecord
from .store import Job, Tx

T = TypeVar("T")

SCHEMES = ("postgresql", "postgres")


def is_postgres_url(target: object) -> bool:
    """Whether `target` names a PostgreSQL ledger (a `postgresql://` or `postgres://` URL)."""
    return isinstance(target, str) and urlsplit(target).scheme.lower() in SCHEMES


def masked(url: str) -> tuple[str, str]:
    """The URL as it may be shown (its password, in the address or the query, as ***) and the password."""
    parts = urlsplit(url)
    secret = ""
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        user, _, password = userinfo.partition(":")
        secret = unquote(password)
        netloc = f"{user}:***@{hostport}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    shown = []
    for name, value in query:
        if name.lower() == "password":
            secret = secret or value
            value = "***"
        shown.append((name, value))
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(shown, safe="*"), "")), secret


def recorded_invoices(url: str, keys: Collection[str]) -> dict[str, str]:
    """The invoice each of `keys` is recorded for in the ledger at `url`, read without creating or
    changing anything (a dry run's check). LedgerError when it cannot be read."""
    shown, secret = masked(url)
    psycopg, _ = import_psycopg()
    try:
        with psycopg.connect(url, connect_timeout=int(PG_CONNECT_TIMEOUT), autocommit=True) as conn:
            found: dict[str, str] = recorded(conn, list(keys), shown)
            return found
    except psycopg.Error as exc:
        failure = ledger_error("cannot be read", shown, exc, secret)
    raise failure  # outside the `except`: it keeps neither psycopg's error nor its message


class PostgresStore:
    """A pool of connections to one database; every write goes through `submit`."""

    def __init__(self, url: str, *, lease: float, location_lease: float) -> None:
        self.location, self._secret = masked(url)
        psycopg, psycopg_pool = import_psycopg()
        self._psycopg = psycopg
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error, psycopg_pool.PoolTimeout)
        self.lease, self.location_lease = lease, location_lease
        self.holder = f"{claims.me().host} pid {claims.me().pid} {uuid.uuid4().hex[:8]}"
        self._locations: set[str] = set()  # locations whose lease this store holds
        self._locations_lock = threading.Lock()
        self._taking = threading.Lock()
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=PG_POOL_SIZE,
            kwargs={"autocommit": True, "row_factory": psycopg.rows.dict_row},
            check=psycopg_pool.ConnectionPool.check_connection,
            timeout=PG_CONNECT_TIMEOUT,
            name="send-ledger",
            open=False,
        )
        failure = self._failure("cannot be opened", lambda: self._create(url))
        if failure is not None:
            self._pool.close()
            raise failure
        self._executor = ThreadPoolExecutor(max_workers=PG_POOL_SIZE, thread_name_prefix="send-ledger")
        self._stopping = threading.Event()
        self.renew()  # present from the start: the other hosts' shares count this one
        self._heartbeat = threading.Thread(target=self._beat, name="send-ledger-heartbeat", daemon=True)
        self._heartbeat.start()

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    def _error(self, action: str, exc: BaseException) -> LedgerError:
        return ledger_error(action, self.location, exc, self._secret)

    def _failure(self, action: str, step: Callable[[], object]) -> LedgerError | None:
        """Run `step`; psycopg's error as a LedgerError to raise (outside the `except`, so that it keeps
        neither the original, whose message may quote the connection string, nor its context)."""
        try:
            step()
        except self._errors as exc:
            return self._error(action, exc)
        except BaseException:
            self._pool.close()
            raise
        return None

    def _create(self, url: str) -> None:
        # One connection of our own first: a refused password or an unknown database fails at once
        # with the server's reason, where the pool would keep trying until its timeout.
        with self._psycopg.connect(
            url,
            connect_timeout=max(1, int(PG_CONNECT_TIMEOUT)),
            autocommit=True,
            row_factory=self._psycopg.rows.dict_row,
        ) as conn:
            check_or_create(conn, self.location)
        self._pool.open(wait=True, timeout=PG_CONNECT_TIMEOUT)

    def close(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._heartbeat.join()
        self._executor.shutdown(wait=True)
        for location in list(self._locations):
            self.free_location(location)

        def leave(tx: Tx) -> None:
            assert isinstance(tx, PostgresTx)
            tx.gone(self.holder)

        self._run(Job(leave, durable=False))
        self._pool.close()

    def _check_open(self) -> None:
        if self._stopping.is_set():
            raise LedgerError(f"ledger {self.location} is closed")

    def read(self, query: Callable[[Tx], T]) -> T:
        self._check_open()
        found: list[T] = []

        def step() -> None:
            with self._pool.connection() as conn:
                found.append(query(PostgresTx(conn)))

        try:
            step()
        except self._errors as exc:
            failure = self._error("cannot be read", exc)
        else:
            return found[0]
        raise failure

    def _run(self, job: Job) -> None:
        """Run `job` in a transaction of its own; its result or error are left in the job."""
        try:
            # Pipeline mode: statements whose answer the job does not read (BEGIN, SET, the key's lock,
            # an INSERT, COMMIT) go out without waiting for it; a round trip only where it reads.
            with self._pool.connection() as conn, conn.pipeline(), conn.transaction():
                if not job.durable:
                    conn.execute("SET LOCAL synchronous_commit = off")
                job.result = job.run(PostgresTx(conn))
        except BaseException as exc:
            # Rolled back, or its commit did not answer: the job recorded nothing this process counts on.
            job.error = self._error("cannot be written", exc) if isinstance(exc, self._errors) else exc
            if job.aborted is not None:
                job.aborted()
            if not isinstance(exc, Exception):
                raise
        finally:
            job.done = True
            job.finished.set()

    def submit(self, job: Job) -> Any:
        self._check_open()
        self._run(job)
        if job.error is not None:
            raise job.error
        return job.result

    async def asubmit(self, job: Job) -> Any:
        """`submit` in a thread of the store's (one per pooled connection). A cancelled task's job
        goes on and lands before the cancellation does, so that what it recorded can be released."""
        self._check_open()
        running = asyncio.get_running_loop().run_in_executor(self._executor, self._run, job)
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            job.finished.wait()
            raise
        if job.error is not None:
            raise job.error
        return job.result

    # -- leases: the heartbeat and the locations ----------------------------------------------------

    def _beat(self) -> None:
        # Four beats a lease: a beat or two lost to a restarting server leave the lease running.
        interval = min(self.lease, self.location_lease) / 4
        while not self._stopping.wait(interval):
            self.renew()

    def renew(self) -> None:
        """Extend the leases of this process's sends in flight, of the locations it holds and of its
        presence (a host's share of locations counts the hosts present); a location whose lease
        another host took meanwhile (this one stalled past it) is dropped."""
        held = claims.held()
        with self._locations_lock:
            locations = list(self._locations)

        def run(tx: Tx) -> list[str]:
            assert isinstance(tx, PostgresTx)
            tx.seen(self.holder, self.location_lease)
            if held:
                tx.renew(held, self.lease)
            return [loc for loc in locations if not tx.take_location(loc, self.holder, self.location_lease)]

        job = Job(run, durable=False)
        self._run(job)
        if job.error is None:
            with self._locations_lock:
                self._locations.difference_update(job.result)

    def take_location(self, location: str, of: int = 0) -> bool:
        """Whether this process now holds `location`'s lease (taken, or still its own); with `of` (the
        locations it has to send to), not while it holds its share of them among the hosts present."""

        def run(tx: Tx) -> bool:
            assert isinstance(tx, PostgresTx)
            return tx.take_location(location, self.holder, self.location_lease, of)

        with self._taking:  # one at a time: each take counts what this process's earlier ones took
            taken: bool = self.submit(Job(run, durable=False))
        with self._locations_lock:
            (self._locations.add if taken else self._locations.discard)(location)
        return taken

    def read_sent(self, keys: list[str]) -> list[LedgerRecord]:
        def query(tx: Tx) -> list[LedgerRecord]:
            assert isinstance(tx, PostgresTx)
            return tx.read_sent(keys)

        return self.read(query)

    def holds_location(self, location: str) -> bool:
        with self._locations_lock:
            return location in self._locations

    def free_location(self, location: str) -> None:
        """Give `location`'s lease up (best effort: it runs out by itself otherwise)."""
        with self._locations_lock:
            self._locations.discard(location)

        def run(tx: Tx) -> None:
            assert isinstance(tx, PostgresTx)
            tx.free_location(location, self.holder)

        job = Job(run, durable=False)
        self._run(job)
