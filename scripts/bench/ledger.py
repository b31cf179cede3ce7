"""(l): the send ledger's cost per send in memory: a durable intent, the send, the outcome."""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from leadway_invoices_client import AuthenticatedClient, SendLedger
from leadway_invoices_client.api.invoices import send_invoice

from scripts.bench.timing import BODY, Row, atimed, example_answer, side_by_side, timed
from scripts.sandbox import DEFAULT_TOKEN, DRAFT_INVOICE_ID


def _fsync_seconds(folder: Path) -> float:
    """Median seconds of one synchronous=FULL WAL commit in `folder`: what an intent waits for."""
    conn = sqlite3.connect(folder / "fsync.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (n INTEGER)")
    times = []
    for n in range(50):
        start = time.perf_counter()
        conn.execute("INSERT INTO t VALUES (?)", (n,))
        times.append(time.perf_counter() - start)
    conn.close()
    return statistics.median(times)


def bench_ledger(tasks: int = 16, sends: int = 800, url: str | None = None) -> Row:
    """(l), or (p) with `url`: the ledger on a PostgreSQL server instead of a file."""
    content = example_answer()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})

    keys = itertools.count()
    client = AuthenticatedClient(
        "https://bench.test", DEFAULT_TOKEN, httpx_args={"transport": httpx.MockTransport(handler)}
    )
    with (
        tempfile.TemporaryDirectory(prefix="leadway-bench-") as scratch,
        SendLedger(url or Path(scratch) / "l.db") as ledger,
    ):

        def ledgered() -> object:
            return ledger.send(f"bench-{next(keys)}", client=client, invoice_id=DRAFT_INVOICE_ID, body=BODY)

        def bare() -> object:
            return send_invoice.sync(DRAFT_INVOICE_ID, client=client, body=BODY)

        async def aledgered() -> object:
            return await ledger.asend(f"bench-{next(keys)}", client=client, invoice_id=DRAFT_INVOICE_ID, body=BODY)

        async def abare() -> object:
            return await send_invoice.asyncio(DRAFT_INVOICE_ID, client=client, body=BODY)

        def concurrently(call: Callable[[], Awaitable[object]]) -> Callable[[], float]:
            # `tasks` asyncio tasks sharing `sends` sends, as a bulk run does: seconds per send.
            async def run() -> float:
                left = iter(range(sends))

                async def worker() -> None:
                    for _ in left:
                        await call()

                start = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(tasks)))
                return (time.perf_counter() - start) / sends

            return lambda: loop.run_until_complete(run())

        loop = asyncio.new_event_loop()
        fsync = _fsync_seconds(Path(scratch))
        seq, seq_bare, _ = side_by_side(timed(ledgered, 100), timed(bare, 100), 9)
        aseq, aseq_bare, _ = side_by_side(atimed(loop, aledgered, 100), atimed(loop, abare, 100), 9)
        many, many_bare, _ = side_by_side(concurrently(aledgered), concurrently(abare), 9)
        loop.close()
    us = 1e6
    where = "on PostgreSQL over loopback" if url else f"in a file (one fsync here: {fsync * us:.0f} us)"
    return Row(
        f"({'p' if url else 'l'}) send ledger: cost per send {where}, the send in memory",
        f"one at a time: {(seq - seq_bare) * us:.0f} us",
        f"one at a time: {(aseq - aseq_bare) * us:.0f} us; {tasks} tasks: {(many - many_bare) * us:.0f} us"
        + (f"; load average {os.getloadavg()[0]:.1f}" if url else ""),
        # A file's target; PostgreSQL's cost (round trips, psycopg) is reported, for choosing a store.
        "reported" if url else f"<= 1 ms ({tasks} tasks)",
        None if url else many - many_bare <= 1e-3,
    )
