"""Running a bulk send: every row through the send ledger, concurrently across locations, paced per location.

Each location's rows go in file order through a few lanes of their own (asyncio tasks); the client's `Pacer` keeps
each location inside its rate-limit budget, so one slow or throttled location never holds up the
others. Every send goes through the ledger, which records the intent before any I/O and the outcome
after, skips a key already sent and reconciles one left pending: so a run that is killed at any point
can simply be run again.

On a ledger hosts share (PostgreSQL), a location is sent to by one host at a time: the host holding
its lease (`SendLedger.take_location`), so that hosts sending the same file share each location's
budget instead of each spending all of it.

Stopping (`stop` set, e.g. by Ctrl-C) starts no new send; the sends in flight finish and are
recorded, and the rows never started are reported as such.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

import httpx

from .._ledger.ledger import LedgerError, LedgerRecord, SendLedger
from .._runtime.client import DEFAULT_RETRY, AuthenticatedClient
from .._runtime.constants import BULK_CONCURRENCY, BULK_PER_LOCATION, LOCATION_POLL
from .._runtime.pacing import Pacer
from .._runtime.retry import RetryPolicy
from .rows import BulkRow


def bulk_client(
    base_url: str, token: str, *, concurrency: int = BULK_CONCURRENCY, retry: RetryPolicy | None = DEFAULT_RETRY
) -> AuthenticatedClient:
    """The one client a bulk run shares: paced per location, and keeping a connection alive for each
    send in flight (httpx keeps 20 by default: beyond that every answer would close one, and every
    next send open another)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return AuthenticatedClient(base_url, token=token, pacer=Pacer(), retry=retry, httpx_args={"limits": limits})


@dataclass(frozen=True, slots=True)
class RowResult:
    """What became of one row: the ledger's record, or why the ledger took the row for bad input
    before any I/O (a key it knows for another invoice, a ledger it cannot write: nothing was sent)."""

    row: BulkRow
    record: LedgerRecord | None
    bad_input: str | None = None


@dataclass(slots=True)
class BulkReport:
    """Every row's result in completion order, and the rows a stop left unstarted (file order).
    `token_refused`: the run stopped at the API's first 401 (a token refused is refused for every
    row); `interrupted`: a signal stopped it."""

    results: list[RowResult] = field(default_factory=list)
    not_started: list[BulkRow] = field(default_factory=list)
    interrupted: bool = False
    token_refused: bool = False


def token_refused(result: RowResult) -> bool:
    """Whether the API refused the run's token on this row's send (or its read before the send)."""
    return result.record is not None and result.record.status_code == HTTPStatus.UNAUTHORIZED


async def run_bulk(
    rows: Sequence[BulkRow],
    *,
    ledger: SendLedger,
    client: AuthenticatedClient,
    stop: asyncio.Event | None = None,
    on_result: Callable[[RowResult], None] | None = None,
    per_location: int = BULK_PER_LOCATION,
    concurrency: int = BULK_CONCURRENCY,
    resend: bool = False,
    retry_refused: bool = False,
) -> BulkReport:
    """Send every row through `ledger` with `client` (which should carry a `Pacer`), and report.

    Before a key's first send the ledger reads the invoice and sends it only if it still reads draft
    (so a ledger that does not know an earlier run, a renamed file say, sends nothing twice), unless
    the run (`resend`) or the row (its `resend` column) asks for a deliberate resend. `retry_refused`
    sends again what the API refused before. The first 401 stops the run: the token is refused for
    every row. `on_result` is called once per finished row (progress). Never raises for an API
    outcome: the ledger records it. A row the ledger takes for bad input (a key it knows for another
    invoice) is a result with `bad_input` set.
    """
    if per_location < 1 or concurrency < 1:
        raise ValueError("per_location and concurrency must be at least 1")
    stop = stop or asyncio.Event()
    report = BulkReport()
    queues: dict[str, deque[BulkRow]] = {}
    for row in rows:
        queues.setdefault(row.location_id, deque()).append(row)
    slots = asyncio.Semaphore(concurrency)
    # An invoice on several rows (a file read with repeated invoices allowed) is sent by one row at a
    # time: the next row's read before its send then sees the first send.
    listed = Counter(row.invoice_id for row in rows)
    one_at_a_time = {invoice: asyncio.Lock() for invoice, count in listed.items() if count > 1}

    async def send(row: BulkRow) -> RowResult:
        lock = one_at_a_time.get(row.invoice_id)
        if lock is None:
            return await send_now(row)
        async with lock:
            return await send_now(row)

    async def send_now(row: BulkRow) -> RowResult:
        try:
            record = await ledger.asend(
                row.key,
                client=client,
                invoice_id=row.invoice_id,
                body=row.body(),
                only_if_draft=not (resend or row.resend),
                retry_refused=retry_refused,
            )
        except ValueError as exc:  # LedgerError and other bad input: raised before any I/O
            return RowResult(row, None, str(exc))
        return RowResult(row, record)

    async def lane(queue: deque[BulkRow], location: str) -> None:
        """One of a location's `per_location` lanes: takes the location's next row until none is left
        (or, on a shared ledger, until this host no longer holds the location)."""
        while queue and not stop.is_set() and ledger.holds_location(location):
            async with slots:
                # Another lane of this location may have taken the last row while this one waited.
                if stop.is_set() or not queue or not ledger.holds_location(location):
                    return
                row = queue.popleft()
                # Shielded: a cancelled run must not abandon a send halfway through its ledger record.
                result = await asyncio.shield(send(row))
            finished(result)

    def finished(result: RowResult) -> None:
        report.results.append(result)
        if token_refused(result) and not stop.is_set():
            report.token_refused = True
            stop.set()
        if on_result is not None:
            on_result(result)

    async def lanes(queue: deque[BulkRow], location: str) -> None:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(per_location, len(queue))):
                group.create_task(lane(queue, location))

    async def skip_sent(queue: deque[BulkRow]) -> None:
        """The rows another host sent already, reported as skipped from one read (not a claim each)."""
        try:
            sent = await asyncio.to_thread(ledger.sent_already, [row.key for row in queue])
        except LedgerError:
            return  # each row's own claim tells
        left = [row for row in queue if row.key not in sent or sent[row.key].invoice_id != row.invoice_id]
        for row in queue:
            if row.key in sent and sent[row.key].invoice_id == row.invoice_id:
                finished(RowResult(row, sent[row.key]))
        queue.clear()
        queue.extend(left)

    async def shared(queue: deque[BulkRow], location: str) -> None:
        """A location's rows on a ledger hosts share: sent only while this host holds the location's
        lease (its rate budget is then this host's alone, and its pacer right), waiting while another
        host holds it. A ledger that cannot be reached gives no lease: the sends then report it."""
        while queue and not stop.is_set():
            try:
                held = await asyncio.to_thread(ledger.take_location, location, len(queues))
            except LedgerError:
                held = True
            if not held:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), LOCATION_POLL)
                continue
            try:
                await skip_sent(queue)
                await lanes(queue, location)
            finally:
                with contextlib.suppress(LedgerError):
                    await asyncio.to_thread(ledger.free_location, location)

    async with asyncio.TaskGroup() as group:
        for location, queue in queues.items():
            group.create_task(shared(queue, location) if ledger.shared else lanes(queue, location))
    started = {result.row.key for result in report.results}
    report.not_started = [row for row in rows if row.key not in started]
    report.interrupted = stop.is_set() and bool(report.not_started) and not report.token_refused
    return report
