"""`_ledger/reconcile.py`: reconcile() and reconcile_send(), every outcome and its evidence, in memory
with a fake clock (no real sleeping) and over a real socket against the sandbox with each fault; it
only ever reads. And the ledger's own reconciler, over a socket."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from leadway_invoices_client import (
    AuthenticatedClient,
    ContractViolationError,
    LeadwayError,
    LedgerRecord,
    Outcome,
    OutcomeUnknownError,
    Reconciliation,
    SendLedger,
    SendState,
    TransportError,
    areconcile,
    areconcile_send,
    reconcile,
    reconcile_send,
)
from leadway_invoices_client._ledger import reconcile as reconcile_module
from leadway_invoices_client.api.invoices import get_invoice, send_invoice
from leadway_invoices_client.models import Invoice
from starlette.applications import Starlette

from scripts.sandbox import (
    DEFAULT_TOKEN,
    DRAFT_INVOICE_ID,
    PAID_INVOICE_ID,
    SEED_LOCATIONS,
    Sandbox,
    create_app,
    serve_in_thread,
)
from tests.mock_api import INVOICE_ID, LOCATION, TOKEN, json_response, mock_client, request_body

from .draft_sandbox import Served, deliveries
from .ledger_workers import client, invoice_id, send_all, sms_body

PAST = "2020-01-01T00:00:00.000Z"
FUTURE = "2999-01-01T00:00:00.000Z"


class FakeTime:
    """Stands in for the module's clock and sleeps: reads are spaced without real waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(reconcile_module, "_clock", fake.clock)
    monkeypatch.setattr(reconcile_module, "_sleep", fake.sleep)
    monkeypatch.setattr(reconcile_module, "_asleep", fake.asleep)
    return fake


def invoice(status: str = "draft", updated_at: str | None = PAST, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"_id": INVOICE_ID, "status": status, "altId": LOCATION, **extra}
    if updated_at is not None:
        body["updatedAt"] = updated_at
    return body


class Api:
    """In-memory API: a send answers `send_reply` (an exception or a response); each read answers the
    next of `reads` (the last repeats). Records every request."""

    def __init__(
        self, *reads: httpx.Response | Exception, send_reply: httpx.Response | Exception | None = None
    ) -> None:
        self.reads = list(reads) or [json_response(200, invoice())]
        self.send_reply = send_reply if send_reply is not None else httpx.ReadTimeout("timed out")
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST":
            reply = self.send_reply
        else:
            gets = sum(1 for r in self.requests if r.method == "GET")
            reply = self.reads[min(gets, len(self.reads)) - 1]
        if isinstance(reply, Exception):
            if isinstance(reply, httpx.RequestError):
                reply.request = request
            raise reply
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)

    @property
    def methods(self) -> list[str]:
        return [r.method for r in self.requests]

    def client(self, **kwargs: Any) -> AuthenticatedClient:
        return mock_client(self, **kwargs)

    def failed_send(self, client: AuthenticatedClient) -> OutcomeUnknownError | ContractViolationError:
        with pytest.raises((OutcomeUnknownError, ContractViolationError)) as caught:
            send_invoice.sync(INVOICE_ID, client=client, body=request_body(LOCATION))
        error = caught.value
        assert isinstance(error, OutcomeUnknownError | ContractViolationError)
        return error


def reads(api: Api) -> list[httpx.Request]:
    return [r for r in api.requests if r.method == "GET"]


# --- the rules, in memory -------------------------------------------------------------------------


def test_draft_before_and_sent_now_is_sent_at_the_first_read(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("sent", PAST)))
    client = api.client()
    error = api.failed_send(client)
    before = Invoice.from_dict(invoice("draft", PAST))

    result = reconcile(error, client=client, before=before, grace_period=2.0)

    assert result == Reconciliation(
        outcome=Outcome.SENT,
        invoice_id=INVOICE_ID,
        reason="the invoice was draft before the send and now reads sent",
        before_status="draft",
        before_updated_at=PAST,
        after_status="sent",
        after_updated_at=PAST,
        reads=1,
    )
    assert fake_time.sleeps == []


def test_updated_after_the_attempt_is_sent_without_before(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("sent", FUTURE)))
    client = api.client()

    result = reconcile(api.failed_send(client), client=client, grace_period=1.0)

    assert (result.outcome, result.after_updated_at, result.reads) == (Outcome.SENT, FUTURE, 1)
    assert "updated after the send was attempted" in result.reason


