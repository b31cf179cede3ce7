"""Retries resend only what provably did not run: 429 and connect failures, never after sending."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from leadway_invoices_client import (
    DEFAULT_RETRY,
    OutcomeUnknownError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from leadway_invoices_client.models import SendInvoiceResponse

from .conftest import INVOICE_ID, SUCCESS_BODY, Send, Server, json_response

OK = json_response(200, SUCCESS_BODY)
TOO_MANY = json_response(429, {"statusCode": 429, "message": "Too Many Requests"})


def test_defaults_are_bounded() -> None:
    assert RetryPolicy(attempts=3, max_wait=30.0, backoff=0.5) == DEFAULT_RETRY


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow connect")])
def test_connect_failures_are_retried_then_succeed(send: Send, failure: Exception) -> None:
    server = Server(failure, failure, OK)
    assert isinstance(send(server.client()), SendInvoiceResponse)
    assert server.sends == 3


def test_connect_failures_past_the_attempts_raise_transport_error(send: Send) -> None:
    server = Server(httpx.ConnectError("refused"))
    with pytest.raises(TransportError) as caught:
        send(server.client())

    assert caught.value.safe_to_retry
    assert caught.value.invoice_id == INVOICE_ID
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert server.sends == 3


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("connection reset"),
        httpx.WriteError("broken pipe"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_failures_after_sending_are_never_retried(send: Send, failure: Exception) -> None:
    server = Server(failure, OK)
    with pytest.raises(OutcomeUnknownError) as caught:
        send(server.client())

    assert server.sends == 1
    assert not caught.value.safe_to_retry
    assert INVOICE_ID in str(caught.value)
    assert caught.value.status_code is None
    assert caught.value.response is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 520])
def test_server_errors_are_never_retried(send: Send, status: int) -> None:
    server = Server(json_response(status, {"message": "boom"}), OK)
    with pytest.raises(ServerError):
        send(server.client())
    assert server.sends == 1


def test_a_429_is_retried_and_the_send_happens_once(send: Send) -> None:
    server = Server(TOO_MANY, TOO_MANY, OK)
    assert isinstance(send(server.client()), SendInvoiceResponse)
    assert server.sends == 3


def test_retry_off_sends_once(send: Send) -> None:
    for policy in (None, RetryPolicy.off()):
        server = Server(httpx.ConnectError("refused"))
        with pytest.raises(TransportError):
            send(server.client(retry=policy))
        assert server.sends == 1


def test_attempts_are_configurable(send: Send) -> None:
    server = Server(TOO_MANY)
    with pytest.raises(RateLimitError):
        send(server.client(retry=RetryPolicy(attempts=5, max_wait=0.001)))
    assert server.sends == 5


def test_waits_are_capped_by_max_wait(send: Send) -> None:
    server = Server(json_response(429, {}, {"Retry-After": "3600"}), OK)
    started = time.monotonic()
    send(server.client(retry=RetryPolicy(attempts=2, max_wait=0.05)))
    assert time.monotonic() - started < 2
    assert server.sends == 2


def _wait(policy: RetryPolicy, headers: dict[str, str]) -> float:
    retry = policy.to_retry().increment()
    return retry.wait_for(httpx.Response(429, headers=headers))  # type: ignore[attr-defined, no-any-return]


def test_a_429_waits_for_retry_after_with_upward_jitter() -> None:
    waits = [_wait(RetryPolicy(), {"Retry-After": "2"}) for _ in range(50)]
    assert all(2.0 <= w <= 2.2 for w in waits)
    assert len(set(waits)) > 1


def test_retry_after_may_be_an_http_date() -> None:
    date = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.5 <= _wait(RetryPolicy(), {"Retry-After": date}) <= 5.6


def test_without_retry_after_a_429_waits_for_the_rate_limit_interval() -> None:
    wait = _wait(RetryPolicy(), {"X-RateLimit-Interval-Milliseconds": "1500"})
    assert 1.5 <= wait <= 1.65


def test_a_429_without_hints_backs_off_and_every_wait_is_capped() -> None:
    assert 0 <= _wait(RetryPolicy(backoff=0.5), {}) <= 1.0
    assert _wait(RetryPolicy(max_wait=3), {"Retry-After": "3600"}) == 3
    assert _wait(RetryPolicy(max_wait=3), {"X-RateLimit-Interval-Milliseconds": "86400000"}) == 3


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"max_wait": 0}, {"backoff": -1}])
def test_invalid_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
