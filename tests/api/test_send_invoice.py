"""`api/invoices/send_invoice.py`: the send call's request and answers, sync and async alike: the
model or a typed error, the whole answer from `*_detailed`, tolerant or strict reading, and over a
socket against the sandbox's faults, never a second delivery."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from leadway_invoices_client import (
    AuthenticatedClient,
    AuthenticationError,
    BadRequestError,
    ContractViolationError,
    LeadwayError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnprocessableEntityError,
)
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import ErrorResponse, SendAction, SendInvoiceRequest, SendInvoiceResponse
from leadway_invoices_client.models.alt_type import AltType
from leadway_invoices_client.models.invoice_status import InvoiceStatus
from leadway_invoices_client.types import UNSET
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
from tests.mock_api import (
    INVOICE_ID,
    SUCCESS_BODY,
    TOKEN,
    Send,
    SendDetailed,
    Server,
    json_response,
    success_body_with,
    success_body_without,
)


def test_success_returns_the_model_and_sends_one_well_formed_request(send: Send) -> None:
    server = Server()
    result = send(server.client())

    assert isinstance(result, SendInvoiceResponse)
    assert result.invoice.id == SUCCESS_BODY["invoice"]["_id"]
    assert result.invoice.status is InvoiceStatus.SENT
    assert server.sends == 1
    request = server.requests[0]
    assert request.method == "POST"
    assert request.url == f"https://api.test/invoices/{INVOICE_ID}/send"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    # The spec's Version header goes out without the caller passing it.
    assert request.headers["Version"] == "2021-07-28"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "altId": "6578278e879ad2646715ba9c",
        "altType": "location",
        "userId": "u1",
        "action": "email",
        "liveMode": False,
    }


def test_detailed_returns_the_whole_answer_with_an_int_status(send_detailed: SendDetailed) -> None:
    server = Server(json_response(200, SUCCESS_BODY, {"X-RateLimit-Remaining": "99"}))
    response = send_detailed(server.client())

    assert response.status_code == 200
    assert type(response.status_code) is int
    assert isinstance(response.parsed, SendInvoiceResponse)
    assert json.loads(response.content) == SUCCESS_BODY
    assert response.headers["X-RateLimit-Remaining"] == "99"


@pytest.mark.parametrize("status", [400, 404, 422, 499, 500, 520, 302])
def test_detailed_never_raises_for_an_answer(send_detailed: SendDetailed, status: int) -> None:
    server = Server(json_response(status, {"statusCode": status, "message": ["a", "b"]}))
    response = send_detailed(server.client())

    assert response.status_code == status
    assert isinstance(response.parsed, ErrorResponse) or response.parsed is None
    assert server.sends == 1


def test_detailed_keeps_an_off_spec_body_raw(send_detailed: SendDetailed) -> None:
    server = Server(json_response(200, [1, 2]))
    response = send_detailed(server.client())

    assert response.parsed is None
    assert response.content == b"[1, 2]"


# A success whose body is not a JSON object with a usable invoice id and status: raised in any mode.
UNUSABLE_BODIES = {
    "html": b"<html><body>502 Bad Gateway</body></html>",
    "truncated": json.dumps(SUCCESS_BODY).encode()[:300],
    "empty": b"",
    "not utf-8": b"\xff\xfe{",
    "json list": b"[]",
    "json string": b'"sent"',
    "json null": b"null",
    "missing invoice": json.dumps(success_body_without(("invoice",))).encode(),
    "missing nested id": json.dumps(success_body_without(("invoice", "_id"))).encode(),
    "missing status": json.dumps(success_body_without(("invoice", "status"))).encode(),
    "invoice not an object": json.dumps(success_body_with(("invoice",), "x")).encode(),
    "invoice null": json.dumps(success_body_with(("invoice",), None)).encode(),
    "_id a number": json.dumps(success_body_with(("invoice", "_id"), 5)).encode(),
    "status a number": json.dumps(success_body_with(("invoice", "status"), 3)).encode(),
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
}

# Everything else that breaks the spec: (body, the deviations it must list as (path, expected, got)).
DEVIATING_BODIES: dict[str, tuple[dict[str, Any], set[tuple[str, str, str]]]] = {
    "liveMode a string": (
        success_body_with(("invoice", "liveMode"), "yes"),
        {("$.invoice.liveMode", "boolean", "string")},
    ),
    "amountPaid a numeric string": (
        success_body_with(("invoice", "amountPaid"), "0"),
        {("$.invoice.amountPaid", "number", "string")},
    ),
    "amountPaid a bool": (
        success_body_with(("invoice", "amountPaid"), True),
        {("$.invoice.amountPaid", "number", "boolean")},
    ),
    "qty a numeric string": (
        success_body_with(("invoice", "invoiceItems", 0, "qty"), "1"),
        {("$.invoice.invoiceItems[0].qty", "number", "string")},
    ),
    "total null": (success_body_with(("invoice", "total"), None), {("$.invoice.total", "number", "null")}),
    "businessDetails null": (
        success_body_with(("invoice", "businessDetails"), None),
        {("$.invoice.businessDetails", "object", "null")},
    ),
    "no dueDate": (success_body_without(("invoice", "dueDate")), {("$.invoice.dueDate", "string", "missing")}),
    "no contactDetails": (
        success_body_without(("invoice", "contactDetails")),
        {("$.invoice.contactDetails", "object", "missing")},
    ),
    "invoiceItems an object": (
        success_body_with(("invoice", "invoiceItems"), {}),
        {("$.invoice.invoiceItems", "array", "object")},
    ),
    "line items are strings": (
        success_body_with(("invoice", "invoiceItems"), ["Macbook Pro", "Charger"]),
        {("$.invoice.invoiceItems[0]", "object", "string"), ("$.invoice.invoiceItems[1]", "object", "string")},
    ),
    "invoiceNumber a list": (
        success_body_with(("invoice", "invoiceNumber"), []),
        {("$.invoice.invoiceNumber", "string or number", "array")},
    ),
    "address a number": (
        success_body_with(("invoice", "businessDetails", "address"), 3),
        {("$.invoice.businessDetails.address", "object or string", "number")},
    ),
    "customFields of numbers": (
        success_body_with(("invoice", "contactDetails", "customFields"), [1]),
        {("$.invoice.contactDetails.customFields[0]", "string", "number")},
    ),
    "smsData a list": (success_body_with(("smsData",), []), {("$.smsData", "object", "array")}),
    "no emailData": (success_body_without(("emailData",)), {("$.emailData", "object", "missing")}),
}


def _content(name: str) -> bytes:
    return json.dumps(DEVIATING_BODIES[name][0]).encode()


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("content", UNUSABLE_BODIES.values(), ids=UNUSABLE_BODIES.keys())
def test_an_unusable_success_raises_contract_violation_with_the_raw_body(
    send: Send, content: bytes, strict: bool
) -> None:
    server = Server(httpx.Response(200, content=content, headers={"Content-Type": "application/json"}))

    with pytest.raises(ContractViolationError) as caught:
        send(server.client(), strict=strict)

    error = caught.value
    assert error.status_code == 200
    assert error.content == content
    assert error.invoice_id == INVOICE_ID
    assert not error.safe_to_retry
    assert server.sends == 1


@pytest.mark.parametrize("name", sorted(DEVIATING_BODIES))
def test_a_deviating_success_is_returned_with_its_deviations_and_raw_json(
    send: Send, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    body, expected = DEVIATING_BODIES[name]
    server = Server(json_response(200, body))

    with caplog.at_level(logging.WARNING, logger="leadway_invoices_client"):
        result = send(server.client())

    assert isinstance(result, SendInvoiceResponse)
    assert result.invoice.id == SUCCESS_BODY["invoice"]["_id"]
    assert result.invoice.status is InvoiceStatus.SENT
    assert {tuple(d) for d in result.deviations} == expected
    # The raw JSON is all there, deviating values included.
    assert result.raw == body
    assert result.invoice.raw == body["invoice"]
    # Each deviating field is UNSET, each deviating list item left out of its list: a typed
    # attribute never holds a value of another type.
    for path, _, _ in expected:
        if path.endswith("]"):
            assert _typed_at(result, path.rpartition("[")[0]) == [], path  # every item here deviated
        else:
            assert _typed_at(result, path) is UNSET, path
    [record] = [r for r in caplog.records if r.name == "leadway_invoices_client"]
    assert record.levelno == logging.WARNING
    for path, _, _ in expected:
        assert path in record.getMessage()
    assert server.sends == 1


def _typed_at(model: Any, path: str) -> Any:
    """The typed attribute at a deviation's path; an item of a list that is UNSET is UNSET too."""
    value = model
    for part in path.removeprefix("$.").split("."):
        key, _, index = part.partition("[")
        value = getattr(value, re.sub(r"([A-Z])", r"_\1", key).lower())
        if index and value is not UNSET:
            value = value[int(index.rstrip("]"))]
    return value