def test_updated_at_moved_past_the_one_read_before_is_sent(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("sent", "2020-01-02T00:00:00Z")))

    result = reconcile_send(
        client=api.client(),
        invoice_id=INVOICE_ID,
        alt_id=LOCATION,
        before_status="sent",
        before_updated_at="2020-01-01T00:00:00Z",
        grace_period=1.0,
    )

    assert result.outcome is Outcome.SENT
    assert "moved past the one read before" in result.reason


def test_still_draft_after_the_grace_period_is_not_sent(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("draft")))
    client = api.client()

    result = reconcile(api.failed_send(client), client=client, grace_period=3.0, max_reads=4)

    assert result.outcome is Outcome.NOT_SENT
    assert result.reason == "the invoice still reads draft after the grace period"
    assert result.reads == 4
    # Reads at 0, 1, 2 and 3 s: evenly spread, the last at the end of the grace period.
    assert fake_time.sleeps == [1.0, 1.0, 1.0]


def test_a_send_that_shows_late_in_the_grace_period_is_sent(fake_time: FakeTime) -> None:
    api = Api(
        json_response(200, invoice("draft")),
        json_response(200, invoice("draft")),
        json_response(200, invoice("sent", FUTURE)),
    )
    client = api.client()

    result = reconcile(api.failed_send(client), client=client, grace_period=2.0, max_reads=5)

    assert (result.outcome, result.reads) == (Outcome.SENT, 3)


def test_one_read_waits_for_the_whole_grace_period(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("draft")))

    result = reconcile_send(client=api.client(), invoice_id=INVOICE_ID, alt_id=LOCATION, grace_period=5.0, max_reads=1)

    assert (result.outcome, result.reads, fake_time.sleeps) == (Outcome.NOT_SENT, 1, [5.0])


def test_a_2xx_that_broke_the_spec_is_never_not_sent(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("draft")), send_reply=json_response(200, {"invoice": "oops"}))
    client = api.client()
    error = api.failed_send(client)
    assert isinstance(error, ContractViolationError)

    result = reconcile(error, client=client, grace_period=1.0, max_reads=2)

    assert result.outcome is Outcome.UNDETERMINED
    assert "2xx" in result.reason


@pytest.mark.parametrize("before_status", ["sent", None])
def test_an_already_sent_invoice_without_a_visible_change_is_undetermined(
    fake_time: FakeTime, before_status: str | None
) -> None:
    api = Api(json_response(200, invoice("sent", PAST)))

    result = reconcile_send(
        client=api.client(),
        invoice_id=INVOICE_ID,
        alt_id=LOCATION,
        attempted_at=dt.datetime.now(dt.UTC),
        before_status=before_status,
        before_updated_at=PAST if before_status else None,
        grace_period=1.0,
        max_reads=3,
    )

    assert result.outcome is Outcome.UNDETERMINED
    assert "InvoiceSent webhook" in result.reason
    assert result.reads == 3


def test_a_state_a_send_does_not_produce_is_undetermined(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("void")))

    result = reconcile_send(client=api.client(), invoice_id=INVOICE_ID, alt_id=LOCATION, grace_period=0.5)

    assert result.outcome is Outcome.UNDETERMINED
    assert "'void'" in result.reason


@pytest.mark.parametrize(
    ("status", "name", "read_again"),
    [(404, "NotFoundError", False), (401, "AuthenticationError", True), (403, "PermissionDeniedError", True)],
)
def test_a_read_that_cannot_succeed_stops_at_once(
    fake_time: FakeTime, status: int, name: str, read_again: bool
) -> None:
    api = Api(json_response(status, {"statusCode": status, "message": "alex@example.com is not yours"}))

    result = reconcile_send(client=api.client(), invoice_id=INVOICE_ID, alt_id=LOCATION, grace_period=5.0)

    assert (result.outcome, result.reads) == (Outcome.UNDETERMINED, 1)
    assert result.reason == f"the read failed ({name} {status}), and reading again will not help"
    assert "alex@example.com" not in result.reason  # the server's message is not repeated
    # Another token may read it later; no later read finds an invoice that is not there.
    assert result.read_again is read_again


