"""What the send ledger asks of the database that keeps its records, whichever it is.

The ledger (ledger.py) decides; a store keeps. Every step of a send is a `Job`: a function of a `Tx`
(the statements of one transaction, written once per database) run in a transaction of the store's;
the ledger writes its jobs against `Tx` alone, so each event of a send is written once for every
store.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from .claims import Owner
from .records import LedgerRecord, SendState, WebhookEvent

T = TypeVar("T")


class Row(Protocol):
    """A key's row: every column by name (state, reason, attempts, attempted_at, evidence, the owner's)."""

    def __getitem__(self, column: str) -> Any: ...


class Tx(Protocol):
    """The statements of one transaction of a store."""

    def clock(self) -> float:
        """Now, in seconds since the epoch, on the clock leases are written with (a shared store's is
        the database's, the same for every host)."""

    def row(self, key: str) -> Row | None:
        """Every column of `key`'s row (a claim decides from its owner too), or None; in a write
        transaction the key is locked until it ends."""

    def read_one(self, key: str) -> LedgerRecord | None: ...

    def read_all(self) -> list[LedgerRecord]: ...

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
        """Record that `claim` holds `key` (PENDING) before anything is sent or read for it."""

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
        """Record where the send `claim` made stands (a no-op once another call took the key over)."""

    def write_resolution(self, *, key: str, state: SendState, reason: str, updated_at: str) -> LedgerRecord:
        """Record a verdict on `key` (a person's, or an InvoiceSent webhook's), releasing any claim left on it."""

    def write_event(self, event: WebhookEvent) -> bool:
        """Record a verified webhook delivery once by its webhook id: True if new, False if it was recorded before."""

    def events_for(self, invoice_id: str) -> list[WebhookEvent]:
        """The webhook events recorded for `invoice_id`, oldest `sent_at` first."""

    def rows_for(self, invoice_id: str) -> Sequence[Row]:
        """Every column of the rows of the keys recorded for `invoice_id`, by key."""


class Job:
    """One step run inside a store's transaction: `run(tx)` gives the result; `durable` when the step
    records an intent (it must be on disk before the request goes out). `aborted` undoes what `run`
    did outside the database when the transaction it was part of is rolled back."""

    def __init__(
        self,
        run: Callable[[Tx], Any],
        *,
        durable: bool,
        aborted: Callable[[], None] | None = None,
    ) -> None:
        self.run, self.durable, self.aborted = run, durable, aborted
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.finished = threading.Event()  # set once `done` is
        # An `asubmit` job's task waits on this future of its loop (set from the committing thread).
        self.waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]] | None = None

    def settle(self) -> None:
        """Hand the outcome to the task waiting in `asubmit` (run by its loop)."""
        assert self.waiter is not None
        future = self.waiter[1]
        if not future.done():
            if self.error is not None:
                future.set_exception(self.error)
            else:
                future.set_result(self.result)


def settle_all(jobs: list[Job]) -> None:
    for job in jobs:
        job.settle()


class Store(Protocol):
    """Where a ledger keeps its records: every write a Job in a transaction, reads outside one."""

    location: str
    """What the store was opened with, as it may be shown (never a password)."""

    def submit(self, job: Job) -> Any:
        """Run `job` in a transaction; its result, or its error raised."""

    async def asubmit(self, job: Job) -> Any:
        """`submit` for asyncio, off the event loop. A cancelled task's job still lands before the
        cancellation goes on, so that what it recorded can be released."""

    def read(self, query: Callable[[Tx], T]) -> T:
        """What `query` reads."""

    def close(self) -> None: ...
