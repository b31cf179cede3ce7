"""`_runtime/errors.py`: every status gets a typed error carrying status, body, raw answer and
rate-limit headers; whatever the body, and through pickle and copy."""

from __future__ import annotations

import copy
import pickle
from concurrent.futures import ProcessPoolExecutor

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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
    TokenError,
    TransportError,
    UnexpectedStatusError,
    UnprocessableEntityError,
)
from leadway_invoices_client.api.invoices import send_invoice

from tests.mock_api import FAST_RETRY, INVOICE_ID, Send, Server, json_response, request_body

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


# --- Any body, pickles and copies (issue 10 §2, §3; each test fails on the code before bca5469) ---

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