def test_5xx_on_every_read_is_undetermined_after_the_get_retries(fake_time: FakeTime) -> None:
    api = Api(json_response(503, {"statusCode": 503, "message": "Service Unavailable"}))

    result = reconcile_send(client=api.client(), invoice_id=INVOICE_ID, alt_id=LOCATION, grace_period=1.0, max_reads=2)

    assert result.outcome is Outcome.UNDETERMINED
    assert result.reason == "at the end of the grace period the read failed (ServerError 503)"
    assert result.reads == 2
    assert len(api.requests) == 6  # each read retried by the client's GET policy (3 attempts)
    assert result.read_again


def test_a_failed_read_then_a_draft_is_not_sent(fake_time: FakeTime) -> None:
    api = Api(httpx.ReadTimeout("slow"), json_response(200, invoice("draft")))

    result = reconcile_send(
        client=api.client(retry=None), invoice_id=INVOICE_ID, alt_id=LOCATION, grace_period=1.0, max_reads=2
    )

    assert (result.outcome, result.reads) == (Outcome.NOT_SENT, 2)
    assert not result.read_again


def test_a_draft_then_a_failed_last_read_is_undetermined(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("draft")), httpx.RemoteProtocolError("dropped"))

    result = reconcile_send(
        client=api.client(retry=None), invoice_id=INVOICE_ID, alt_id=LOCATION, grace_period=1.0, max_reads=2
    )

    assert result.outcome is Outcome.UNDETERMINED
    assert "OutcomeUnknownError" in result.reason
    assert result.after_status == "draft"  # the evidence of the last successful read is kept


def test_an_answer_about_another_invoice_is_not_evidence(fake_time: FakeTime) -> None:
    other = {**invoice("sent", FUTURE), "_id": "6578278e879ad2646715ffff"}
    api = Api(json_response(200, other))

    result = reconcile_send(client=api.client(), invoice_id=INVOICE_ID, alt_id=LOCATION, grace_period=1.0)

    assert result.outcome is Outcome.UNDETERMINED
    assert "another invoice" in result.reason


def test_reconcile_only_reads_with_the_errors_location(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("draft")))
    client = api.client()
    error = api.failed_send(client)
    sent_before = api.methods.count("POST")

    reconcile(error, client=client, grace_period=1.0, max_reads=3)

    assert api.methods.count("POST") == sent_before  # nothing was sent by reconcile
    assert {r.method for r in reads(api)} == {"GET"}
    assert all(r.url.path == f"/invoices/{INVOICE_ID}" for r in reads(api))
    assert all(dict(r.url.params) == {"altId": LOCATION, "altType": "location"} for r in reads(api))


def test_the_outcome_is_logged_once_without_token_or_customer_data(
    fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    api = Api(json_response(200, invoice("sent", FUTURE, contactDetails={"email": "alex@example.com"})))
    with caplog.at_level(logging.DEBUG, logger="leadway_invoices_client"):
        reconcile_send(
            client=api.client(),
            invoice_id=INVOICE_ID,
            alt_id=LOCATION,
            attempted_at=dt.datetime.now(dt.UTC),
            grace_period=0.1,
        )

    outcomes = [r for r in caplog.records if r.getMessage().startswith("reconcile invoice")]
    assert len(outcomes) == 1
    assert "sent after 1 read(s)" in outcomes[0].getMessage()
    assert not any(TOKEN in r.getMessage() or "alex@example.com" in r.getMessage() for r in caplog.records)


def test_async_gives_the_same_answers(fake_time: FakeTime) -> None:
    api = Api(json_response(200, invoice("draft")), json_response(200, invoice("sent", FUTURE)))
    client = api.client()
    error = api.failed_send(client)
    assert isinstance(error, OutcomeUnknownError)

    result = asyncio.run(areconcile(error, client=client, grace_period=1.0, max_reads=3))
    plain = asyncio.run(
        areconcile_send(
            client=api.client(),
            invoice_id=INVOICE_ID,
            alt_id=LOCATION,
            before_status="draft",
            grace_period=1.0,
            max_reads=2,
        )
    )

    assert (result.outcome, result.reads) == (Outcome.SENT, 2)
    assert (plain.outcome, plain.reads) == (Outcome.SENT, 1)  # the API reads "sent" by now
    assert fake_time.sleeps == [0.5]


# --- hostile input: refused before any I/O --------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (None, TypeError, "not NoneType"),
        ("timeout", TypeError, "not str"),
        (ValueError("x"), TypeError, "not ValueError"),
        (TransportError("connect failed", invoice_id=INVOICE_ID), TypeError, "safe_to_retry"),
        (OutcomeUnknownError("x", invoice_id=INVOICE_ID), ValueError, "reconcile_send"),
        (
            OutcomeUnknownError("x", method="GET", invoice_id=INVOICE_ID, alt_id=LOCATION, alt_type="location"),
            ValueError,
            "GET",
        ),
    ],
)
def test_a_wrong_error_is_refused_by_name(error: Any, kind: type[Exception], message: str) -> None:
    api = Api()
    with pytest.raises(kind, match=message):
        reconcile(error, client=api.client())
    with pytest.raises(kind, match=message):
        asyncio.run(areconcile(error, client=api.client()))
    assert api.requests == []


