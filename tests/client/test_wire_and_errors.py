"""Issue 10 §2, §3, §5: nothing untyped escapes after a send, errors pickle and copy, careless
options and ids get a clear error. Hypothesis draws hostile header values, error bodies, ids and
options. Every test here fails on the code before the fix (bca5469^) for the defect it names."""

from __future__ import annotations

import contextlib
import copy
import enum
import json
import math
import pickle
import time
from concurrent.futures import ProcessPoolExecutor

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leadway_invoices_client import (
    APIStatusError,
    ContractViolationError,
    LeadwayError,
    OutcomeUnknownError,
    Pacer,
    RateLimitError,
    RetryPolicy,
    ServerError,
    TokenError,
    TransportError,
)
from leadway_invoices_client.api.invoices import send_invoice

from .conftest import INVOICE_ID, SUCCESS_BODY, Server, json_response, request_body

RATE_NAMES = [
    "X-RateLimit-Remaining",
    "X-RateLimit-Max",
    "X-RateLimit-Interval-Milliseconds",
    "X-RateLimit-Limit-Daily",
    "X-RateLimit-Daily-Remaining",
    "Retry-After",
]
HOSTILE_VALUES = ["²", "9" * 5000, "99999999999999", "1e400", "nan", "inf", "-5", "٣", "0x10", "", " 7 "]
QUICK = RetryPolicy(attempts=2, max_wait=0.01, backoff=0.001)


def raw_response(status: int, body: object, headers: dict[str, str]) -> httpx.Response:
    """An answer with header values sent as UTF-8 bytes, as a hostile server may."""
    raw = [(b"Content-Type", b"application/json")] + [(n.encode(), v.encode()) for n, v in headers.items()]
    return httpx.Response(status, content=json.dumps(body).encode(), headers=raw)


def _header_values() -> st.SearchStrategy[str]:
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
    digits = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=8)
    return st.one_of(st.sampled_from(HOSTILE_VALUES), printable, digits.filter(str.isprintable))


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("status", [200, 429, 500])
def test_hostile_rate_limit_headers_give_a_result_or_a_typed_error_quickly(value: str, status: int) -> None:
    # Old code: '²' and 5000 digits passed str.isdigit() and raised a bare ValueError from the pacer
    # and the retry wait after the send; a huge interval blocked the pacer or raised OverflowError.
    body = SUCCESS_BODY if status == 200 else {"statusCode": status, "message": "x"}
    headers = dict.fromkeys(RATE_NAMES, value)
    headers["X-RateLimit-Remaining"] = "0"
    server = Server(raw_response(status, body, headers))
    client = server.client(retry=QUICK, pacer=Pacer(max_wait=0.05))
    started = time.monotonic()
    for _ in range(3):
        with contextlib.suppress(LeadwayError):
            send_invoice.sync(INVOICE_ID, client=client, body=request_body())
    assert time.monotonic() - started < 5


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(headers=st.dictionaries(st.sampled_from(RATE_NAMES), _header_values()), status=st.sampled_from([200, 429, 503]))
def test_any_rate_limit_headers_never_raise_untyped(headers: dict[str, str], status: int) -> None:
    body = SUCCESS_BODY if status == 200 else {"statusCode": status, "message": "x"}
    server = Server(raw_response(status, body, headers))
    error = None
    try:
        send_invoice.sync(
            INVOICE_ID, client=server.client(retry=QUICK, pacer=Pacer(max_wait=0.01)), body=request_body()
        )
    except LeadwayError as exc:
        error = exc
    if error is not None:
        rate = error.rate_limit
        assert rate is not None
        for number in (rate.remaining, rate.max, rate.interval_ms, rate.limit_daily, rate.daily_remaining):
            assert number is None or 0 <= number < 10**12
        assert rate.retry_after is None or 0 <= rate.retry_after <= 86_400


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(message=JSON, status=st.sampled_from([400, 404, 422, 500, 503, 418]))
def test_any_error_body_gives_the_status_error(message: object, status: int) -> None:
    # Old code: a `message` list holding non-strings raised TypeError (for a 5xx the caller lost the
    # very error that says "do not resend").
    server = Server(json_response(status, {"statusCode": status, "message": message}))
    with pytest.raises(APIStatusError) as caught:
        send_invoice.sync(INVOICE_ID, client=server.client(retry=None), body=request_body())
    assert caught.value.status_code == status
    assert caught.value.message is None or isinstance(caught.value.message, str | list)
    assert len(str(caught.value)) < 400


def test_a_message_list_of_non_strings_keeps_the_server_error() -> None:
    server = Server(json_response(500, {"statusCode": 500, "message": ["a", 1, None, {"x": 1}]}))
    with pytest.raises(ServerError) as caught:
        send_invoice.sync(INVOICE_ID, client=server.client(retry=None), body=request_body())
    assert caught.value.message == ["a", "<int>", "<NoneType>", "<dict>"]


