"""Issue 10 §4: one Pacer shared by threads, asyncio tasks and several clients meets no 429 against
the sandbox with a short burst window. The old pacer met 429s here (a late answer raised the budget
again; the refill time ignored requests in flight).

Load-robust by construction: retries are off, so a single 429 fails the test; nothing asserts speed.
The windows are short (0.2 s) and the sends few, so a run takes a few seconds, about 10 when busy.
The exact races the old pacer lost are replayed deterministically in test_pacing.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from leadway_invoices_client import AuthenticatedClient, Pacer, RateLimitError
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import SendAction, SendInvoiceRequest
from leadway_invoices_client.models.alt_type import AltType
from starlette.applications import Starlette

from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    SEED_LOCATIONS,
    SEED_USER_ID,
    Sandbox,
    SandboxConfig,
    create_app,
    serve_in_thread,
)

BURST, INTERVAL_MS = 6, 200


def _body() -> SendInvoiceRequest:
    return SendInvoiceRequest(
        alt_id=SEED_LOCATIONS[0],
        alt_type=AltType.LOCATION,
        user_id=SEED_USER_ID,
        action=SendAction.SMS,
        live_mode=False,
    )


@pytest.fixture
def sandbox_url(request: pytest.FixtureRequest) -> Iterator[tuple[Starlette, str]]:
    burst = getattr(request, "param", BURST)
    app = create_app(SandboxConfig(burst_limit=burst, burst_interval_ms=INTERVAL_MS))
    with serve_in_thread(app) as base_url:
        yield app, base_url


def _client(base_url: str, pacer: Pacer) -> AuthenticatedClient:
    # Retries off: any 429 surfaces as RateLimitError and fails the test.
    return AuthenticatedClient(base_url, DEFAULT_TOKEN, retry=None, pacer=pacer)


def _run_threads(clients: list[AuthenticatedClient], threads: int, sends_each: int) -> list[BaseException]:
    failures: list[BaseException] = []

    def work(client: AuthenticatedClient) -> None:
        for _ in range(sends_each):
            try:
                send_invoice.sync(DRAFT_INVOICE_ID, client=client, body=_body())
            except BaseException as exc:  # collected and asserted on below
                failures.append(exc)

    workers = [threading.Thread(target=work, args=(clients[i % len(clients)],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return failures


def test_eight_threads_sharing_one_pacer_meet_no_429(sandbox_url: tuple[Starlette, str]) -> None:
    app, base_url = sandbox_url
    failures = _run_threads([_client(base_url, Pacer())], threads=8, sends_each=3)
    assert [type(f).__name__ for f in failures] == []
    sandbox: Sandbox = app.state.sandbox
    assert len(sandbox.outbox) == 24


def test_several_clients_sharing_one_pacer_meet_no_429(sandbox_url: tuple[Starlette, str]) -> None:
    app, base_url = sandbox_url
    pacer = Pacer()
    failures = _run_threads([_client(base_url, pacer) for _ in range(3)], threads=6, sends_each=4)
    assert [type(f).__name__ for f in failures] == []
    sandbox: Sandbox = app.state.sandbox
    assert len(sandbox.outbox) == 24


@pytest.mark.parametrize("sandbox_url", [25], indirect=True)
def test_a_hundred_tasks_sharing_one_pacer_meet_no_429(sandbox_url: tuple[Starlette, str]) -> None:
    app, base_url = sandbox_url
    client = _client(base_url, Pacer())

    async def run() -> list[BaseException | object]:
        async with client:
            calls = (send_invoice.asyncio(DRAFT_INVOICE_ID, client=client, body=_body()) for _ in range(100))
            return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(run())
    refused = [r for r in results if isinstance(r, RateLimitError)]
    assert refused == []
    assert [type(r).__name__ for r in results if isinstance(r, BaseException)] == []
    sandbox: Sandbox = app.state.sandbox
    assert len(sandbox.outbox) == 100