def built(**overrides: Any) -> OutcomeUnknownError:
    fields: dict[str, Any] = {"invoice_id": INVOICE_ID, "alt_id": LOCATION, "alt_type": "location"}
    return OutcomeUnknownError("x", **{**fields, **overrides})


@pytest.mark.parametrize(
    ("kwargs", "kind", "message"),
    [
        ({"invoice_id": "../send"}, ValueError, "invoice_id"),
        ({"invoice_id": ""}, ValueError, "invoice_id must not be empty"),
        ({"invoice_id": 5}, ValueError, "invoice_id must be a string"),
        ({"alt_id": ""}, ValueError, "alt_id must not be empty"),
        ({"alt_id": "a\nb"}, ValueError, "alt_id contains a control"),
        ({"alt_type": "galaxy"}, ValueError, "alt_type must be one of"),
        ({"attempted_at": dt.datetime(2026, 1, 1)}, ValueError, "timezone-aware"),
        ({"attempted_at": "2026-01-01"}, TypeError, "attempted_at must be a datetime"),
        ({"before_status": 3}, TypeError, "before_status must be a str"),
        ({"grace_period": float("nan")}, ValueError, "grace_period"),
        ({"grace_period": float("inf")}, ValueError, "grace_period"),
        ({"grace_period": -1}, ValueError, "grace_period"),
        ({"grace_period": 3601}, ValueError, "from 0 to 3600"),
        ({"grace_period": True}, ValueError, "grace_period"),
        ({"max_reads": 0}, ValueError, "max_reads"),
        ({"max_reads": 101}, ValueError, "max_reads"),
        ({"max_reads": 2.0}, ValueError, "max_reads"),
        ({"client": "http://api"}, TypeError, "AuthenticatedClient"),
    ],
)
def test_bad_reconcile_send_input_is_refused_before_any_io(
    kwargs: dict[str, Any], kind: type[Exception], message: str
) -> None:
    api = Api()
    arguments: dict[str, Any] = {"client": api.client(), "invoice_id": INVOICE_ID, "alt_id": LOCATION, **kwargs}
    with pytest.raises(kind, match=message):
        reconcile_send(**arguments)
    with pytest.raises(kind, match=message):
        asyncio.run(areconcile_send(**arguments))
    assert api.requests == []


def test_a_before_that_is_not_the_errors_invoice_is_refused() -> None:
    api = Api()
    with pytest.raises(TypeError, match="before must be the Invoice"):
        reconcile(built(), client=api.client(), before={"status": "draft"})  # type: ignore[arg-type]
    other = Invoice.from_dict({**invoice(), "_id": "6578278e879ad2646715ffff"})
    with pytest.raises(ValueError, match="another invoice"):
        reconcile(built(), client=api.client(), before=other)
    assert api.requests == []


# --- over a real socket, against the sandbox with each fault --------------------------------------

SOCKET_READS = 4


@pytest.fixture(scope="module")
def seeded_served() -> Iterator[tuple[Sandbox, str]]:
    """The sandbox with its seed invoices (the ledger's tests below use `sandbox`, of drafts)."""
    app = create_app()
    with serve_in_thread(app) as base_url:
        yield app.state.sandbox, base_url


@pytest.fixture
def seeded(seeded_served: tuple[Sandbox, str]) -> Iterator[tuple[Sandbox, str]]:
    sandbox, _ = seeded_served
    sandbox.reset()
    yield seeded_served
    sandbox.faults.reset()
    sandbox.reset()


