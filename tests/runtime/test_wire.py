"""`_runtime/wire.py`: every fact read off the wire (rate-limit headers, Retry-After, an error's
message) is parsed without raising, and capped: a hostile header or body reads as absent, never as
an untyped error after the customer may have been emailed.

The tests through a send guard issue 10 §2: each fails on the code before the fix (bca5469^).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leadway_invoices_client import LeadwayError, Pacer, RetryPolicy, ServerError
from leadway_invoices_client._runtime import wire
from leadway_invoices_client.api.invoices import send_invoice

from tests.mock_api import INVOICE_ID, SUCCESS_BODY, Server, json_response, request_body

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


def test_a_message_list_of_non_strings_keeps_the_server_error() -> None:
    server = Server(json_response(500, {"statusCode": 500, "message": ["a", 1, None, {"x": 1}]}))
    with pytest.raises(ServerError) as caught:
        send_invoice.sync(INVOICE_ID, client=server.client(retry=None), body=request_body())
    assert caught.value.message == ["a", "<int>", "<NoneType>", "<dict>"]


# --- The parsers themselves -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("42", 42), (" 7 ", 7), ("9" * 12, 10**12 - 1), (None, None), ("", None), ("9" * 13, None)]
    + [(hostile, None) for hostile in ("²", "٣", "-5", "+5", "1e3", "0x10", "1.5", "nan")],
)
def test_a_count_is_plain_ascii_digits_or_absent(value: str | None, expected: int | None) -> None:
    assert wire.count(value) == expected


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.none(), st.text(max_size=20)))
def test_no_header_value_makes_a_parser_raise(value: str | None) -> None:
    number = wire.count(value)
    assert number is None or 0 <= number < 10**wire.MAX_DIGITS
    interval = wire.interval_seconds(value)
    assert interval is None or 0 < interval <= wire.MAX_INTERVAL
    wait = wire.retry_after(value)
    assert wait is None or 0 <= wait <= wire.MAX_RETRY_AFTER


def test_an_interval_is_read_in_seconds_capped_and_zero_is_absent() -> None:
    assert wire.interval_seconds("1500") == 1.5
    assert wire.interval_seconds("0") is None
    assert wire.interval_seconds("86400000") == wire.MAX_INTERVAL


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2", 2.0), ("0.25", 0.25), ("-3", 0.0), ("1e308", wire.MAX_RETRY_AFTER), ("nan", None), ("soon", None)],
)
def test_retry_after_in_seconds_is_never_negative_and_capped(value: str, expected: float | None) -> None:
    assert wire.retry_after(value) == expected


def test_retry_after_as_an_http_date_is_the_seconds_until_then() -> None:
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    wait = wire.retry_after(future)
    assert wait is not None
    assert 28 <= wait <= 31
    assert wire.retry_after(past) == 0.0
    assert wire.retry_after("Mon, 99 Foo 2026 25:61:61 GMT") is None


def test_a_rate_limit_reads_each_header_and_leaves_the_unusable_absent() -> None:
    sent = {
        "X-RateLimit-Limit-Daily": "200000",
        "X-RateLimit-Daily-Remaining": "²",
        "X-RateLimit-Interval-Milliseconds": "10000",
        "X-RateLimit-Max": "100",
        "X-RateLimit-Remaining": "99",
        "Retry-After": "3",
    }
    headers = httpx.Headers([(name.encode(), value.encode()) for name, value in sent.items()])
    limit = wire.RateLimit.from_headers(headers)
    assert limit == wire.RateLimit(
        limit_daily=200_000, daily_remaining=None, interval_ms=10_000, max=100, remaining=99, retry_after=3.0
    )
    assert limit.interval == 10.0
    assert wire.RateLimit.from_headers(httpx.Headers()) == wire.RateLimit()
    assert wire.RateLimit().interval is None
    assert wire.RateLimit(interval_ms=10**11).interval == wire.MAX_INTERVAL


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"message": "Invoice not found"}, "Invoice not found"),
        ({"message": ["a", "b"]}, ["a", "b"]),
        ({"message": ["a", 1, None, {"x": 1}, [2]]}, ["a", "<int>", "<NoneType>", "<dict>", "<list>"]),
        ({"message": 5}, None),
        ({"error": "Not Found"}, None),
        (["message"], None),
        (None, None),
    ],
)
def test_an_error_message_is_a_string_a_list_of_strings_or_absent(data: object, expected: object) -> None:
    assert wire.error_message(data) == expected


def test_a_message_list_is_cut_at_its_cap() -> None:
    message = wire.error_message({"message": [str(n) for n in range(10 * wire.MAX_MESSAGE_ITEMS)]})
    assert message == [str(n) for n in range(wire.MAX_MESSAGE_ITEMS)]
