"""Every status gets a typed error carrying status, body, raw answer and rate-limit headers."""

from __future__ import annotations

import httpx
import pytest
from leadway_invoices_client import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContractViolationError,
    LeadwayError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnexpectedStatusError,
    UnprocessableEntityError,
)

from .conftest import FAST_RETRY, INVOICE_ID, Send, Server, json_response

RATE_HEADERS = {
    "X-RateLimit-Limit-Daily": "200000",
    "X-RateLimit-Daily-Remaining": "199000",
    "X-RateLimit-Interval-Milliseconds": "10000",
    "X-RateLimit-Max": "100",
    "X-RateLimit-Remaining": "0",
}

CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, ServerError),
    (502, ServerError),
    (503, ServerError),
    (520, ServerError),
    (599, ServerError),
    (499, UnexpectedStatusError),
    (418, UnexpectedStatusError),
    (302, UnexpectedStatusError),
    (204, ContractViolationError),
]


@pytest.mark.parametrize(("status", "cls"), CLASSES)
def test_each_status_raises_its_class_with_the_answer_kept(send: Send, status: int, cls: type[LeadwayError]) -> None:
    server = Server(json_response(status, {"statusCode": status, "message": "Nope"}, RATE_HEADERS))
    with pytest.raises(cls) as caught:
        send(server.client(retry=None))

    error = caught.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.response is not None
    assert error.response.status_code == status
    assert error.invoice_id == INVOICE_ID
    assert error.rate_limit is not None
    assert error.rate_limit.max == 100
    assert error.rate_limit.interval_ms == 10_000
    assert error.rate_limit.remaining == 0
    assert error.rate_limit.daily_remaining == 199_000
    if isinstance(error, APIStatusError):
        assert error.message == "Nope"
        assert error.body is not None
        assert error.body.status_code == status
    assert server.sends == 1


def test_str_is_short_and_names_status_method_invoice_and_message(send: Send) -> None:
    server = Server(json_response(404, {"statusCode": 404, "message": "Invoice not found", "error": "Not Found"}))
    with pytest.raises(NotFoundError) as caught:
        send(server.client())

    assert str(caught.value) == f"POST invoice {INVOICE_ID}: 404 Not Found: Invoice not found"
    assert "statusCode" not in str(caught.value)


def test_a_422_keeps_its_list_of_messages(send: Send) -> None:
    body = {"statusCode": 422, "message": ["altId should not be empty", "action must be valid"]}
    with pytest.raises(UnprocessableEntityError) as caught:
        send(Server(json_response(422, body)).client())

    assert caught.value.message == ["altId should not be empty", "action must be valid"]
    assert "altId should not be empty; action must be valid" in str(caught.value)


def test_a_long_message_is_cut_in_str_but_kept_whole_on_the_error(send: Send) -> None:
    long = "x" * 5000
    with pytest.raises(BadRequestError) as caught:
        send(Server(json_response(400, {"message": long})).client())

    assert len(str(caught.value)) < 300
    assert caught.value.message == long


@pytest.mark.parametrize(
    "content",
    [b"<html><body><h1>500 Internal Server Error</h1></body></html>", b'{"message": ', b"[1]", b'{"message": 5}'],
    ids=["html", "truncated", "list", "mistyped"],
)
def test_an_error_status_with_an_off_spec_body_keeps_its_class_and_raw_body(send: Send, content: bytes) -> None:
    server = Server(httpx.Response(500, content=content, headers={"Content-Type": "text/html"}))
    with pytest.raises(ServerError) as caught:
        send(server.client())

    assert caught.value.body is None
    assert caught.value.message is None
    assert caught.value.content == content
    assert str(caught.value) == f"POST invoice {INVOICE_ID}: 500 Internal Server Error"


def test_the_tree_says_what_is_safe_to_retry() -> None:
    assert issubclass(ServerError, OutcomeUnknownError)
    assert issubclass(ServerError, APIStatusError)
    assert issubclass(UnexpectedStatusError, OutcomeUnknownError)
    classes: list[type[LeadwayError]] = [*dict(CLASSES).values(), OutcomeUnknownError]
    safe = {cls for cls in classes if cls.safe_to_retry}
    assert safe == {AuthenticationError, RateLimitError}


def test_a_429_storm_surfaces_as_rate_limit_error_after_the_configured_attempts(send: Send) -> None:
    server = Server(json_response(429, {"statusCode": 429, "message": "Too Many Requests"}, {"Retry-After": "0"}))
    with pytest.raises(RateLimitError) as caught:
        send(server.client(retry=FAST_RETRY))

    assert caught.value.safe_to_retry
    assert caught.value.rate_limit is not None
    assert caught.value.rate_limit.retry_after == 0
    assert server.sends == FAST_RETRY.attempts