def send_with_fault(
    sandbox: Sandbox, base_url: str, fault: str | None, invoice_id: str = DRAFT_INVOICE_ID, **client_args: Any
) -> tuple[AuthenticatedClient, LeadwayError]:
    """Send `invoice_id` with `fault` assigned to it in the sandbox (reads are never faulted), and
    return the client and the send's error."""
    if fault is not None:
        sandbox.faults.assign(invoice_id, fault)
    client = AuthenticatedClient(base_url, DEFAULT_TOKEN, **client_args)
    with pytest.raises(LeadwayError) as caught:
        send_invoice.sync(invoice_id, client=client, body=request_body(SEED_LOCATIONS[0]))
    return client, caught.value


def read(client: AuthenticatedClient, invoice_id: str = DRAFT_INVOICE_ID) -> Invoice:
    return get_invoice.sync(invoice_id, client=client, alt_id=SEED_LOCATIONS[0], alt_type="location")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fault", "client_args", "grace", "outcome"),
    [
        ("drop-after-send", {}, 0.3, Outcome.SENT),
        ("delayed-send:0.2", {}, 2.0, Outcome.SENT),
        ("503", {}, 0.3, Outcome.NOT_SENT),
        ("html-500", {}, 0.3, Outcome.NOT_SENT),
        ("slow:0.3", {"timeout": httpx.Timeout(5.0, read=0.05)}, 2.0, Outcome.SENT),
    ],
)
def test_each_fault_reconciles_over_a_socket(
    seeded: tuple[Sandbox, str], fault: str, client_args: dict[str, Any], grace: float, outcome: Outcome
) -> None:
    box, base_url = seeded
    client, error = send_with_fault(box, base_url, fault, **client_args)
    assert isinstance(error, OutcomeUnknownError)

    result = reconcile(error, client=client, grace_period=grace, max_reads=SOCKET_READS)

    assert result.outcome is outcome, result
    delivered = len(box.state.deliveries_for(DRAFT_INVOICE_ID))
    assert delivered == (1 if outcome is Outcome.SENT else 0)


def test_each_fault_reconciles_over_a_socket_async(seeded: tuple[Sandbox, str]) -> None:
    box, base_url = seeded
    _client, error = send_with_fault(box, base_url, "delayed-send:0.2")
    assert isinstance(error, OutcomeUnknownError)

    async def run() -> Reconciliation:
        async with AuthenticatedClient(base_url, DEFAULT_TOKEN) as aclient:
            return await areconcile(error, client=aclient, grace_period=2.0, max_reads=SOCKET_READS)

    result = asyncio.run(run())
    assert (result.outcome, result.before_status, result.after_status) == (Outcome.SENT, None, "sent")


def test_with_before_the_evidence_is_draft_then_sent(seeded: tuple[Sandbox, str]) -> None:
    box, base_url = seeded
    before = read(AuthenticatedClient(base_url, DEFAULT_TOKEN))
    client, error = send_with_fault(box, base_url, "drop-after-send")
    assert isinstance(error, OutcomeUnknownError)

    result = reconcile(error, client=client, before=before, grace_period=0.3)

    assert (result.outcome, result.before_status, result.after_status, result.reads) == (
        Outcome.SENT,
        "draft",
        "sent",
        1,
    )
    assert result.after_updated_at != result.before_updated_at


def test_a_send_landing_after_the_grace_period_is_reported_not_sent(seeded: tuple[Sandbox, str]) -> None:
    # The limit of any grace period, shown for real: NOT_SENT means "not landed within the grace period".
    box, base_url = seeded
    client, error = send_with_fault(box, base_url, "delayed-send:3")
    assert isinstance(error, OutcomeUnknownError)

    result = reconcile(error, client=client, grace_period=0.2, max_reads=2)

    assert result.outcome is Outcome.NOT_SENT
    deadline = time.monotonic() + 10
    while not box.state.deliveries_for(DRAFT_INVOICE_ID) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(box.state.deliveries_for(DRAFT_INVOICE_ID)) == 1


def test_a_resend_that_did_not_land_is_undetermined(seeded: tuple[Sandbox, str]) -> None:
    box, base_url = seeded
    client = AuthenticatedClient(base_url, DEFAULT_TOKEN)
    send_invoice.sync(DRAFT_INVOICE_ID, client=client, body=request_body(SEED_LOCATIONS[0]))
    before = read(client)
    _, error = send_with_fault(box, base_url, "503")
    assert isinstance(error, OutcomeUnknownError)

    result = reconcile(error, client=client, before=before, grace_period=0.3, max_reads=2)

    assert result.outcome is Outcome.UNDETERMINED
    assert "InvoiceSent webhook" in result.reason
    assert len(box.state.deliveries_for(DRAFT_INVOICE_ID)) == 1


