"""Every fault of the loopback sandbox gives its documented error, and the outbox proves that no
send is ever delivered twice: exactly one delivery per successful send, none per failed one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from leadway_invoices_client import (
    AuthenticatedClient,
    AuthenticationError,
    BadRequestError,
    LeadwayError,
    NotFoundError,
    OutcomeUnknownError,
    Pacer,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnprocessableEntityError,
)
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import SendAction, SendInvoiceRequest, SendInvoiceResponse
from leadway_invoices_client.models.alt_type import AltType
from starlette.applications import Starlette

from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    FAULT_HEADER,
    LOCATION_TOKEN,
    OTHER_LOCATION_DRAFT_ID,
    SEED_LOCATIONS,
    SEED_USER_ID,
    VOID_INVOICE_ID,
    Sandbox,
    SandboxConfig,
    create_app,
    serve_in_thread,
)

from .conftest import Send

FAST_RETRY = RetryPolicy(attempts=3, max_wait=0.05, backoff=0.01)


def sms_body(alt_id: str = SEED_LOCATIONS[0], **overrides: Any) -> SendInvoiceRequest:
    # SMS: one recipient, so one successful send is exactly one delivery in the outbox.
    fields: dict[str, Any] = {
        "alt_id": alt_id,
        "alt_type": AltType.LOCATION,
        "user_id": SEED_USER_ID,
        "action": SendAction.SMS,
        "live_mode": False,
    }
    return SendInvoiceRequest(**{**fields, **overrides})


class Bench:
    def __init__(self, app: Starlette, base_url: str) -> None:
        self.app, self.base_url = app, base_url

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    def deliveries(self, invoice_id: str = DRAFT_INVOICE_ID) -> int:
        return sum(1 for d in self.sandbox.outbox if d.invoice_id == invoice_id)

    def client(self, fault: str | None = None, token: str = DEFAULT_TOKEN, **kwargs: Any) -> AuthenticatedClient:
        kwargs.setdefault("retry", FAST_RETRY)
        headers = {FAULT_HEADER: fault} if fault else {}
        if "token_provider" in kwargs:
            return AuthenticatedClient(self.base_url, headers=headers, **kwargs)
        return AuthenticatedClient(self.base_url, token, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def served() -> Iterator[Bench]:
    app = create_app()
    with serve_in_thread(app) as base_url:
        yield Bench(app, base_url)


@pytest.fixture
def bench(served: Bench) -> Bench:
    served.sandbox.reset()
    return served


def test_a_send_is_one_delivery(bench: Bench, send: Send) -> None:
    result = send(bench.client(), DRAFT_INVOICE_ID, body=sms_body())

    assert isinstance(result, SendInvoiceResponse)
    assert result.invoice.id == DRAFT_INVOICE_ID
    assert bench.deliveries() == 1


def test_a_connection_dropped_after_sending_is_outcome_unknown_and_never_resent(bench: Bench, send: Send) -> None:
    with pytest.raises(OutcomeUnknownError) as caught:
        send(bench.client("drop-after-send"), DRAFT_INVOICE_ID, body=sms_body())

    assert DRAFT_INVOICE_ID in str(caught.value)
    # The sandbox did send it: exactly once, since the client never tried again.
    assert bench.deliveries() == 1


def test_a_read_timeout_is_outcome_unknown_and_never_resent(bench: Bench, send: Send) -> None:
    with pytest.raises(OutcomeUnknownError, match="ReadTimeout"):
        send(bench.client("slow:0.5", timeout=httpx.Timeout(5.0, read=0.1)), DRAFT_INVOICE_ID, body=sms_body())

    deadline = time.monotonic() + 3
    while bench.deliveries() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert bench.deliveries() == 1


def test_an_html_500_is_a_server_error_with_the_page_kept(bench: Bench, send: Send) -> None:
    with pytest.raises(ServerError) as caught:
        send(bench.client("html-500"), DRAFT_INVOICE_ID, body=sms_body())

    assert caught.value.body is None
    assert caught.value.content is not None
    assert b"<html>" in caught.value.content
    assert bench.deliveries() == 0


def test_a_503_is_a_server_error_and_not_retried(bench: Bench, send: Send) -> None:
    with pytest.raises(ServerError) as caught:
        send(bench.client("503"), DRAFT_INVOICE_ID, body=sms_body())

    assert caught.value.status_code == 503
    assert caught.value.message == "Service Unavailable"
    assert caught.value.rate_limit is not None
    assert caught.value.rate_limit.max == 100
    assert bench.deliveries() == 0


def test_a_429_storm_is_retried_within_bounds_then_raised(bench: Bench, send: Send) -> None:
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        send(bench.client("rate-limit"), DRAFT_INVOICE_ID, body=sms_body())

    assert time.monotonic() - started < 2
    assert caught.value.rate_limit is not None
    assert caught.value.rate_limit.retry_after is not None
    assert bench.deliveries() == 0


@pytest.mark.parametrize(
    ("invoice_id", "token", "overrides", "error"),
    [
        (VOID_INVOICE_ID, DEFAULT_TOKEN, {"alt_id": SEED_LOCATIONS[1]}, BadRequestError),
        (DRAFT_INVOICE_ID, "wrong-token", {}, AuthenticationError),
        (OTHER_LOCATION_DRAFT_ID, LOCATION_TOKEN, {"alt_id": SEED_LOCATIONS[1]}, PermissionDeniedError),
        ("0123456789abcdef01234567", DEFAULT_TOKEN, {}, NotFoundError),
        ("not-hex", DEFAULT_TOKEN, {}, UnprocessableEntityError),
    ],
    ids=["400", "401", "403", "404", "422"],
)
def test_refusals_raise_their_class_and_deliver_nothing(
    bench: Bench, send: Send, invoice_id: str, token: str, overrides: dict[str, Any], error: type[LeadwayError]
) -> None:
    with pytest.raises(error) as caught:
        send(bench.client(token=token), invoice_id, body=sms_body(**overrides))

    assert caught.value.status_code is not None
    assert "sandbox-agency-token" not in str(caught.value)
    assert bench.sandbox.outbox == ()


def test_a_refreshed_token_after_a_401_sends_once(bench: Bench, send: Send) -> None:
    tokens = iter(["expired-token", DEFAULT_TOKEN])
    client = bench.client(token_provider=lambda refresh: next(tokens))
    send(client, DRAFT_INVOICE_ID, body=sms_body())

    assert bench.deliveries() == 1


async def test_a_429_storm_of_concurrent_sends_delivers_each_success_exactly_once() -> None:
    app = create_app(SandboxConfig(burst_limit=10, burst_interval_ms=200))
    with serve_in_thread(app) as base_url:
        client = AuthenticatedClient(base_url, DEFAULT_TOKEN, retry=RetryPolicy(attempts=4, max_wait=0.25))
        results = await asyncio.gather(
            *(send_invoice.asyncio(DRAFT_INVOICE_ID, client=client, body=sms_body()) for _ in range(40)),
            return_exceptions=True,
        )
        await client.get_async_httpx_client().aclose()
    sandbox: Sandbox = app.state.sandbox

    successes = sum(isinstance(r, SendInvoiceResponse) for r in results)
    assert all(isinstance(r, SendInvoiceResponse | RateLimitError) for r in results)
    assert successes >= 20
    assert len(sandbox.outbox) == successes


def test_a_paced_bulk_run_meets_no_429_and_delivers_each_send_once(mode: str) -> None:
    # Upstream's burst (100) with a shortened interval: 2 s, not 1 s, because a send costs the
    # sandbox ~10 ms, and 100 of them must fit well inside one interval for the budget, not the
    # network, to set the pace.
    burst, interval, sends = 100, 2.0, 250
    app = create_app(SandboxConfig(burst_limit=burst, burst_interval_ms=int(interval * 1000)))
    remaining: list[str | None] = []

    def record(response: httpx.Response) -> None:
        remaining.append(response.headers.get("X-RateLimit-Remaining"))

    async def arecord(response: httpx.Response) -> None:
        record(response)

    hooks = {"response": [record if mode == "sync" else arecord]}
    with serve_in_thread(app) as base_url:
        # Retries off: any 429 would surface as RateLimitError and fail the test.
        client = AuthenticatedClient(
            base_url, DEFAULT_TOKEN, retry=None, pacer=Pacer(), httpx_args={"event_hooks": hooks}
        )
        if mode == "sync":
            for _ in range(sends):
                send_invoice.sync(DRAFT_INVOICE_ID, client=client, body=sms_body())
        else:

            async def run() -> None:
                for _ in range(sends):
                    await send_invoice.asyncio(DRAFT_INVOICE_ID, client=client, body=sms_body())
                await client.get_async_httpx_client().aclose()

            asyncio.run(run())
    sandbox: Sandbox = app.state.sandbox
    assert len(sandbox.outbox) == sends
    assert len(remaining) == sends
    # No assertion on how often the budget ran out: on a busy machine 100 sends may take longer than
    # one interval, and then the pacer rightly never waits. That it waits when it must is proven
    # against short windows in test_pacing.py and test_pacing_concurrency.py.
