"""Running a bulk send in several processes: its locations split across workers, a core each.

One process spends ~2 ms of CPU per send (httpx, the ledger, asyncio), so one core caps a bulk run
near 500 sends per second whatever the API allows. Each worker process runs `run_bulk` on the rows
of its own locations, with its own event loop, client (and so its own pacers: a location is paced
by one worker only) and ledger connection; the ledger already serialises processes sharing its
file, so the exactly-once guarantees are those of one process.

The parent only collects what the workers report (in batches, a few per second) for the progress
bar and the summary. Interrupting and killing behave as with one process:

* Workers are in a process group of their own, so a terminal's Ctrl-C reaches the parent alone, and
  they ignore SIGTERM (systemd sends it to every process of a service): `interrupt` passes each
  signal on as a Ctrl-C: the first stops starting sends, a second abandons those in flight (each
  worker leaves its keys PENDING, reconciled by the next run).
* A worker dies with its parent (SIGKILL included): on Linux the kernel kills it (PR_SET_PDEATHSIG);
  elsewhere it kills itself when it sees its parent gone. Either way what it was sending is left
  PENDING, as a killed single process leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import multiprocessing.context
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import anyio

from .._ledger.ledger import SendLedger
from .._runtime.client import AuthenticatedClient
from .engine import BulkReport, RowResult, run_bulk, token_refused
from .interrupts import on_interrupt
from .rows import BulkRow

#: Workers need POSIX process groups and signals (a Ctrl-C passed on, SIGKILL); elsewhere one process sends.
WORKERS_SUPPORTED = os.name == "posix"
#: Seconds between a worker's reports to the parent (the progress bar's pace; fewer is less CPU).
REPORT_EVERY = 0.1
_PR_SET_PDEATHSIG = 1


def split(rows: Sequence[BulkRow], workers: int) -> list[list[int]]:
    """Row indexes per worker: whole locations, largest first to the least loaded worker (each
    worker's rows in file order). Fewer lists than `workers` when there are fewer locations."""
    by_location: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        by_location.setdefault(row.location_id, []).append(index)
    shares: list[list[int]] = [[] for _ in range(min(workers, len(by_location)))]
    for indexes in sorted(by_location.values(), key=len, reverse=True):
        min(shares, key=len).extend(indexes)
    return [sorted(share) for share in shares if share]


def worker_count(requested: int | None, rows: Sequence[object], locations: int, concurrency: int) -> int:
    """How many processes send: as asked, else one per core; never more than locations, rows or
    sends in flight (each worker keeps at least one). One where worker processes are not supported
    (they rely on POSIX process groups and signals)."""
    if not WORKERS_SUPPORTED:
        return 1
    wanted = requested if requested is not None else (os.cpu_count() or 1)
    return max(1, min(wanted, locations, len(rows), concurrency))


def shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` shares as even as can be, adding up to `total` (the first ones
    one larger)."""
    base, extra = divmod(total, parts)
    return [base + (index < extra) for index in range(parts)]


@dataclass(frozen=True)
class WorkerSetup:
    """What a run's workers need: `open_client(concurrency)` and `open_ledger()` are called in each
    worker process; `concurrency` is the sends in flight of all workers together."""

    open_client: Callable[[int], AuthenticatedClient]
    open_ledger: Callable[[], SendLedger]
    per_location: int
    concurrency: int
    resend: bool = False
    retry_refused: bool = False

    def __repr__(self) -> str:  # the client factory may hold a token: never show it
        return f"WorkerSetup(per_location={self.per_location}, concurrency={self.concurrency})"


def _warm_up() -> None:
    """Import, once in the parent, what each forked worker would import at its first send
    (httpcore, h11, anyio's asyncio backend: ~60 modules, tens of ms of CPU per worker)."""
    import h11  # noqa: F401
    import httpcore  # noqa: F401

    anyio.run(anyio.sleep, 0)  # loads anyio's asyncio backend, the one httpcore's async path uses


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os.kill(os.getpid(), signal.SIGKILL)


def _work(
    setup: WorkerSetup, concurrency: int, rows: list[BulkRow], indexes: list[int], conn: Connection, parent: int
) -> None:
    """In the worker: send `rows`, reporting (index, record, refused) batches, then ("end", ...)."""
    _die_with_parent(parent)
    os.setpgid(0, 0)  # a terminal's Ctrl-C goes to the parent, which passes it on (see module doc)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # A SIGTERM to every process of the job (systemd stops a service so) is the parent's to handle: it
    # passes it on as a Ctrl-C. Taken here too, it would make the parent's Ctrl-C the second signal,
    # abandoning the sends in flight.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    position = {id(row): index for row, index in zip(rows, indexes, strict=True)}
    batch: list[tuple[int, Any, str | None]] = []

    def report() -> None:
        if batch:
            conn.send(("results", batch.copy()))
            batch.clear()

    def on_result(result: RowResult) -> None:
        batch.append((position[id(result.row)], result.record, result.bad_input))

    async def main() -> BulkReport:
        stop = asyncio.Event()

        async def report_often() -> None:
            while True:
                await asyncio.sleep(REPORT_EVERY)
                if os.getppid() != parent:  # no PR_SET_PDEATHSIG here: die as a killed parent did
                    os.kill(os.getpid(), signal.SIGKILL)
                report()

        reporter = asyncio.create_task(report_often())
        try:
            # The parent passes each Ctrl-C on (see the module).
            with on_interrupt(stop.set, signals=(signal.SIGINT,)), setup.open_ledger() as ledger:
                async with setup.open_client(concurrency) as client:
                    return await run_bulk(
                        rows,
                        ledger=ledger,
                        client=client,
                        stop=stop,
                        on_result=on_result,
                        per_location=setup.per_location,
                        concurrency=concurrency,
                        resend=setup.resend,
                        retry_refused=setup.retry_refused,
                    )
        finally:
            reporter.cancel()

    try:
        done = asyncio.run(main())
    except KeyboardInterrupt:
        report()
        conn.send(("abandoned", None))
        return
    report()
    conn.send(("end", done.interrupted))


class Workers:
    """Worker processes sending `rows`; `collect` gathers their results into one `BulkReport`."""

    def __init__(self, rows: Sequence[BulkRow], setup: WorkerSetup, workers: int) -> None:
        self.rows = list(rows)
        self.abandoned = False
        self.lost = 0  # workers that ended without reporting their end (a crash, or killed)
        # fork where it is safe and cheap (no re-import: a worker is sending within milliseconds);
        # spawn elsewhere (then `setup` must pickle).
        context: multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext = (
            multiprocessing.get_context("fork")
            if sys.platform.startswith("linux")
            else multiprocessing.get_context("spawn")
        )
        if sys.platform.startswith("linux"):
            _warm_up()
        self._links: list[tuple[multiprocessing.process.BaseProcess, Connection]] = []
        parts = split(self.rows, workers)
        for indexes, concurrency in zip(parts, shares(setup.concurrency, len(parts)), strict=True):
            ours, theirs = context.Pipe(duplex=False)
            share = [self.rows[index] for index in indexes]
            process = context.Process(
                target=_work,
                args=(setup, concurrency, share, indexes, theirs, os.getpid()),
                name="leadway-bulk-worker",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._links.append((process, ours))

    def interrupt(self) -> None:
        """Pass a Ctrl-C on to every worker still running."""
        for process, _ in self._links:
            if process.pid is not None and process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGINT)

    def collect(self, on_result: Callable[[RowResult], None] | None = None) -> BulkReport:
        """Wait for every worker; the run's report (a worker that ended without reporting its end
        leaves its unreported rows not started, and the report interrupted)."""
        report = BulkReport()
        open_links = {conn: process for process, conn in self._links}
        cut_short = False
        while open_links:
            for conn in wait(list(open_links)):
                assert isinstance(conn, Connection)
                try:
                    kind, payload = conn.recv()
                except EOFError:
                    cut_short = True
                    self.lost += 1
                    open_links.pop(conn).join()
                    continue
                if kind == "results":
                    for index, record, bad_input in payload:
                        result = RowResult(self.rows[index], record, bad_input)
                        report.results.append(result)
                        if token_refused(result) and not report.token_refused:
                            # Refused for one row, the token is refused for every row: stop them all.
                            report.token_refused = True
                            self.interrupt()
                        if on_result is not None:
                            on_result(result)
                    continue
                if kind == "abandoned":
                    self.abandoned = True
                cut_short = cut_short or kind == "abandoned" or bool(payload)
                open_links.pop(conn).join()
        started = {id(result.row) for result in report.results}
        report.not_started = [row for row in self.rows if id(row) not in started]
        report.interrupted = cut_short and bool(report.not_started) and not report.token_refused
        return report
