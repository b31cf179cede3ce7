"""(p): the send ledger's cost per send on PostgreSQL over loopback; (q): three host processes sending
one file of 1,000 rows over 10 locations through one PostgreSQL ledger to the sandbox."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import httpx
from leadway_invoices_client import SendLedger
from leadway_invoices_client._bulk.engine import bulk_client, run_bulk
from leadway_invoices_client._bulk.rows import BulkRow
from leadway_invoices_client.models import SendAction

from scripts.bench.ledger import bench_ledger
from scripts.bench.processes import sandbox_process
from scripts.bench.timing import Row, example_answer
from scripts.hosts import pose_as
from scripts.pg_server import running_server
from scripts.sandbox import DEFAULT_TOKEN, SEED_USER_ID, SandboxConfig

HOSTS = ("host-a", "host-b", "host-c")


def bench_p() -> Row:
    """(l) with the ledger on a PostgreSQL server over loopback (fsync on, as a real server runs)."""
    with running_server(fsync=True) as server:
        return bench_ledger(url=server.url())


def _world(folder: Path, sends: int, locations: int) -> tuple[Path, list[BulkRow]]:
    """`sends` draft invoices spread over `locations` locations, a row (a key) each."""
    template = json.loads(example_answer())["invoice"]
    invoices, rows = [], []
    for number in range(sends):
        invoice = {**template, "_id": f"65f{number:021x}", "altId": f"65e{number % locations:021x}", "status": "draft"}
        invoices.append(invoice)
        rows.append(
            BulkRow(number + 2, f"q-{number}", invoice["_id"], invoice["altId"], SEED_USER_ID, SendAction.SMS, False)
        )
    path = folder / "hosts-invoices.json"
    path.write_text(json.dumps({"invoices": invoices}), encoding="utf-8")
    return path, rows


def _host(name: str, url: str, base_url: str, rows: list[BulkRow], go: Event, conn: Connection) -> None:
    """In a host process: send every row through the shared ledger, retries off (any 429 surfaces)."""
    pose_as(name)
    statuses: Counter[int | None] = Counter()

    async def run() -> None:
        with SendLedger(url) as ledger:
            async with bulk_client(base_url, DEFAULT_TOKEN, retry=None) as client:
                go.wait()
                report = await run_bulk(rows, ledger=ledger, client=client, resend=True)
        for result in report.results:
            record = result.record
            statuses[None if record is None or record.skipped else record.status_code] += 1

    asyncio.run(run())
    conn.send((time.perf_counter(), dict(statuses)))


def hosts_run(sends: int, locations: int, burst: int, interval: float) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="leadway-bench-") as scratch, running_server(fsync=True) as server:
        invoices_file, rows = _world(Path(scratch), sends, locations)
        config = SandboxConfig(
            invoices_file=invoices_file, burst_limit=burst, burst_interval_ms=int(interval * 1000), daily_limit=10**9
        )
        SendLedger(server.url()).close()  # the tables, made once before the hosts start
        with sandbox_process(config) as sandbox:
            go = ctx.Event()
            pipes, processes = [], []
            for name in HOSTS:
                mine, theirs = ctx.Pipe()
                process = ctx.Process(target=_host, args=(name, server.url(), sandbox.base_url, rows, go, theirs))
                process.start()
                pipes.append(mine)
                processes.append(process)
            time.sleep(3.0)  # every host imported, connected and waiting
            start = time.perf_counter()
            go.set()
            ended = [pipe.recv() for pipe in pipes]
            for process in processes:
                process.join()
            outbox = [d["invoiceId"] for d in httpx.get(f"{sandbox.base_url}/_sandbox/outbox").json()]
    elapsed = max(end for end, _ in ended) - start
    statuses: Counter[int | None] = Counter()
    for _, counted in ended:
        statuses.update(counted)
    by_host = "/".join(str(counted.get(200, 0)) for _, counted in ended)
    per_key = Counter(Counter(outbox).values())
    return {
        "rate": len(outbox) / elapsed,
        "allowed": locations * burst / interval,
        "elapsed": elapsed,
        "delivered": len(outbox),
        "throttled": statuses.get(429, 0),
        "sent_by_hosts": statuses.get(200, 0),
        "skipped": statuses.get(None, 0),
        "once": per_key.get(1, 0),
        "more": sum(n for times, n in per_key.items() if times > 1),
        "by_host": by_host,
    }


def bench_q(sends: int) -> Row:
    # Each location's rows take several rate-limit windows (100 rows, 25 a window): the run is paced,
    # not one burst, so the share measures how well the hosts share each budget.
    locations, burst, interval = 10, 25, 1.0
    figures = hosts_run(sends, locations, burst, interval)
    share = figures["rate"] / figures["allowed"]
    text = (
        f"{share:.0%} of allowed {figures['allowed']:.0f}/s ({figures['rate']:.0f} sends/s, {figures['delivered']:.0f}"
        f" delivered in {figures['elapsed']:.2f} s), {figures['throttled']:.0f} x 429; deliveries per key: 1 for"
        f" {figures['once']:.0f} keys, more for {figures['more']:.0f}; rows skipped by a host (sent by another):"
        f" {figures['skipped']:.0f}; sent by each host {figures['by_host']}; load average {os.getloadavg()[0]:.1f}"
    )
    ok = share >= 0.95 and figures["throttled"] == 0 and figures["more"] == 0 and figures["once"] == sends
    return Row(
        f"(q) three hosts, one PostgreSQL ledger: {sends} rows over {locations} locations,"
        f" {burst}/{int(interval * 1000)} ms burst each",
        "",
        text,
        ">= 95%, no 429, each key delivered once",
        ok,
    )