def test_a_paid_invoice_whose_refusal_was_lost_is_undetermined(seeded: tuple[Sandbox, str]) -> None:
    box, base_url = seeded
    client, error = send_with_fault(box, base_url, "drop-after-send", PAID_INVOICE_ID)
    assert isinstance(error, OutcomeUnknownError)

    result = reconcile(error, client=client, grace_period=0.2, max_reads=2)

    assert (result.outcome, result.after_status) == (Outcome.UNDETERMINED, "paid")


def test_no_post_leaves_during_reconcile_over_a_socket(seeded: tuple[Sandbox, str]) -> None:
    box, base_url = seeded
    _client, error = send_with_fault(box, base_url, "503")
    seen: list[str] = []
    watching = AuthenticatedClient(
        base_url, DEFAULT_TOKEN, httpx_args={"event_hooks": {"request": [lambda r: seen.append(r.method)]}}
    )
    assert isinstance(error, OutcomeUnknownError)

    reconcile(error, client=watching, grace_period=0.2, max_reads=3)

    assert seen == ["GET", "GET", "GET"]
    assert json.dumps(box.state.summaries()).count('"sent"') == 0


def test_a_resend_that_landed_is_sent_when_updated_at_moves(seeded: tuple[Sandbox, str]) -> None:
    # The sandbox moves updatedAt on every send; upstream may not on a resend (then: UNDETERMINED).
    box, base_url = seeded
    client = AuthenticatedClient(base_url, DEFAULT_TOKEN)
    send_invoice.sync(DRAFT_INVOICE_ID, client=client, body=request_body(SEED_LOCATIONS[0]))
    before = read(client)
    _, error = send_with_fault(box, base_url, "drop-after-send")
    assert isinstance(error, OutcomeUnknownError)

    result = reconcile(error, client=client, before=before, grace_period=0.3, max_reads=2)

    assert (result.outcome, result.before_status, result.after_status) == (Outcome.SENT, "sent", "sent")
    assert "moved past the one read before" in result.reason
    assert len(box.state.deliveries_for(DRAFT_INVOICE_ID)) == 2


# --- as the send ledger's reconciler, over a socket -----------------------------------------------
# The ledger with the package's own reconciliation (`ledger_reconciler`, reading the invoice with GET)
# against the sandbox of drafts: each fault's unknown outcome ends as what really happened, and the
# outbox shows each invoice delivered exactly once.

SPAWN = multiprocessing.get_context("spawn")


def send(
    ledger: SendLedger, mode: str, app: Starlette, index: int, base_url: str, fault: str | None = None
) -> LedgerRecord:
    """One ledger send of `key-N` (invoice N). A fault is assigned to the invoice for this send only:
    a header would reach reconciliation's reads too (the client is the same), an assignment does not."""
    state: Sandbox = app.state.sandbox
    if fault is not None:
        state.faults.assign(invoice_id(index), fault)
    try:
        if mode == "sync":
            with client(base_url) as http:
                return ledger.send(f"key-{index}", client=http, invoice_id=invoice_id(index), body=sms_body())

        async def run() -> LedgerRecord:
            async with client(base_url) as http:
                return await ledger.asend(f"key-{index}", client=http, invoice_id=invoice_id(index), body=sms_body())

        return asyncio.run(run())
    finally:
        state.faults.clear(invoice_id(index))


@pytest.mark.parametrize("fault", ["drop-after-send", "delayed-send:0.5"])
def test_a_send_that_landed_is_reconciled_sent_from_the_invoice(
    sandbox: Served, target: str | Path, mode: str, fault: str
) -> None:
    app, base_url = sandbox
    with SendLedger(target, grace_period=2.0, max_reads=4) as ledger:
        unknown = send(ledger, mode, app, 1, base_url, fault)
        again = send(ledger, mode, app, 1, base_url)

    assert (unknown.state, unknown.skipped) == (SendState.SENT, False)
    assert unknown.evidence is not None
    assert (unknown.evidence.outcome, unknown.evidence.after_status) == (Outcome.SENT, "sent")
    assert unknown.reason.startswith("outcome unknown: OutcomeUnknownError (RemoteProtocolError); reconciled SENT: ")
    assert again.skipped
    assert deliveries(app) == {invoice_id(1): 1}


