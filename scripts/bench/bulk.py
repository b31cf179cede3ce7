"""(g): the bulk-send command's engine as the command runs it, with its ledger and without; (h): the
client's sends against bare httpx doing the same sends, CPU per send."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx
from leadway_invoices_client import AuthenticatedClient, LedgerRecord, RateLimitError, SendLedger, SendState
from leadway_invoices_client._bulk.engine import RowResult, bulk_client
from leadway_invoices_client._bulk.rows import BulkRow
from leadway_invoices_client._bulk.workers import Workers, WorkerSetup, worker_count
from leadway_invoices_client._runtime.constants import BULK_CONCURRENCY, BULK_PER_LOCATION
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import SendAction, SendInvoiceRequest

from scripts.bench.processes import sandbox_process
from scripts.bench.timing import Row, example_answer
from scripts.sandbox import DEFAULT_TOKEN, SEED_USER_ID, SandboxConfig


def _bulk_world(folder: Path, sends: int, locations: int) -> tuple[Path, list[BulkRow]]:
    """An invoices file with one draft per location (copies of the first seeded invoice), and
    `sends` rows spread over them: each row a key of its own (a resend of a sent invoice is allowed)."""
    template = json.loads(example_answer())["invoice"]
    invoices, rows = [], []
    for index in range(locations):
        invoices.append({**template, "_id": f"65d{index:021x}", "altId": f"65e{index:021x}", "status": "draft"})
    for number in range(sends):
        invoice = invoices[number % locations]
        row = BulkRow(
            number + 2, f"bench-{number}", invoice["_id"], invoice["altId"], SEED_USER_ID, SendAction.SMS, False
        )
        rows.append(row)
    path = folder / "bench-invoices.json"
    path.write_text(json.dumps({"invoices": invoices}), encoding="utf-8")
    return path, rows


class _NoLedger:
    """Sends straight through, recording nothing: what the engine does without a ledger's cost."""

    async def asend(self, key: str, *, client: AuthenticatedClient, invoice_id: str, body: SendInvoiceRequest) -> Any:
        try:
            await send_invoice.asyncio(invoice_id, client=client, body=body)
        except RateLimitError:
            return LedgerRecord(key, invoice_id, body.alt_id, SendState.NOT_SENT, "RateLimitError 429", 1)
        return LedgerRecord(key, invoice_id, body.alt_id, SendState.SENT, "sent", 1)

    def __enter__(self) -> _NoLedger:
        return self

    def __exit__(self, *args: object) -> None:
        pass


def bulk_run(
    sends: int, locations: int, burst: int, interval: float, *, ledger: bool = True, workers: int | None = None
) -> dict[str, float]:
    """One bulk run as the command does it (its worker processes, one per core by default); the
    figures (g) reports. `ledger=False`: sends without one."""
    with tempfile.TemporaryDirectory(prefix="leadway-bench-") as scratch:
        invoices_file, rows = _bulk_world(Path(scratch), sends, locations)
        config = SandboxConfig(
            invoices_file=invoices_file, burst_limit=burst, burst_interval_ms=int(interval * 1000), daily_limit=10**9
        )
        done: list[float] = []

        def finished(result: RowResult) -> None:
            done.append(time.perf_counter())

        with sandbox_process(config) as sandbox:
            count = worker_count(workers, rows, locations, BULK_CONCURRENCY)
            ledger_path = Path(scratch) / "bench.ledger.sqlite3"

            def open_client(concurrency: int) -> AuthenticatedClient:
                return bulk_client(sandbox.base_url, DEFAULT_TOKEN, concurrency=concurrency, retry=None)

            setup = WorkerSetup(
                # Retries off: any 429 surfaces. (Workers fork: these need not pickle.)
                open_client=open_client,
                open_ledger=(lambda: SendLedger(ledger_path)) if ledger else _NoLedger,  # type: ignore[arg-type]
                per_location=BULK_PER_LOCATION,
                concurrency=BULK_CONCURRENCY,
            )
            cpu_before = sandbox.cpu()
            start, cpu_start, children_start = time.perf_counter(), time.process_time(), os.times()
            results = Workers(rows, setup, count).collect(finished).results
            elapsed = done[-1] - start
            children = os.times()
            children_cpu = children.children_user + children.children_system
            children_cpu -= children_start.children_user + children_start.children_system
            client_cpu_ms = (time.process_time() - cpu_start + children_cpu) * 1000 / sends
            cpu_ms = (sandbox.cpu() - cpu_before) * 1000 / sends
    refused = sum(1 for r in results if r.record is None or "429" in r.record.reason)
    sent = sum(1 for r in results if r.record is not None and r.record.state == "sent")
    return {
        "rate": sends / elapsed,
        "allowed": locations * burst / interval,
        "refused": refused,
        "sent": sent,
        "cpu_ms": cpu_ms,
        "client_cpu_ms": client_cpu_ms,
        "elapsed": elapsed,
        "workers": count,
    }