@pytest.mark.parametrize("name", sorted(DEVIATING_BODIES))
def test_strict_raises_for_every_deviation_client_wide_and_per_call(send: Send, name: str) -> None:
    expected = DEVIATING_BODIES[name][1]
    for client_strict, call_strict in [(True, None), (False, True)]:
        server = Server(json_response(200, DEVIATING_BODIES[name][0]))
        with pytest.raises(ContractViolationError) as caught:
            send(server.client(strict=client_strict), strict=call_strict)
        assert any(path in caught.value.reason for path, _, _ in expected), caught.value.reason
        assert caught.value.content == _content(name)
        assert server.sends == 1


def test_a_call_can_be_tolerant_on_a_strict_client(send: Send) -> None:
    server = Server(json_response(200, DEVIATING_BODIES["no dueDate"][0]))
    result = send(server.client(strict=True), strict=False)
    assert result.invoice.due_date is UNSET
    assert [d.path for d in result.deviations] == ["$.invoice.dueDate"]


def test_a_spec_following_answer_has_no_deviations_and_logs_nothing(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="leadway_invoices_client"):
        result = send(Server().client())
    assert result.deviations == ()
    assert result.invoice.deviations == ()
    assert result.to_dict() == SUCCESS_BODY == result.raw
    assert caplog.records == []


def test_detailed_reads_tolerantly_unless_strict(send_detailed: SendDetailed) -> None:
    content = _content("no contactDetails")
    tolerant = send_detailed(Server(json_response(200, json.loads(content))).client())
    assert isinstance(tolerant.parsed, SendInvoiceResponse)
    assert [d.path for d in tolerant.parsed.deviations] == ["$.invoice.contactDetails"]
    strict = send_detailed(Server(json_response(200, json.loads(content))).client(), strict=True)
    assert strict.parsed is None
    assert strict.content == content


def test_an_undocumented_success_status_is_a_contract_violation(send: Send) -> None:
    with pytest.raises(ContractViolationError, match="201"):
        send(Server(json_response(201, SUCCESS_BODY)).client())


# --- Over a socket, against the sandbox's faults --------------------------------------------------
# Every fault of the loopback sandbox gives its documented error, and the outbox proves that no send
# is ever delivered twice: exactly one delivery per successful send, none per failed one.

SANDBOX_RETRY = RetryPolicy(attempts=3, max_wait=0.05, backoff=0.01)


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
        kwargs.setdefault("retry", SANDBOX_RETRY)
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


@pytest.mark.slow
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