def test_a_send_that_did_not_land_is_reconciled_not_sent_then_sent_once(
    sandbox: Served, target: str | Path, mode: str
) -> None:
    app, base_url = sandbox
    with SendLedger(target, grace_period=0.3, max_reads=2) as ledger:
        unknown = send(ledger, mode, app, 2, base_url, "503")
        sent = send(ledger, mode, app, 2, base_url)

    assert unknown.state is SendState.NOT_SENT
    assert unknown.evidence is not None
    assert (unknown.evidence.after_status, unknown.evidence.reads) == ("draft", 2)
    assert (sent.state, sent.attempts) == (SendState.SENT, 2)
    assert deliveries(app) == {invoice_id(2): 1}


def test_an_unknown_resend_of_a_sent_invoice_needs_attention(sandbox: Served, target: str | Path, mode: str) -> None:
    app, base_url = sandbox
    with SendLedger(target, grace_period=0.2, max_reads=2) as ledger:
        send(ledger, mode, app, 3, base_url)  # key-3 sends invoice 3
        app.state.sandbox.faults.assign(invoice_id(3), "503")
        with client(base_url) as http:  # a reminder of the same invoice under another key
            reminder = ledger.send("reminder-3", client=http, invoice_id=invoice_id(3), body=sms_body())
        app.state.sandbox.faults.clear(invoice_id(3))
        held = send(ledger, mode, app, 3, base_url)
        with client(base_url) as http:
            again = ledger.send("reminder-3", client=http, invoice_id=invoice_id(3), body=sms_body())

    # The invoice already read `sent` and nothing moved: the API cannot tell, so nothing is guessed.
    assert reminder.state is SendState.NEEDS_ATTENTION
    assert reminder.evidence is not None
    assert reminder.evidence.outcome is Outcome.UNDETERMINED
    assert "InvoiceSent webhook" in reminder.reason
    assert (held.skipped, again.state, again.skipped) == (True, SendState.NEEDS_ATTENTION, True)
    assert deliveries(app) == {invoice_id(3): 1}


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_worker_killed_mid_send_is_reconciled_from_the_invoice(sandbox: Served, tmp_path: Path) -> None:
    app, base_url = sandbox
    path = tmp_path / "sends.db"
    worker = SPAWN.Process(target=send_all, args=(str(path), base_url, ["key-4"], "slow:1", 3.0, True))
    worker.start()
    with SendLedger(path, grace_period=3.0) as ledger:
        deadline = time.monotonic() + 60
        while (record := ledger.get("key-4")) is None or record.state is not SendState.PENDING:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # let the worker's request reach the sandbox
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        with client(base_url) as http:
            reconciled = ledger.send("key-4", client=http, invoice_id=invoice_id(4), body=sms_body())
            final = ledger.send("key-4", client=http, invoice_id=invoice_id(4), body=sms_body())

    assert reconciled.evidence is not None
    # What the reads found is what happened: the request landed a second after the kill (found
    # sent: nothing more is sent), or it had not (not sent: the same call sends it).
    found = reconciled.evidence.outcome
    assert (found, reconciled.state, reconciled.skipped) in {
        (Outcome.SENT, SendState.SENT, True),
        (Outcome.NOT_SENT, SendState.SENT, False),
    }
    assert (final.state, final.skipped) == (SendState.SENT, True)
    assert deliveries(app) == {invoice_id(4): 1}


def test_an_invoice_that_cannot_be_read_is_reconciled_again_later_not_handed_to_a_person(
    sandbox: Served, target: str | Path, mode: str
) -> None:
    app, base_url = sandbox
    with SendLedger(target, grace_period=0.2, max_reads=2) as ledger:
        # The header's fault reaches the send and every read: nothing can be learnt now.
        with client(base_url, "503") as http:
            unread = ledger.send("key-5", client=http, invoice_id=invoice_id(5), body=sms_body())
        # One call: reconciled (the invoice reads draft now: not sent), then sent.
        sent = send(ledger, mode, app, 5, base_url)

    assert unread.state is SendState.PENDING
    assert unread.reason.startswith("outcome unknown: ServerError 503; not reconciled yet: ")
    assert unread.evidence is not None
    assert unread.evidence.after_status is None
    assert (sent.state, sent.skipped) == (SendState.SENT, False)
    assert sent.evidence is not None
    assert sent.evidence.outcome is Outcome.NOT_SENT
    assert deliveries(app) == {invoice_id(5): 1}
