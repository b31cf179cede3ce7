"""The pacer waits before a location's burst budget runs out: a loop of sends meets no 429."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
from leadway_invoices_client import Pacer, RateLimitError, RetryPolicy
from leadway_invoices_client._runtime.pacing import Ticket
from leadway_invoices_client.api.invoices import send_invoice

from .conftest import INVOICE_ID, SUCCESS_BODY, Server, mock_client, request_body


class FixedWindowServer:
    """Counts requests per altId in fixed windows opened by the first request, like upstream."""

    def __init__(self, maximum: int, interval: float) -> None:
        self.maximum, self.interval = maximum, interval
        self.windows: dict[str, tuple[float, int]] = {}
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = json.loads(request.content)["altId"]
        now = time.monotonic()
        with self.lock:
            start, used = self.windows.get(key, (now, 0))
            if now - start >= self.interval:
                start, used = now, 0
            status = 429 if used >= self.maximum else 200
            used += status == 200
            self.windows[key] = (start, used)
            self.statuses.append(status)
        headers = {
            "X-RateLimit-Max": str(self.maximum),
            "X-RateLimit-Remaining": str(self.maximum - used),
            "X-RateLimit-Interval-Milliseconds": str(int(self.interval * 1000)),
        }
        body = SUCCESS_BODY if status == 200 else {"statusCode": 429, "message": "Too Many Requests"}
        return httpx.Response(status, json=body, headers=headers)


def test_a_paced_loop_meets_no_429_and_uses_the_budget() -> None:
    server = FixedWindowServer(maximum=5, interval=0.1)
    client = mock_client(server, retry=RetryPolicy.off(), pacer=Pacer())
    started = time.monotonic()
    for _ in range(30):
        send_invoice.sync(INVOICE_ID, client=client, body=request_body())
    elapsed = time.monotonic() - started

    assert server.statuses == [200] * 30
    # 30 sends at 5 per 0.1 s need 5 full windows after the first; a pacer that never waited would
    # take about 0. No upper bound: a busy machine may be slower, and speed belongs to scripts/bench.py.
    assert elapsed >= 0.5


def test_without_a_pacer_the_same_loop_hits_429() -> None:
    server = FixedWindowServer(maximum=5, interval=10)
    client = mock_client(server, retry=RetryPolicy.off())
    for _ in range(5):
        send_invoice.sync(INVOICE_ID, client=client, body=request_body())
    with pytest.raises(RateLimitError):
        send_invoice.sync(INVOICE_ID, client=client, body=request_body())


def test_locations_are_paced_separately() -> None:
    server = FixedWindowServer(maximum=3, interval=5)
    client = mock_client(server, retry=RetryPolicy.off(), pacer=Pacer())
    started = time.monotonic()
    for alt_id in ["loc-a", "loc-b"] * 3:
        send_invoice.sync(INVOICE_ID, client=client, body=request_body(alt_id))

    assert server.statuses == [200] * 6
    assert time.monotonic() - started < 1


async def test_concurrent_async_sends_meet_no_429() -> None:
    server = FixedWindowServer(maximum=5, interval=0.1)
    client = mock_client(server, retry=RetryPolicy.off(), pacer=Pacer())
    await asyncio.gather(*(send_invoice.asyncio(INVOICE_ID, client=client, body=request_body()) for _ in range(20)))
    assert server.statuses == [200] * 20


def test_a_pacer_ignores_answers_without_rate_limit_headers() -> None:
    server = Server()
    client = server.client(pacer=Pacer())
    for _ in range(3):
        send_invoice.sync(INVOICE_ID, client=client, body=request_body())
    assert server.sends == 3


def _answer(remaining: int, maximum: int = 5, interval_ms: int = 60_000, status: int = 200) -> httpx.Response:
    headers = {
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Max": str(maximum),
        "X-RateLimit-Interval-Milliseconds": str(interval_ms),
    }
    return httpx.Response(status, headers=headers)


def _go(pacer: Pacer) -> Ticket:
    ticket = pacer.acquire("loc")
    assert isinstance(ticket, Ticket), f"expected to go now, told to wait {ticket}"
    return ticket


def test_a_late_answer_never_raises_the_budget_again() -> None:
    # Issue 10 §4, the stale answer: with budget for 5, four go at once; the answers arrive out of
    # order, the oldest (remaining 4) last. The old pacer set remaining from whichever came last.
    pacer = Pacer()
    probe = _go(pacer)
    pacer.release("loc", probe, _answer(4))
    tickets = [_go(pacer) for _ in range(4)]
    assert not isinstance(pacer.acquire("loc"), Ticket)
    for ticket, remaining in zip(tickets, [0, 1, 2, 3], strict=True):
        pacer.release("loc", ticket, _answer(remaining))
    assert not isinstance(pacer.acquire("loc"), Ticket)


def test_a_spent_budget_waits_for_the_requests_in_flight() -> None:
    # Issue 10 §4, the refill time: the answers of requests still in flight belong to the window
    # being waited out, so the wait cannot be computed before they arrive.
    pacer = Pacer()
    probe = _go(pacer)
    pacer.release("loc", probe, _answer(1, interval_ms=1))
    in_flight = _go(pacer)
    time.sleep(0.01)
    assert not isinstance(pacer.acquire("loc"), Ticket)  # the interval passed, one answer is missing
    pacer.release("loc", in_flight, _answer(0, interval_ms=1))
    time.sleep(0.01)
    assert isinstance(pacer.acquire("loc"), Ticket)
