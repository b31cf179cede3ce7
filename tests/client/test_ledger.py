"""The send ledger over a real socket against the sandbox: each outcome is recorded as it happened,
a SENT key is never sent again, an unknown outcome is reconciled before anything is resent, and
the outbox proves each invoice was delivered at most once."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leadway_invoices_client import (
    LedgerError,
    LedgerRecord,
    Outcome,
    Reconciliation,
    SendLedger,
    SendState,
)
from leadway_invoices_client.models import SendInvoiceRequest
from starlette.applications import Starlette

from scripts.sandbox import PAID_INVOICE_ID, Sandbox, serve_in_thread

from . import ledger_support as support
from . import ledger_workers as workers
from .conftest import SUCCESS_BODY, json_response, mock_client
from .ledger_support import deliveries
from .ledger_workers import SandboxReconciler, client, invoice_id, open_ledger, sms_body

INVOICES = 60


class Served:
    def __init__(self, app: Starlette, base_url: str) -> None:
        self.app, self.base_url = app, base_url

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    def status(self, index: int) -> str:
        invoice = self.sandbox.state.invoice(invoice_id(index))
        assert invoice is not None
        return str(invoice["status"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    app = support.create_sandbox(tmp_path_factory.mktemp("sandbox"), INVOICES)
    with serve_in_thread(app) as base_url:
        yield Served(app, base_url)


@pytest.fixture
def sandbox(served: Served) -> Served:
    served.sandbox.reset()
    return served


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "sends.db"


def send(
    ledger: SendLedger, mode: str, key: str, index: int, base_url: str, fault: str | None = None, **kw: Any
) -> LedgerRecord:
    """One ledger send in `mode`, through a fresh client (an async client belongs to one loop)."""
    body = kw.pop("body", None) or sms_body()
    target = kw.pop("invoice", None) or invoice_id(index)
    if mode == "sync":
        with client(base_url, fault, **kw) as http:
            return ledger.send(key, client=http, invoice_id=target, body=body)

    async def run() -> LedgerRecord:
        async with client(base_url, fault, **kw) as http:
            return await ledger.asend(key, client=http, invoice_id=target, body=body)

    return asyncio.run(run())


# -- one key, one outcome ------------------------------------------------------------------------------


def test_a_sent_key_is_never_sent_again(sandbox: Served, path: Path, mode: str) -> None:
    with open_ledger(path, sandbox.base_url) as ledger:
        first = send(ledger, mode, "march-0", 0, sandbox.base_url)
        again = send(ledger, mode, "march-0", 0, sandbox.base_url)

    assert (first.state, first.skipped, first.attempts, first.reason) == (SendState.SENT, False, 1, "sent")
    assert (again.state, again.skipped, again.attempts) == (SendState.SENT, True, 1)
    assert deliveries(sandbox.app) == {invoice_id(0): 1}


def test_a_new_ledger_on_the_same_file_remembers(sandbox: Served, path: Path, mode: str) -> None:
    with open_ledger(path, sandbox.base_url) as ledger:
        send(ledger, mode, "k", 0, sandbox.base_url)
    with open_ledger(path, sandbox.base_url) as ledger:
        again = send(ledger, mode, "k", 0, sandbox.base_url)
        assert ledger.get("k") == LedgerRecord("k", invoice_id(0), workers.LOCATION, SendState.SENT, "sent", 1)

    assert again.skipped
    assert deliveries(sandbox.app) == {invoice_id(0): 1}


def test_a_4xx_is_not_sent_and_the_next_call_sends_again(sandbox: Served, path: Path, mode: str) -> None:
    with open_ledger(path, sandbox.base_url) as ledger:
        refused = send(ledger, mode, "paid", 0, sandbox.base_url, invoice=PAID_INVOICE_ID)
        again = send(ledger, mode, "paid", 0, sandbox.base_url, invoice=PAID_INVOICE_ID)

    assert (refused.state, refused.reason, refused.skipped) == (
        SendState.NOT_SENT,
        "not sent: BadRequestError 400",
        False,
    )
    assert (again.state, again.attempts) == (SendState.NOT_SENT, 2)
    assert deliveries(sandbox.app) == {}


def test_a_rate_limit_is_not_sent_then_sent_by_the_next_call(sandbox: Served, path: Path, mode: str) -> None:
    with open_ledger(path, sandbox.base_url) as ledger:
        limited = send(ledger, mode, "k", 1, sandbox.base_url, "rate-limit", retry=None)
        sent = send(ledger, mode, "k", 1, sandbox.base_url)

    assert (limited.state, limited.reason) == (SendState.NOT_SENT, "not sent: RateLimitError 429")
    assert (sent.state, sent.attempts, sent.skipped) == (SendState.SENT, 2, False)
    assert deliveries(sandbox.app) == {invoice_id(1): 1}


def test_a_connect_failure_is_not_sent_then_sent(sandbox: Served, path: Path, mode: str) -> None:
    closed = "http://127.0.0.1:9"  # discard port: nothing listens, the connection is refused
    with open_ledger(path, sandbox.base_url) as ledger:
        refused = send(ledger, mode, "k", 2, closed)
        sent = send(ledger, mode, "k", 2, sandbox.base_url)

    assert (refused.state, refused.reason) == (SendState.NOT_SENT, "not sent: TransportError (ConnectError)")
    assert (sent.state, sent.attempts) == (SendState.SENT, 2)
    assert deliveries(sandbox.app) == {invoice_id(2): 1}


@pytest.mark.parametrize("fault", ["drop-after-send", "slow:0.6"])
def test_an_unknown_outcome_that_was_sent_is_reconciled_sent_and_never_resent(
    sandbox: Served, path: Path, mode: str, fault: str
) -> None:
    timeout = httpx.Timeout(5.0, read=0.2)
    with open_ledger(path, sandbox.base_url, grace_period=1.5) as ledger:
        unknown = send(ledger, mode, "k", 3, sandbox.base_url, fault, timeout=timeout)
        again = send(ledger, mode, "k", 3, sandbox.base_url)

    assert unknown.state is SendState.SENT
    assert not unknown.skipped
    assert unknown.reason.startswith("outcome unknown: OutcomeUnknownError (")
    assert "reconciled SENT: status sent" in unknown.reason
    assert unknown.evidence is not None
    assert unknown.evidence.after_status == "sent"
    assert (again.state, again.skipped) == (SendState.SENT, True)
    assert deliveries(sandbox.app) == {invoice_id(3): 1}


def test_an_unknown_outcome_that_was_not_sent_is_recorded_and_sent_by_the_next_call(
    sandbox: Served, path: Path, mode: str
) -> None:
    with open_ledger(path, sandbox.base_url) as ledger:
        unknown = send(ledger, mode, "k", 4, sandbox.base_url, "503")
        assert deliveries(sandbox.app) == {}  # not resent within the same call
        sent = send(ledger, mode, "k", 4, sandbox.base_url)

    assert (unknown.state, unknown.skipped) == (SendState.NOT_SENT, False)
    assert unknown.reason == "outcome unknown: ServerError 503; reconciled NOT_SENT: status draft"
    assert (sent.state, sent.attempts) == (SendState.SENT, 2)
    assert deliveries(sandbox.app) == {invoice_id(4): 1}


def test_an_undetermined_outcome_needs_attention_and_is_never_resent_until_resolved(
    sandbox: Served, path: Path, mode: str
) -> None:
    reconciler = SandboxReconciler(sandbox.base_url, outcome=Outcome.UNDETERMINED)
    with open_ledger(path, sandbox.base_url, reconciler=reconciler, areconciler=reconciler.asynchronous) as ledger:
        unknown = send(ledger, mode, "k", 5, sandbox.base_url, "html-500")
        held = [send(ledger, mode, "k", 5, sandbox.base_url) for _ in range(3)]
        assert deliveries(sandbox.app) == {}
        resolved = ledger.resolve("k", SendState.NOT_SENT, "no InvoiceSent webhook; customer confirmed nothing came")
        sent = send(ledger, mode, "k", 5, sandbox.base_url)
        resent = send(ledger, mode, "k", 5, sandbox.base_url)

    assert unknown.state is SendState.NEEDS_ATTENTION
    assert unknown.evidence is not None
    assert unknown.evidence.outcome is Outcome.UNDETERMINED
    assert all(r.state is SendState.NEEDS_ATTENTION and r.skipped for r in held)
    assert len(reconciler.calls) == 1  # a key needing attention is not even reconciled again
    assert resolved.reason.startswith("resolved by hand: no InvoiceSent webhook")
    assert (sent.state, sent.skipped, resent.skipped) == (SendState.SENT, False, True)
    assert deliveries(sandbox.app) == {invoice_id(5): 1}


def test_resolving_as_sent_stops_every_later_send(sandbox: Served, path: Path) -> None:
    reconciler = SandboxReconciler(sandbox.base_url, outcome=Outcome.UNDETERMINED)
    with open_ledger(path, sandbox.base_url, reconciler=reconciler) as ledger:
        send(ledger, "sync", "k", 6, sandbox.base_url, "drop-after-send")
        ledger.resolve("k", SendState.SENT, "InvoiceSent webhook received")
        again = send(ledger, "sync", "k", 6, sandbox.base_url)

    assert (again.state, again.skipped) == (SendState.SENT, True)
    assert deliveries(sandbox.app) == {invoice_id(6): 1}


def test_a_failed_reconciliation_stays_pending_and_is_tried_again(sandbox: Served, path: Path, mode: str) -> None:
    failing = SandboxReconciler(sandbox.base_url, fail=RuntimeError("invoice unreadable"))
    with SendLedger(path, reconciler=failing, areconciler=failing.asynchronous, grace_period=0) as ledger:
        unknown = send(ledger, mode, "k", 7, sandbox.base_url, "drop-after-send")
    with open_ledger(path, sandbox.base_url) as ledger:
        reconciled = send(ledger, mode, "k", 7, sandbox.base_url)
        again = send(ledger, mode, "k", 7, sandbox.base_url)

    assert unknown.state is SendState.PENDING
    assert unknown.reason == (
        "outcome unknown: OutcomeUnknownError (RemoteProtocolError); reconciliation failed: RuntimeError"
    )
    assert (reconciled.state, reconciled.skipped) == (SendState.SENT, True)
    assert reconciled.reason == "left pending by an interrupted send; reconciled SENT: status sent"
    assert again.skipped
    assert deliveries(sandbox.app) == {invoice_id(7): 1}


def test_a_strict_2xx_contract_violation_is_reconciled(path: Path, mode: str) -> None:
    deviating = json_response(200, {**SUCCESS_BODY, "smsData": "not an object"})
    calls: list[str] = []

    def sent(**kwargs: Any) -> Reconciliation:
        calls.append(kwargs["invoice_id"])
        return Reconciliation(Outcome.SENT, kwargs["invoice_id"], "status sent", "draft", None, "sent", None, 1)

    async def asent(**kwargs: Any) -> Reconciliation:
        return sent(**kwargs)

    with SendLedger(path, reconciler=sent, areconciler=asent) as ledger:
        http = mock_client(lambda request: deviating, strict=True)
        if mode == "sync":
            record = ledger.send("k", client=http, invoice_id=workers.invoice_id(0), body=sms_body())
        else:
            record = asyncio.run(ledger.asend("k", client=http, invoice_id=workers.invoice_id(0), body=sms_body()))

    assert record.state is SendState.SENT
    assert record.reason.startswith("outcome unknown: ContractViolationError 200; reconciled SENT")
    assert calls == [workers.invoice_id(0)]


def test_an_interrupted_send_is_left_for_reconciliation(sandbox: Served, path: Path) -> None:
    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    with open_ledger(path, sandbox.base_url) as ledger:
        with pytest.raises(KeyboardInterrupt):
            ledger.send("k", client=mock_client(interrupt), invoice_id=invoice_id(8), body=sms_body())
        left = ledger.get("k")
        # One call reconciles the key (still a draft: not sent) and then sends it.
        sent = send(ledger, "sync", "k", 8, sandbox.base_url)
        again = send(ledger, "sync", "k", 8, sandbox.base_url)

    assert left is not None
    assert (left.state, left.reason) == (SendState.PENDING, "interrupted: KeyboardInterrupt")
    assert (sent.state, sent.attempts, sent.skipped) == (SendState.SENT, 2, False)
    assert sent.evidence is not None
    assert sent.evidence.outcome is Outcome.NOT_SENT
    assert (again.state, again.skipped) == (SendState.SENT, True)
    assert deliveries(sandbox.app) == {invoice_id(8): 1}


def test_a_cancelled_task_is_left_for_reconciliation(sandbox: Served, path: Path) -> None:
    async def cancelled(ledger: SendLedger) -> None:
        async with client(sandbox.base_url, "slow:1") as http:
            task = asyncio.create_task(ledger.asend("k", client=http, invoice_id=invoice_id(9), body=sms_body()))
            while (record := ledger.get("k")) is None or record.state is not SendState.PENDING:  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # the ledger file is the only signal: poll it
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    with open_ledger(path, sandbox.base_url, grace_period=0) as ledger:
        asyncio.run(cancelled(ledger))
        left = ledger.get("k")

    assert left is not None
    assert (left.state, left.reason) == (SendState.PENDING, "interrupted: CancelledError")
    # The sandbox lands the abandoned request a second later: wait, so no later test sees it.
    deadline = time.monotonic() + 30
    while not deliveries(sandbox.app) and time.monotonic() < deadline:
        time.sleep(0.05)


# -- bad input: a clear error before any I/O -----------------------------------------------------------


class Counting:
    def __init__(self) -> None:
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return json_response(200, SUCCESS_BODY)


@pytest.mark.parametrize(
    ("key", "error", "message"),
    [
        ("", ValueError, "must not be empty"),
        (None, TypeError, "must be a str, not NoneType"),
        (7, TypeError, "must be a str, not int"),
        (b"k", TypeError, "must be a str, not bytes"),
        ("\ud800", ValueError, "not valid Unicode"),
        ("k" * 1025, ValueError, "at most 1024 characters"),
    ],
)
def test_a_bad_key_is_refused_before_any_io(path: Path, key: Any, error: type[Exception], message: str) -> None:
    counting = Counting()
    with SendLedger(path) as ledger:
        with pytest.raises(error, match=message):
            ledger.send(key, client=mock_client(counting), invoice_id=invoice_id(0), body=sms_body())
        assert ledger.records() == []
    assert counting.requests == 0


@pytest.mark.parametrize(
    ("target", "body", "message"),
    [
        ("../x", sms_body(), "invoice_id contains '/'"),
        ("", sms_body(), "invoice_id must not be empty"),
        (invoice_id(0), {"altId": "x"}, "body must be a SendInvoiceRequest, not dict"),
        (invoice_id(0), SendInvoiceRequest("loc", "nowhere", "u", "sms", False), "altType"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_invoice_id_or_body_is_refused_before_anything_is_recorded(
    path: Path, target: str, body: Any, message: str
) -> None:
    counting = Counting()
    with SendLedger(path) as ledger:
        with pytest.raises((TypeError, ValueError), match=message):
            ledger.send("k", client=mock_client(counting), invoice_id=target, body=body)
        assert ledger.get("k") is None
    assert counting.requests == 0


def test_a_client_that_is_not_one_is_refused_before_anything_is_recorded(path: Path) -> None:
    with SendLedger(path) as ledger:
        with pytest.raises(TypeError, match="client must be an AuthenticatedClient, not Client"):
            ledger.send("k", client=httpx.Client(), invoice_id=invoice_id(0), body=sms_body())  # type: ignore[arg-type]
        assert ledger.get("k") is None


def test_a_key_reused_for_another_invoice_is_refused_naming_the_key(path: Path, mode: str) -> None:
    counting = Counting()
    with SendLedger(path) as ledger:
        ledger.send("march", client=mock_client(counting), invoice_id=invoice_id(0), body=sms_body())
        again = mock_client(counting)
        reused = r"ledger key 'march' was recorded for invoice .*c000, not .*c001"
        if mode == "sync":
            with pytest.raises(LedgerError, match=reused):
                ledger.send("march", client=again, invoice_id=invoice_id(1), body=sms_body())
        else:
            with pytest.raises(LedgerError, match=reused):
                asyncio.run(ledger.asend("march", client=again, invoice_id=invoice_id(1), body=sms_body()))
    assert counting.requests == 1


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="is a directory"):
        SendLedger(tmp_path)


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="does not exist"):
        SendLedger(tmp_path / "nowhere" / "sends.db")


def test_a_foreign_database_is_refused_and_left_unchanged(path: Path) -> None:
    with sqlite3.connect(path) as foreign:
        foreign.execute("CREATE TABLE customers (name TEXT)")
    before = path.read_bytes()

    with pytest.raises(LedgerError, match="an SQLite database but not a send ledger"):
        SendLedger(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 2000])
def test_a_file_that_is_not_a_database_is_refused(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    with pytest.raises(LedgerError, match="not a usable send ledger"):
        SendLedger(path)
    assert path.read_bytes() == content


def test_a_ledger_from_a_newer_version_is_refused(path: Path) -> None:
    SendLedger(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 2")
    with pytest.raises(LedgerError, match=r"schema version 2, written by a newer .*reads up to version 1"):
        SendLedger(path)


def test_a_closed_ledger_is_refused(path: Path) -> None:
    ledger = SendLedger(path)
    ledger.close()
    ledger.close()  # closing twice is fine
    with pytest.raises(LedgerError, match="is closed"):
        ledger.send("k", client=mock_client(Counting()), invoice_id=invoice_id(0), body=sms_body())
    with pytest.raises(LedgerError, match="is closed"):
        ledger.records()


def test_resolve_refuses_what_it_cannot_mean(path: Path) -> None:
    with SendLedger(path) as ledger:
        with pytest.raises(LedgerError, match="ledger key 'k' is unknown"):
            ledger.resolve("k", SendState.SENT, "checked")
        ledger.send("k", client=mock_client(Counting()), invoice_id=invoice_id(0), body=sms_body())
        with pytest.raises(ValueError, match="as SENT or NOT_SENT, not PENDING"):
            ledger.resolve("k", SendState.PENDING, "checked")
        with pytest.raises(ValueError, match="needs a note"):
            ledger.resolve("k", SendState.SENT, " ")


# -- keys, and what the file holds -----------------------------------------------------------------------

valid_keys = st.text(
    st.characters(exclude_categories=["Cs"]),  # lone surrogates are refused (tested above)
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(valid_keys, min_size=1, max_size=5, unique=True))
def test_any_text_key_is_kept_exactly_and_sent_once(tmp_path: Path, keys: list[str]) -> None:
    counting = Counting()
    http = mock_client(counting)
    path = tmp_path / f"hyp-{abs(hash(tuple(keys)))}.db"
    path.unlink(missing_ok=True)
    with SendLedger(path) as ledger:
        for key in keys:
            assert ledger.send(key, client=http, invoice_id=invoice_id(0), body=sms_body()).key == key
        for key in keys:
            record = ledger.send(key, client=http, invoice_id=invoice_id(0), body=sms_body())
            assert (record.key, record.skipped) == (key, True)
        assert sorted(r.key for r in ledger.records()) == sorted(keys)
    assert counting.requests == len(keys)


def test_the_file_holds_no_token_and_no_customer_data(sandbox: Served, path: Path) -> None:
    body = sms_body(sender=True)
    with open_ledger(path, sandbox.base_url) as ledger:
        send(ledger, "sync", "ok", 10, sandbox.base_url, body=body)
        send(ledger, "sync", "dropped", 11, sandbox.base_url, "drop-after-send", body=body)
        send(ledger, "sync", "refused", 12, sandbox.base_url, "503", body=body)
        send(ledger, "sync", "paid", 0, sandbox.base_url, invoice=PAID_INVOICE_ID, body=body)
        # Everything the sandbox answered or delivered for these sends: none of it may be stored.
        answered = [sandbox.sandbox.state.invoice(invoice_id(i)) for i in (10, 11)]
        stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))

    customer = [*support.CUSTOMER_MARKERS, workers.SENDER_NAME, workers.SENDER_EMAIL]
    for invoice in answered:
        assert invoice is not None
        customer += [invoice["contactDetails"]["email"], invoice["contactDetails"]["phoneNo"]]
    assert workers.TOKEN.encode() not in stored
    for marker in customer:
        assert marker.encode() not in stored, marker
    assert len(deliveries(sandbox.app)) == 2  # the sends did happen


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.01, 0.03, 0.1])
def test_a_task_cancelled_at_any_moment_leaves_the_key_to_be_sent_exactly_once(
    sandbox: Served, path: Path, delay: float
) -> None:
    async def main() -> list[LedgerRecord]:
        async with client(sandbox.base_url) as http:
            with open_ledger(path, sandbox.base_url, grace_period=1.0) as ledger:
                task = asyncio.create_task(ledger.asend("k", client=http, invoice_id=invoice_id(13), body=sms_body()))
                await asyncio.sleep(delay)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return [
                    await ledger.asend("k", client=http, invoice_id=invoice_id(13), body=sms_body()) for _ in range(3)
                ]

    records = asyncio.run(main())

    # Never stuck "in progress" behind the cancelled task's claim; reconciled, then sent once.
    assert not [r for r in records if r.reason.startswith("in progress elsewhere")]
    assert records[-1].state is SendState.SENT
    assert deliveries(sandbox.app) == {invoice_id(13): 1}


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("grace_period", -1, "grace_period must be >= 0 seconds"),
        ("grace_period", float("nan"), "grace_period must be a finite number"),
        ("max_reads", 0, "max_reads must be an int from 1 to 100"),
        ("max_reads", True, "max_reads must be an int"),
        ("lease", 0, "lease must be > 0 seconds"),
        ("lease", "600", "lease must be a finite number"),
    ],
)
def test_bad_options_are_refused_when_the_ledger_is_made(path: Path, option: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SendLedger(path, **{option: value})


def test_a_ledger_damaged_inside_is_refused(path: Path) -> None:
    counting = Counting()
    with SendLedger(path) as ledger:
        for n in range(300):
            ledger.send(f"key-{n}", client=mock_client(counting), invoice_id=invoice_id(0), body=sms_body())
    # Closing the last connection folds the WAL into the file: damage a page in its middle.
    damaged = bytearray(path.read_bytes())
    assert len(damaged) > 4 * 4096
    damaged[2 * 4096 : 3 * 4096] = b"\xa5" * 4096
    path.write_bytes(bytes(damaged))

    with pytest.raises(LedgerError, match=r"(corrupt|not a usable send ledger \(database disk image is malformed\))"):
        SendLedger(path)


@pytest.mark.parametrize(
    ("read_again", "state"), [(True, SendState.PENDING), (False, SendState.NEEDS_ATTENTION)], ids=["5xx", "404"]
)
def test_an_unreadable_invoice_stays_pending_only_while_reading_again_may_help(
    path: Path, read_again: bool, state: SendState
) -> None:
    # After a 5xx read a later call reads again; a 404 read (no such invoice there) would be
    # refused for ever, so a person decides instead of the key staying pending.
    def unread(**kwargs: Any) -> Reconciliation:
        reason = "the read failed (NotFoundError 404)" if not read_again else "the read failed (ServerError 503)"
        return Reconciliation(
            Outcome.UNDETERMINED, kwargs["invoice_id"], reason, None, None, None, None, 1, read_again=read_again
        )

    def dropped(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    with SendLedger(path, reconciler=unread) as ledger:
        record = ledger.send("k", client=mock_client(dropped), invoice_id=workers.invoice_id(0), body=sms_body())

    assert record.state is state
    assert ("not reconciled yet" in record.reason) is read_again