def _errors() -> list[LeadwayError]:
    request = httpx.Request("POST", "https://api.test/invoices/x/send", headers={"Version": "2021-07-28"})

    def answer(status: int, body: object) -> httpx.Response:
        return httpx.Response(status, json=body, request=request, headers={"X-RateLimit-Remaining": "3"})

    errors: list[LeadwayError] = []
    for status in (400, 401, 403, 404, 422, 429, 500, 503, 418, 302):
        server = Server(answer(status, {"statusCode": status, "message": ["a", "b"]}))
        try:
            send_invoice.sync(INVOICE_ID, client=server.client(retry=None), body=request_body())
        except LeadwayError as exc:
            errors.append(exc)
    errors.append(ContractViolationError(answer(200, []), "not an object", method="POST", invoice_id="x"))
    errors.append(TransportError("request not sent (ConnectError)", invoice_id="x"))
    errors.append(OutcomeUnknownError("outcome unknown (ReadTimeout)", invoice_id="x"))
    errors.append(TokenError("request not sent: the token must not be empty", method="POST"))
    return errors


def _same(a: LeadwayError, b: LeadwayError) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b)
    assert a.args == b.args
    assert (a.status_code, a.method, a.invoice_id, a.safe_to_retry) == (
        b.status_code,
        b.method,
        b.invoice_id,
        b.safe_to_retry,
    )
    assert a.content == b.content
    assert a.rate_limit == b.rate_limit
    if isinstance(a, APIStatusError):
        assert isinstance(b, APIStatusError)
        assert a.message == b.message


@pytest.mark.parametrize("error", _errors(), ids=lambda e: type(e).__name__ + str(e.status_code or ""))
def test_every_error_pickles_and_copies_with_its_attributes(error: LeadwayError) -> None:
    # Old code: copy.copy raised TypeError and unpickling failed (keyword-only __init__ arguments).
    _same(error, copy.copy(error))
    _same(error, copy.deepcopy(error))
    _same(error, pickle.loads(pickle.dumps(error)))


def _worker(n: int) -> int:
    if n == 0:
        server = Server(json_response(500, {"statusCode": 500, "message": "boom"}))
        send_invoice.sync(INVOICE_ID, client=server.client(retry=None), body=request_body())
    return n


def test_a_server_error_raised_in_a_process_pool_reaches_the_caller_and_spares_the_pool() -> None:
    # Old code: BrokenProcessPool, and the unrelated task's outcome was lost with it.
    with ProcessPoolExecutor(max_workers=1) as pool:
        failing, fine = pool.submit(_worker, 0), pool.submit(_worker, 1)
        with pytest.raises(ServerError, match="500"):
            failing.result(timeout=60)
        assert fine.result(timeout=60) == 1


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1.0, "1", True])
@pytest.mark.parametrize("name", ["max_wait", "backoff"])
def test_retry_policy_rejects_non_finite_and_negative_numbers(name: str, value: object) -> None:
    # Old code: max_wait=nan silently removed the cap; inf was accepted.
    with pytest.raises(ValueError, match=name):
        RetryPolicy(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, "1"])
@pytest.mark.parametrize("name", ["margin", "max_wait"])
def test_pacer_rejects_non_finite_and_negative_numbers(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        Pacer(**{name: value})  # type: ignore[arg-type]


def test_an_absurd_interval_is_a_capped_wait() -> None:
    # Old code: X-RateLimit-Interval-Milliseconds of a day made the next send wait a day.
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Max": "1", "X-RateLimit-Interval-Milliseconds": "86400000"}
    server = Server(json_response(200, SUCCESS_BODY, headers))
    client = server.client(pacer=Pacer(max_wait=0.2))
    started = time.monotonic()
    for _ in range(3):
        send_invoice.sync(INVOICE_ID, client=client, body=request_body())
    assert server.sends == 3
    assert time.monotonic() - started < 5


class _Tricky(str):
    def __str__(self) -> str:
        return "../../other"

    def __format__(self, spec: str) -> str:
        return "../../other"


class _Ids(str, enum.Enum):  # noqa: UP042 - the mix whose str() is not its value
    A = INVOICE_ID


@pytest.mark.parametrize("invoice_id", [_Tricky(INVOICE_ID), _Ids.A], ids=["str-subclass", "str-enum"])
def test_an_id_of_a_str_subclass_is_checked_and_sent_as_the_same_plain_string(invoice_id: str) -> None:
    # Old code: the check saw the str value, the URL got str()/format() of the object.
    server = Server(json_response(404, {"statusCode": 404, "message": "no such invoice"}))
    with pytest.raises(APIStatusError) as caught:
        send_invoice.sync(invoice_id, client=server.client(), body=request_body())
    assert server.requests[0].url.path == f"/invoices/{INVOICE_ID}/send"
    assert type(caught.value.invoice_id) is str
    assert str(caught.value).startswith(f"POST invoice {INVOICE_ID}: 404")


@settings(max_examples=200, deadline=None)
@given(invoice_id=st.text(max_size=140))
def test_any_id_is_refused_before_io_or_sent_as_one_path_segment(invoice_id: str) -> None:
    server = Server()
    try:
        send_invoice.sync(invoice_id, client=server.client(), body=request_body())
    except ValueError:
        assert server.sends == 0
        return
    assert server.requests[0].url.raw_path.decode() == f"/invoices/{invoice_id}/send"


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