def bench_g(sends: int) -> Row:
    locations, burst, interval = 10, 100, 2.0
    figures = bulk_run(sends, locations, burst, interval)
    bare = bulk_run(sends, locations, burst, interval, ledger=False)
    # What the ledger adds to a bulk run, per send (its cost in isolation is (l)).
    cost = (figures["elapsed"] - bare["elapsed"]) / sends
    share = figures["rate"] / figures["allowed"]
    text = (
        f"{share:.0%} of allowed {figures['allowed']:.0f}/s ({figures['rate']:.0f} sends/s, {figures['sent']:.0f} sent"
        f" in {figures['elapsed']:.2f} s), {figures['refused']:.0f} x 429; CPU per send: client"
        f" {figures['client_cpu_ms']:.2f} ms, sandbox {figures['cpu_ms']:.2f} ms; ledger {cost * 1000:.2f} ms per send"
        f" (without it: {bare['rate'] / bare['allowed']:.0%}, {bare['rate']:.0f} sends/s); {figures['workers']:.0f}"
        f" worker processes; load average"
        f" {os.getloadavg()[0]:.1f}"
    )
    ok = share >= 0.95 and figures["refused"] == 0 and cost <= 0.001
    return Row(
        f"(g) bulk send, {sends} rows over {locations} locations, {burst}/{int(interval * 1000)} ms burst each",
        "",
        text,
        ">= 95%, no 429, ledger <= 1 ms",
        ok,
    )


async def _sends_in_flight(
    send: Callable[[BulkRow], Awaitable[object]], rows: Sequence[BulkRow], in_flight: int
) -> None:
    left = iter(rows)

    async def lane() -> None:
        for row in left:
            await send(row)

    await asyncio.gather(*(lane() for _ in range(in_flight)))


def _cpu_per_send(send_all: Callable[[], Coroutine[Any, Any, None]], sends: int) -> float:
    start = time.process_time()
    asyncio.run(send_all())
    return (time.process_time() - start) / sends


def client_vs_bare(sends: int, in_flight: int = BULK_CONCURRENCY, rounds: int = 3) -> tuple[float, float]:
    """CPU seconds per send, in this one process, of the bulk command's client (paced, its sends
    through `send_invoice.asyncio`: checks, typed answers, errors, retries, pacing, token hygiene)
    and of a bare `httpx.AsyncClient` posting the same JSON and `json.loads`-ing each answer, both
    with `in_flight` sends at once to the same sandbox (no rate limit: only the clients differ).
    Medians of `rounds` runs each, alternating which goes first."""
    with tempfile.TemporaryDirectory(prefix="leadway-bench-") as scratch:
        invoices_file, rows = _bulk_world(Path(scratch), sends, 10)
        config = SandboxConfig(invoices_file=invoices_file, burst_limit=10**9, daily_limit=10**9)
        with sandbox_process(config) as sandbox:
            headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Version": "2021-07-28"}

            async def ours() -> None:
                async with bulk_client(sandbox.base_url, DEFAULT_TOKEN, concurrency=in_flight, retry=None) as client:

                    async def send(row: BulkRow) -> object:
                        return await send_invoice.asyncio(row.invoice_id, client=client, body=row.body())

                    await _sends_in_flight(send, rows, in_flight)

            async def bare() -> None:
                limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
                async with httpx.AsyncClient(base_url=sandbox.base_url, limits=limits) as client:

                    async def send(row: BulkRow) -> object:
                        path = f"/invoices/{row.invoice_id}/send"
                        return json.loads((await client.post(path, json=row.body().to_dict(), headers=headers)).content)

                    await _sends_in_flight(send, rows, in_flight)

            mine: list[float] = []
            theirs: list[float] = []
            for index in range(rounds):
                pair = [(mine, ours), (theirs, bare)]
                for sample, run in pair if index % 2 == 0 else reversed(pair):
                    sample.append(_cpu_per_send(run, sends))
    return statistics.median(mine), statistics.median(theirs)


def bench_h(sends: int) -> Row:
    mine, bare = client_vs_bare(sends)
    text = (
        f"{mine / bare:.2f}x ({mine * 1000:.2f} vs {bare * 1000:.2f} ms CPU per send, {BULK_CONCURRENCY} in flight;"
        f" load average {os.getloadavg()[0]:.1f})"
    )
    return Row(
        f"(h) client vs bare httpx, {sends} sends to the loopback sandbox", "", text, "<= 1.10x", mine / bare <= 1.1
    )
