"""(e): a paced run against a sandbox with a 100-send burst budget: achieved over allowed rate."""

from __future__ import annotations

import asyncio
import time

from leadway_invoices_client import AuthenticatedClient, Pacer, RateLimitError
from leadway_invoices_client.api.invoices import send_invoice

from scripts.bench.processes import sandbox_process
from scripts.bench.timing import BODY, Row
from scripts.sandbox import DEFAULT_TOKEN, DRAFT_INVOICE_ID, SandboxConfig


def _paced_run(sends: int, burst: int, interval: float, use_async: bool) -> tuple[float, int]:
    """Achieved rate / allowed rate of a sequential paced run, and how many 429s surfaced.

    The first burst is free (a fresh budget), so the rate is counted from its end: the remaining
    sends over the time they took, as a long bulk run would see it.
    """
    config = SandboxConfig(burst_limit=burst, burst_interval_ms=int(interval * 1000))
    refused = 0
    done: list[float] = []
    with sandbox_process(config) as sandbox:
        client = AuthenticatedClient(sandbox.base_url, DEFAULT_TOKEN, retry=None, pacer=Pacer())
        if use_async:

            async def arun() -> None:
                nonlocal refused
                for _ in range(sends):
                    try:
                        await send_invoice.asyncio(DRAFT_INVOICE_ID, client=client, body=BODY)
                    except RateLimitError:
                        refused += 1
                    done.append(time.perf_counter())

            asyncio.run(arun())
        else:
            for _ in range(sends):
                try:
                    send_invoice.sync(DRAFT_INVOICE_ID, client=client, body=BODY)
                except RateLimitError:
                    refused += 1
                done.append(time.perf_counter())
    achieved = (sends - burst) / (done[-1] - done[burst - 1])
    return achieved / (burst / interval), refused


def bench_e(sends: int) -> Row:
    # Upstream's burst (100) with its 10 s interval shortened to 2 s. Not 1 s: a send costs the
    # sandbox ~10 ms, so 100 of them would fill a whole second and the network, not the budget,
    # would set the pace.
    burst, interval = 100, 2.0
    sync_rate, sync_refused = _paced_run(sends, burst, interval, use_async=False)
    async_rate, async_refused = _paced_run(sends, burst, interval, use_async=True)
    ok = min(sync_rate, async_rate) >= 0.95 and sync_refused == async_refused == 0
    return Row(
        f"(e) paced bulk run, {sends} sends, {burst}/{int(interval * 1000)} ms burst",
        f"{sync_rate:.0%} of allowed rate, {sync_refused} x 429",
        f"{async_rate:.0%} of allowed rate, {async_refused} x 429",
        ">= 95%, no 429",
        ok,
    )
