"""(a), (b), (c): one send through the client against raw httpx (in memory, and against the loopback
sandbox), and the model's parse against json.loads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from leadway_invoices_client import DEFAULT_TIMEOUT, AuthenticatedClient
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import SendInvoiceResponse

from scripts.bench.processes import sandbox_process
from scripts.bench.timing import BODY, HEADERS, PATH, Row, atimed, example_answer, side_by_side, timed
from scripts.sandbox import DEFAULT_TOKEN, DRAFT_INVOICE_ID, SandboxConfig


def _client_vs_raw(
    base_url: str, transport: Callable[[], Any] | None, n: int, rounds: int
) -> tuple[str, str, float, float]:
    """(a)/(b): sync and async ratios of the generated client against raw httpx."""
    body_dict = BODY.to_dict()

    def args() -> dict[str, Any]:
        return {"transport": transport()} if transport is not None else {}

    # Same transport (a fresh one each) and timeout on both sides; default connection limits on both.
    ours = AuthenticatedClient(base_url, DEFAULT_TOKEN, timeout=DEFAULT_TIMEOUT, httpx_args=args())
    raw = httpx.Client(base_url=base_url, timeout=DEFAULT_TIMEOUT, **args())

    def raw_call() -> object:
        return json.loads(raw.post(PATH, json=body_dict, headers=HEADERS).content)

    def our_call() -> SendInvoiceResponse:
        return send_invoice.sync(DRAFT_INVOICE_ID, client=ours, body=BODY)

    sync_ratio = side_by_side(timed(our_call, n), timed(raw_call, n), rounds)

    loop = asyncio.new_event_loop()
    aours = AuthenticatedClient(base_url, DEFAULT_TOKEN, timeout=DEFAULT_TIMEOUT, httpx_args=args())
    araw = httpx.AsyncClient(base_url=base_url, timeout=DEFAULT_TIMEOUT, **args())

    async def araw_call() -> object:
        return json.loads((await araw.post(PATH, json=body_dict, headers=HEADERS)).content)

    async def aour_call() -> SendInvoiceResponse:
        return await send_invoice.asyncio(DRAFT_INVOICE_ID, client=aours, body=BODY)

    async_ratio = side_by_side(atimed(loop, aour_call, n), atimed(loop, araw_call, n), rounds)
    loop.run_until_complete(araw.aclose())
    loop.run_until_complete(aours.get_async_httpx_client().aclose())
    loop.close()
    raw.close()
    ours.get_httpx_client().close()
    fmt = "{:.2f}x ({:.0f} vs {:.0f} us)"
    return (
        fmt.format(sync_ratio[2], sync_ratio[0] * 1e6, sync_ratio[1] * 1e6),
        fmt.format(async_ratio[2], async_ratio[0] * 1e6, async_ratio[1] * 1e6),
        sync_ratio[2],
        async_ratio[2],
    )


def bench_a() -> Row:
    content = example_answer()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})

    s, a, rs, ra = _client_vs_raw("https://bench.test", lambda: httpx.MockTransport(handler), n=500, rounds=21)
    return Row("(a) client vs raw httpx, in memory", s, a, "<= 1.20x", max(rs, ra) <= 1.2)


def bench_b(calls: int) -> Row:
    config = SandboxConfig(burst_limit=10**9, daily_limit=10**9)
    # Many short paired rounds: the sandbox shares two cores with the client and whatever else runs,
    # so its time per send varies from one second to the next.
    rounds = 100
    with sandbox_process(config) as sandbox:
        s, a, rs, ra = _client_vs_raw(sandbox.base_url, None, n=max(1, calls // rounds), rounds=rounds)
    return Row(f"(b) client vs raw httpx, loopback sandbox ({calls} calls each)", s, a, "<= 1.05x", max(rs, ra) <= 1.05)


def bench_c() -> Row:
    content = example_answer()
    mine, base, ratio = side_by_side(
        timed(lambda: SendInvoiceResponse.from_dict(json.loads(content)), 2000),
        timed(lambda: json.loads(content), 2000),
        31,
    )
    text = f"{ratio:.2f}x ({mine * 1e6:.1f} vs {base * 1e6:.1f} us)"
    return Row("(c) parse full model vs json.loads", text, "(same code)", "<= 2.50x", ratio <= 2.5)
