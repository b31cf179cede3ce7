"""(f): the sandbox's own throughput under concurrent load, and its CPU per send."""

from __future__ import annotations

import asyncio
import json
import os
import time

import httpx

from scripts.bench.processes import sandbox_process
from scripts.bench.raw_http import read_status
from scripts.bench.timing import BODY, HEADERS, PATH, Row
from scripts.sandbox import SandboxConfig


async def _flood(base_url: str, sends: int, concurrency: int) -> list[int]:
    """`sends` valid sends from `concurrency` kept-alive connections; the status of each answer.

    Plain HTTP/1.1 over asyncio streams, like `wrk`: httpx spends ~1.5 ms of CPU per request (more
    with many connections), so on two cores it, not the sandbox, would set the pace.
    """
    url = httpx.URL(base_url)
    body = json.dumps(BODY.to_dict()).encode()
    head = "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
    request = (
        f"POST {PATH} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n{head}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    statuses: list[int] = []

    async def worker(count: int) -> None:
        reader, writer = await asyncio.open_connection(url.host, url.port)
        try:
            for _ in range(count):
                writer.write(request)
                statuses.append(await read_status(reader))
        finally:
            writer.close()
            await writer.wait_closed()

    share, extra = divmod(sends, concurrency)
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))
    return statuses


def sandbox_throughput(sends: int, concurrency: int = 16) -> tuple[float, float, int]:
    """Sends per second the sandbox answers under concurrent load, its CPU ms per send, and how many were not 200.

    The sandbox runs in a child process (as in (b)); the client, in this process, shares the two
    cores with it, as the bulk-send bench's client does. A warm-up round comes first.
    """
    config = SandboxConfig(burst_limit=10**9, daily_limit=10**9)
    with sandbox_process(config) as server:
        asyncio.run(_flood(server.base_url, min(sends, 200), concurrency))
        cpu_before = server.cpu()
        start = time.perf_counter()
        statuses = asyncio.run(_flood(server.base_url, sends, concurrency))
        elapsed = time.perf_counter() - start
        cpu_ms = (server.cpu() - cpu_before) * 1000 / sends
    return sends / elapsed, cpu_ms, sum(status != 200 for status in statuses)


def bench_f(sends: int) -> Row:
    rate, cpu_ms, failed = sandbox_throughput(sends)
    load = os.getloadavg()[0]
    text = f"{rate:.0f} sends/s, {cpu_ms:.2f} ms CPU per send ({failed} not 200; load average {load:.1f})"
    # Issue 12's bulk bench needs 10 locations x 100 per 2 s = 500 sends/s with its client beside it.
    return Row(
        f"(f) sandbox throughput, {sends} concurrent sends",
        text,
        "(asyncio, 16 connections)",
        ">= 1000/s",
        rate >= 1000,
    )
