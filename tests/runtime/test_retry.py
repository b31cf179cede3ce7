"""`_runtime/retry.py`: retries resend only what provably did not run. A send after a 429 and connect
failures, never after sending; a read also after a read timeout, a dropped connection and 502/503/504;
every wait capped."""

from __future__ import annotations

import email.utils
import math
import time

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import (
    DEFAULT_RETRY,
    OutcomeUnknownError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import SendInvoiceResponse

from tests.mock_api import (
    INVOICE_ID,
    READ_BODY,
    SUCCESS_BODY,
    Read,
    Send,
    Server,
    error_body,
    json_response,
    request_body,
)

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


# --- Per method (issue 11 §2) ---------------------------------------------------------------------
# A send (POST) is retried only after a 429 or a failure that provably sent nothing; a read (GET)
# also after a read timeout, a dropped connection and 502/503/504, bounded by attempts and max_wait.
# The GET tests fail on the old code (one policy for every method: 429 and connect failures).

POLICY = RetryPolicy(attempts=3, max_wait=0.01, backoff=0.001)
MAYBE_SENT = [
    httpx.ReadTimeout("read timed out"),
    httpx.RemoteProtocolError("peer closed connection"),
    httpx.ReadError("connection reset"),
]
NOT_SENT = [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.UnsupportedProtocol("ftp?")]


def _call(server: Server, method: str) -> httpx.Response:
    return server.client(retry=POLICY).get_httpx_client().request(method, "/invoices/x")


@pytest.mark.parametrize("failure", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_a_get_is_retried_after_a_failure_that_may_have_reached_the_server(failure: Exception) -> None:
    server = Server(failure, json_response(200, {}))
    assert _call(server, "GET").status_code == 200
    assert server.sends == 2


@pytest.mark.parametrize("failure", MAYBE_SENT, ids=lambda e: type(e).__name__)
def test_a_post_is_never_retried_after_a_failure_that_may_have_reached_the_server(failure: Exception) -> None:
    server = Server(failure, json_response(200, {}))
    with pytest.raises(type(failure)):
        _call(server, "POST")
    assert server.sends == 1


@pytest.mark.parametrize("failure", NOT_SENT, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_failures_that_sent_nothing_are_retried_for_every_method(failure: Exception, method: str) -> None:
    server = Server(failure, json_response(200, {}))
    assert _call(server, method).status_code == 200
    assert server.sends == 2


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_get_is_retried_after_a_gateway_error_within_the_attempts(status: int) -> None:
    server = Server(json_response(status, {}))
    assert _call(server, "GET").status_code == status
    assert server.sends == POLICY.attempts


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_is_never_retried_after_a_5xx(status: int) -> None:
    server = Server(json_response(status, {}))
    assert _call(server, "POST").status_code == status
    assert server.sends == 1


def test_a_get_retry_waits_are_capped() -> None:
    server = Server(json_response(503, {}, {"Retry-After": "86400"}))
    started = time.monotonic()
    _call(server, "GET")
    assert server.sends == POLICY.attempts
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_read_is_retried_after_a_gateway_error(read: Read, status: int) -> None:
    server = Server(error_body(status), json_response(200, READ_BODY))

    assert read(server.client()).id == INVOICE_ID
    assert server.sends == 2


def test_a_read_is_retried_after_a_timeout_and_a_dropped_connection(read: Read) -> None:
    server = Server(httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), json_response(200, READ_BODY))

    assert read(server.client()).id == INVOICE_ID
    assert server.sends == 3


def test_retries_are_bounded_then_typed(read: Read) -> None:
    timeouts = Server(httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknownError, match="nothing was changed by this read"):
        read(timeouts.client())
    assert timeouts.sends == 3
    unavailable = Server(error_body(503))
    with pytest.raises(ServerError):
        read(unavailable.client())
    assert unavailable.sends == 3
    limited = Server(error_body(429))
    with pytest.raises(RateLimitError):
        read(limited.client())
    assert limited.sends == 3


# --- Careless options and hostile headers (issue 10 §3, §5) ---------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0, "1", True])
@pytest.mark.parametrize("name", ["max_wait", "backoff"])
def test_retry_policy_rejects_non_finite_and_negative_numbers(name: str, value: object) -> None:
    # Old code: max_wait=nan silently removed the cap; inf was accepted.
    with pytest.raises(ValueError, match=name):
        RetryPolicy(**{name: value})  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(
    attempts=st.one_of(st.integers(-3, 200), st.floats(allow_nan=True), st.none()),
    max_wait=st.one_of(st.floats(allow_nan=True), st.integers(-3, 10**6)),
    backoff=st.one_of(st.floats(allow_nan=True), st.integers(-3, 100)),
)
def test_any_retry_options_are_accepted_as_finite_or_refused_clearly(
    attempts: object, max_wait: object, backoff: object
) -> None:
    try:
        policy = RetryPolicy(attempts=attempts, max_wait=max_wait, backoff=backoff)  # type: ignore[arg-type]
    except ValueError as exc:
        message = str(exc)
    else:
        assert 1 <= policy.attempts <= 100
        assert 0 < policy.max_wait < math.inf
        assert 0 <= policy.backoff < math.inf
        return
    assert any(name in message for name in ("attempts", "max_wait", "backoff"))


def test_a_429_wait_is_capped_whatever_the_headers_say() -> None:
    headers = {"Retry-After": "1e308", "X-RateLimit-Interval-Milliseconds": "9" * 40}
    server = Server(json_response(429, {"statusCode": 429, "message": "slow down"}, headers))
    started = time.monotonic()
    with pytest.raises(RateLimitError):
        send_invoice.sync(
            INVOICE_ID, client=server.client(retry=RetryPolicy(attempts=2, max_wait=0.05)), body=request_body()
        )
    assert time.monotonic() - started < 5
