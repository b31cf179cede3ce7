"""`_ledger/ledger.py`: the send ledger over a real socket against the sandbox. Each outcome is recorded
as it happened, a SENT key is never sent again, an unknown outcome is reconciled before anything is
resent, bad input is refused before any I/O, and with many senders on one file (threads, tasks,
processes, workers killed mid-send) the outbox proves each invoice was delivered exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import random
import signal
import sqlite3
import sys
import threading
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from leadway_invoices_client import (
    LedgerError,
    LedgerRecord,
    Outcome,
    Reconciliation,
    SendLedger,
    SendState,
)
from leadway_invoices_client._ledger.postgres import PostgresTx
from leadway_invoices_client._ledger.sqlite import SqliteTx
from leadway_invoices_client.models import SendInvoiceRequest
from starlette.applications import Starlette

from scripts.sandbox import PAID_INVOICE_ID, serve_in_thread
from tests.mock_api import SUCCESS_BODY, json_response, mock_client

from . import draft_sandbox
from . import ledger_workers as workers
from .conftest import DRAFTS
from .draft_sandbox import Served, deliveries
from .ledger_workers import SandboxReconciler, client, invoice_id, open_ledger, send_all, sms_body


def send(
    ledger: SendLedger, mode: str, key: str, index: int, base_url: str, fault: str | None = None, **kw: Any
) -> LedgerRecord:
    """One ledger send in `mode`, through a fresh client (an async client belongs to one loop)."""
    body = kw.pop("body", None) or sms_body()
    target = kw.pop("invoice", None) or invoice_id(index)
    options = {name: kw.pop(name) for name in ("only_if_draft", "retry_refused") if name in kw}
    if mode == "sync":
        with client(base_url, fault, **kw) as http:
            return ledger.send(key, client=http, invoice_id=target, body=body, **options)

    async def run() -> LedgerRecord:
        async with client(base_url, fault, **kw) as http:
            return await ledger.asend(key, client=http, invoice_id=target, body=body, **options)

    return asyncio.run(run())


# -- one key, one outcome --------------------------------------------------------------------------


def test_a_sent_key_is_never_sent_again(sandbox: Served, target: str | Path, mode: str) -> None:
    with open_ledger(target, sandbox.base_url) as ledger:
        first = send(ledger, mode, "march-0", 0, sandbox.base_url)
        again = send(ledger, mode, "march-0", 0, sandbox.base_url)

    assert (first.state, first.skipped, first.attempts, first.reason) == (SendState.SENT, False, 1, "sent")
    assert (again.state, again.skipped, again.attempts) == (SendState.SENT, True, 1)
    assert deliveries(sandbox.app) == {invoice_id(0): 1}


def test_a_new_ledger_on_the_same_file_remembers(sandbox: Served, target: str | Path, mode: str) -> None:
    with open_ledger(target, sandbox.base_url) as ledger:
        send(ledger, mode, "k", 0, sandbox.base_url)
    with open_ledger(target, sandbox.base_url) as ledger:
        again = send(ledger, mode, "k", 0, sandbox.base_url)
        assert ledger.get("k") == LedgerRecord("k", invoice_id(0), workers.LOCATION, SendState.SENT, "sent", 1)

    assert again.skipped
    assert deliveries(sandbox.app) == {invoice_id(0): 1}


def test_a_refusal_is_refused_with_its_reason_and_left_alone_unless_asked(
    sandbox: Served, target: str | Path, mode: str
) -> None:
    with open_ledger(target, sandbox.base_url) as ledger:
        refused = send(ledger, mode, "paid", 0, sandbox.base_url, invoice=PAID_INVOICE_ID)
        again = send(ledger, mode, "paid", 0, sandbox.base_url, invoice=PAID_INVOICE_ID)
        asked = send(ledger, mode, "paid", 0, sandbox.base_url, invoice=PAID_INVOICE_ID, retry_refused=True)

    assert (refused.state, refused.reason, refused.skipped, refused.status_code) == (
        SendState.REFUSED,
        "refused: BadRequestError 400: Invoice is already paid and cannot be sent",
        False,
        400,
    )
    # Sending it again would be refused again: left alone, no request made.
    assert (again.state, again.attempts, again.skipped) == (SendState.REFUSED, 1, True)
    assert (asked.state, asked.attempts, asked.skipped) == (SendState.REFUSED, 2, False)
    assert deliveries(sandbox.app) == {}


def test_a_first_send_reads_the_invoice_and_sends_only_a_draft_unless_a_resend_is_asked(
    sandbox: Served, target: str | Path, tmp_path: Path, mode: str
) -> None:
    """A ledger that does not know an earlier send (a renamed file's, another host's) sends nothing twice."""
    with open_ledger(target, sandbox.base_url) as first:
        sent = send(first, mode, "nov", 15, sandbox.base_url, only_if_draft=True)
    with open_ledger(tmp_path / "another.db", sandbox.base_url) as other:
        guarded = send(other, mode, "nov", 15, sandbox.base_url, only_if_draft=True)
        reminder = send(other, mode, "nov-reminder", 15, sandbox.base_url, only_if_draft=False)

    assert sent.state is SendState.SENT
    assert (guarded.state, guarded.status_code) == (SendState.REFUSED, 200)
    assert "the invoice reads sent, not draft" in guarded.reason
    assert reminder.state is SendState.SENT
    assert deliveries(sandbox.app) == {invoice_id(15): 2}


def test_a_reconciled_not_sent_is_read_once_more_before_it_is_resent(
    sandbox: Served, target: str | Path, mode: str
) -> None:
    """A slow send that lands after its grace period: the next call reads the invoice, finds it sent,
    and does not send it again."""
    with open_ledger(target, sandbox.base_url, grace_period=0.05) as ledger:
        unknown = send(ledger, mode, "k", 16, sandbox.base_url, "delayed-send:1.5")
        landed = wait_for(lambda: deliveries(sandbox.app) == {invoice_id(16): 1})
        again = send(ledger, mode, "k", 16, sandbox.base_url)

    assert (unknown.state, landed) == (SendState.NOT_SENT, True)
    assert (again.state, again.skipped) == (SendState.SENT, True)  # skipped: no send in this call
    assert "reconciled SENT" in again.reason
    assert deliveries(sandbox.app) == {invoice_id(16): 1}


def test_an_outcome_the_ledger_cannot_record_is_unknown_not_not_sent(
    sandbox: Served, target: str | Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills (or the database's backend is killed) right after the API answered 200: the
    send happened, whatever the ledger holds."""
    tx: type[SqliteTx | PostgresTx]
    failure: Exception
    if isinstance(target, Path):
        tx, failure, shown = SqliteTx, sqlite3.OperationalError("database or disk is full"), "database or disk is full"
    else:
        tx, failure = PostgresTx, psycopg.errors.AdminShutdown("terminating connection due to administrator command")
        shown = "AdminShutdown: terminating connection"
    write_outcome = tx.write_outcome

    def disk_full(self: Any, **kwargs: Any) -> LedgerRecord:
        if kwargs["state"] is SendState.SENT:
            raise failure
        return write_outcome(self, **kwargs)

    with open_ledger(target, sandbox.base_url) as ledger:
        monkeypatch.setattr(tx, "write_outcome", disk_full)
        unrecorded = send(ledger, mode, "k", 17, sandbox.base_url)
        stored = ledger.get("k")
        monkeypatch.setattr(tx, "write_outcome", write_outcome)
        again = send(ledger, mode, "k", 17, sandbox.base_url)

    assert (unrecorded.state, unrecorded.status_code) == (SendState.PENDING, 200)
    assert unrecorded.reason.startswith("outcome unknown to the ledger: the API answered the send with a 2xx")
    assert shown in unrecorded.reason
    assert stored is not None
    assert stored.state is SendState.PENDING
    assert again.state is SendState.SENT
    assert "reconciled SENT" in again.reason
    assert deliveries(sandbox.app) == {invoice_id(17): 1}


def test_a_key_in_another_unicode_normal_form_is_the_same_key(sandbox: Served, target: str | Path, mode: str) -> None:
    with open_ledger(target, sandbox.base_url) as ledger:
        composed = send(ledger, mode, "caf\u00e9-nov", 18, sandbox.base_url)
        decomposed = send(ledger, mode, "cafe\u0301-nov", 18, sandbox.base_url)

    assert composed.key == decomposed.key == "caf\u00e9-nov"
    assert (decomposed.state, decomposed.skipped) == (SendState.SENT, True)
    assert deliveries(sandbox.app) == {invoice_id(18): 1}


def wait_for(condition: Any, timeout: float = 30.0) -> bool:
    """Whether `condition()` became true within `timeout` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_rate_limit_is_not_sent_then_sent_by_the_next_call(sandbox: Served, target: str | Path, mode: str) -> None:
    with open_ledger(target, sandbox.base_url) as ledger:
        limited = send(ledger, mode, "k", 1, sandbox.base_url, "rate-limit", retry=None)
        sent = send(ledger, mode, "k", 1, sandbox.base_url)

    assert (limited.state, limited.reason) == (SendState.NOT_SENT, "not sent: RateLimitError 429")
    assert (sent.state, sent.attempts, sent.skipped) == (SendState.SENT, 2, False)
    assert deliveries(sandbox.app) == {invoice_id(1): 1}


def test_a_connect_failure_is_not_sent_then_sent(sandbox: Served, target: str | Path, mode: str) -> None:
    closed = "http://127.0.0.1:9"  # discard port: nothing listens, the connection is refused
    with open_ledger(target, sandbox.base_url) as ledger:
        refused = send(ledger, mode, "k", 2, closed)
        sent = send(ledger, mode, "k", 2, sandbox.base_url)

    assert (refused.state, refused.reason) == (SendState.NOT_SENT, "not sent: TransportError (ConnectError)")
    assert (sent.state, sent.attempts) == (SendState.SENT, 2)
    assert deliveries(sandbox.app) == {invoice_id(2): 1}


@pytest.mark.parametrize("fault", ["drop-after-send", "slow:0.6"])
def test_an_unknown_outcome_that_was_sent_is_reconciled_sent_and_never_resent(
    sandbox: Served, target: str | Path, mode: str, fault: str
) -> None:
    timeout = httpx.Timeout(5.0, read=0.2)
    with open_ledger(target, sandbox.base_url, grace_period=1.5) as ledger:
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
    sandbox: Served, target: str | Path, mode: str
) -> None:
    with open_ledger(target, sandbox.base_url) as ledger:
        unknown = send(ledger, mode, "k", 4, sandbox.base_url, "503")
        assert deliveries(sandbox.app) == {}  # not resent within the same call
        sent = send(ledger, mode, "k", 4, sandbox.base_url)

    assert (unknown.state, unknown.skipped) == (SendState.NOT_SENT, False)
    assert unknown.reason == "outcome unknown: ServerError 503; reconciled NOT_SENT: status draft"
    assert (sent.state, sent.attempts) == (SendState.SENT, 2)
    assert deliveries(sandbox.app) == {invoice_id(4): 1}


def test_an_undetermined_outcome_needs_attention_and_is_never_resent_until_resolved(
    sandbox: Served, target: str | Path, mode: str
) -> None:
    reconciler = SandboxReconciler(sandbox.base_url, outcome=Outcome.UNDETERMINED)
    with open_ledger(target, sandbox.base_url, reconciler=reconciler, areconciler=reconciler.asynchronous) as ledger:
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


def test_resolving_as_sent_stops_every_later_send(sandbox: Served, target: str | Path) -> None:
    reconciler = SandboxReconciler(sandbox.base_url, outcome=Outcome.UNDETERMINED)
    with open_ledger(target, sandbox.base_url, reconciler=reconciler) as ledger:
        send(ledger, "sync", "k", 6, sandbox.base_url, "drop-after-send")
        ledger.resolve("k", SendState.SENT, "InvoiceSent webhook received")
        again = send(ledger, "sync", "k", 6, sandbox.base_url)

    assert (again.state, again.skipped) == (SendState.SENT, True)
    assert deliveries(sandbox.app) == {invoice_id(6): 1}


def test_a_failed_reconciliation_stays_pending_and_is_tried_again(
    sandbox: Served, target: str | Path, mode: str
) -> None:
    failing = SandboxReconciler(sandbox.base_url, fail=RuntimeError("invoice unreadable"))
    with SendLedger(target, reconciler=failing, areconciler=failing.asynchronous, grace_period=0) as ledger:
        unknown = send(ledger, mode, "k", 7, sandbox.base_url, "drop-after-send")
    with open_ledger(target, sandbox.base_url) as ledger:
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


def test_a_strict_2xx_contract_violation_is_reconciled(target: str | Path, mode: str) -> None:
    deviating = json_response(200, {**SUCCESS_BODY, "smsData": "not an object"})
    calls: list[str] = []

    def sent(**kwargs: Any) -> Reconciliation:
        calls.append(kwargs["invoice_id"])
        return Reconciliation(Outcome.SENT, kwargs["invoice_id"], "status sent", "draft", None, "sent", None, 1)

    async def asent(**kwargs: Any) -> Reconciliation:
        return sent(**kwargs)

    with SendLedger(target, reconciler=sent, areconciler=asent) as ledger:
        http = mock_client(lambda request: deviating, strict=True)
        if mode == "sync":
            record = ledger.send("k", client=http, invoice_id=workers.invoice_id(0), body=sms_body())
        else:
            record = asyncio.run(ledger.asend("k", client=http, invoice_id=workers.invoice_id(0), body=sms_body()))

    assert record.state is SendState.SENT
    assert record.reason.startswith("outcome unknown: ContractViolationError 200; reconciled SENT")
    assert calls == [workers.invoice_id(0)]


def test_an_interrupted_send_is_left_for_reconciliation(sandbox: Served, target: str | Path) -> None:
    def interrupt(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    with open_ledger(target, sandbox.base_url) as ledger:
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


def test_a_cancelled_task_is_left_for_reconciliation(tmp_path: Path, target: str | Path) -> None:
    async def cancelled(ledger: SendLedger, base_url: str) -> None:
        async with client(base_url, "slow:1") as http:
            task = asyncio.create_task(ledger.asend("k", client=http, invoice_id=invoice_id(9), body=sms_body()))
            while (record := ledger.get("k")) is None or record.state is not SendState.PENDING:  # noqa: ASYNC110
                await asyncio.sleep(0.01)  # the ledger file is the only signal: poll it
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    # A sandbox of its own: the abandoned request may still land a second later (or never, when the
    # cancel came before it left), and no other test may see it.
    app = draft_sandbox.create_sandbox(tmp_path, DRAFTS)
    with serve_in_thread(app) as base_url, open_ledger(target, base_url, grace_period=0) as ledger:
        asyncio.run(cancelled(ledger, base_url))
        left = ledger.get("k")

    assert left is not None
    assert (left.state, left.reason) == (SendState.PENDING, "interrupted: CancelledError")


# -- bad input: a clear error before any I/O -------------------------------------------------------


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
def test_a_bad_key_is_refused_before_any_io(target: str | Path, key: Any, error: type[Exception], message: str) -> None:
    counting = Counting()
    with SendLedger(target) as ledger:
        with pytest.raises(error, match=message):
            ledger.send(key, client=mock_client(counting), invoice_id=invoice_id(0), body=sms_body())
        assert ledger.records() == []
    assert counting.requests == 0


@pytest.mark.parametrize(
    ("invoice", "body", "message"),
    [
        ("../x", sms_body(), "invoice_id contains '/'"),
        ("", sms_body(), "invoice_id must not be empty"),
        (invoice_id(0), {"altId": "x"}, "body must be a SendInvoiceRequest, not dict"),
        (invoice_id(0), SendInvoiceRequest("loc", "nowhere", "u", "sms", False), "altType"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_invoice_id_or_body_is_refused_before_anything_is_recorded(
    target: str | Path, invoice: str, body: Any, message: str
) -> None:
    counting = Counting()
    with SendLedger(target) as ledger:
        with pytest.raises((TypeError, ValueError), match=message):
            ledger.send("k", client=mock_client(counting), invoice_id=invoice, body=body)
        assert ledger.get("k") is None
    assert counting.requests == 0


def test_a_client_that_is_not_one_is_refused_before_anything_is_recorded(target: str | Path) -> None:
    with SendLedger(target) as ledger:
        with pytest.raises(TypeError, match="client must be an AuthenticatedClient, not Client"):
            ledger.send("k", client=httpx.Client(), invoice_id=invoice_id(0), body=sms_body())  # type: ignore[arg-type]
        assert ledger.get("k") is None


def test_a_key_reused_for_another_invoice_is_refused_naming_the_key(target: str | Path, mode: str) -> None:
    counting = Counting()
    with SendLedger(target) as ledger:
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


def test_a_closed_ledger_is_refused(target: str | Path) -> None:
    ledger = SendLedger(target)
    ledger.close()
    ledger.close()  # closing twice is fine
    with pytest.raises(LedgerError, match="is closed"):
        ledger.send("k", client=mock_client(Counting()), invoice_id=invoice_id(0), body=sms_body())
    with pytest.raises(LedgerError, match="is closed"):
        ledger.records()


def test_resolve_refuses_what_it_cannot_mean(target: str | Path) -> None:
    with SendLedger(target) as ledger:
        with pytest.raises(LedgerError, match="ledger key 'k' is unknown"):
            ledger.resolve("k", SendState.SENT, "checked")
        ledger.send("k", client=mock_client(Counting()), invoice_id=invoice_id(0), body=sms_body())
        with pytest.raises(ValueError, match="as SENT or NOT_SENT, not PENDING"):
            ledger.resolve("k", SendState.PENDING, "checked")
        with pytest.raises(ValueError, match="needs a note"):
            ledger.resolve("k", SendState.SENT, " ")


# -- keys, and what the file holds -----------------------------------------------------------------

valid_keys = st.text(
    st.characters(exclude_categories=["Cs"]),  # lone surrogates are refused (tested above)
    min_size=1,
    max_size=60,
    # As the ledger keeps a key: in composed form (NFC; a key typed another way is the same key, tested
    # above). U+F900 is kept as U+8C48, its canonical equivalent.
).map(lambda key: unicodedata.normalize("NFC", key))


def nfc(key: str) -> str:
    return unicodedata.normalize("NFC", key)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(valid_keys, min_size=1, max_size=5, unique_by=nfc))
@example(keys=["\uf900", "Cafe\u0301"])  # a compatibility ideograph and a combining accent: both change under NFC
def test_any_text_key_is_kept_in_its_composed_form_and_sent_once(tmp_path: Path, keys: list[str]) -> None:
    counting = Counting()
    http = mock_client(counting)
    path = tmp_path / f"hyp-{abs(hash(tuple(keys)))}.db"
    path.unlink(missing_ok=True)
    with SendLedger(path) as ledger:
        for key in keys:
            assert ledger.send(key, client=http, invoice_id=invoice_id(0), body=sms_body()).key == nfc(key)
        for key in keys:
            record = ledger.send(key, client=http, invoice_id=invoice_id(0), body=sms_body())
            assert (record.key, record.skipped) == (nfc(key), True)
        assert sorted(r.key for r in ledger.records()) == sorted(map(nfc, keys))
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

    customer = [*draft_sandbox.CUSTOMER_MARKERS, workers.SENDER_NAME, workers.SENDER_EMAIL]
    for invoice in answered:
        assert invoice is not None
        customer += [invoice["contactDetails"]["email"], invoice["contactDetails"]["phoneNo"]]
    assert workers.TOKEN.encode() not in stored
    for marker in customer:
        assert marker.encode() not in stored, marker
    assert len(deliveries(sandbox.app)) == 2  # the sends did happen


@pytest.mark.parametrize("delay", [0.0, 0.002, 0.01, 0.03, 0.1])
def test_a_task_cancelled_at_any_moment_leaves_the_key_to_be_sent_exactly_once(
    sandbox: Served, target: str | Path, delay: float
) -> None:
    async def main() -> list[LedgerRecord]:
        async with client(sandbox.base_url) as http:
            with open_ledger(target, sandbox.base_url, grace_period=1.0) as ledger:
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
        ("grace_period", 3601, "grace_period must be a number of seconds from 0 to 3600"),
        ("max_reads", 0, "max_reads must be an int from 1 to 100"),
        ("max_reads", True, "max_reads must be an int"),
        ("lease", 0, "lease must be > 0 seconds"),
        ("lease", "600", "lease must be a finite number"),
    ],
)
def test_bad_options_are_refused_when_the_ledger_is_made(
    target: str | Path, option: str, value: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SendLedger(target, **{option: value})


# -- many senders, one file ------------------------------------------------------------------------
# Threads, asyncio tasks and processes sending the same keys at once, and workers killed with SIGKILL
# between intent and outcome. The sandbox's outbox proves that every invoice was delivered exactly once.

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork-free spawn semantics of POSIX")

KEYS = [f"key-{i}" for i in range(50)]
SPAWN = multiprocessing.get_context("spawn")


def shuffled(keys: list[str], seed: int) -> list[str]:
    keys = list(keys)
    random.Random(seed).shuffle(keys)
    return keys


def exactly_once(app: Starlette, keys: list[str] = KEYS) -> None:
    assert deliveries(app) == {invoice_id(int(k.split("-")[1])): 1 for k in keys}


def all_sent(path: Path, base_url: str, keys: list[str] = KEYS) -> None:
    with open_ledger(path, base_url) as ledger:
        records = ledger.records()
    assert sorted(r.key for r in records) == sorted(keys)
    assert {r.state for r in records} == {SendState.SENT}


@posix_only
def test_threads_sharing_one_ledger_send_each_key_once(sandbox: Served, path: Path) -> None:
    app, base_url = sandbox
    results: list[tuple[str, str, bool]] = []
    with open_ledger(path, base_url) as ledger, client(base_url) as http:

        def work(seed: int) -> None:
            for key in shuffled(KEYS, seed):
                record = ledger.send(key, client=http, invoice_id=invoice_id(int(key[4:])), body=sms_body())
                results.append((record.key, record.state.value, record.skipped))

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    sent = Counter(key for key, state, skipped in results if not skipped)
    print(f"\n8 threads x {len(KEYS)} keys: {dict(Counter((s, k) for _, s, k in results))}")
    assert len(results) == 8 * len(KEYS)
    assert sent == dict.fromkeys(KEYS, 1)
    assert {state for _, state, _ in results} <= {"sent", "pending"}  # pending: in progress elsewhere
    exactly_once(app)
    all_sent(path, base_url)


@posix_only
def test_threads_with_a_ledger_each_on_one_file_send_each_key_once(sandbox: Served, path: Path) -> None:
    app, base_url = sandbox
    results: list[list[tuple[str, str, bool]]] = []
    threads = [
        threading.Thread(
            target=lambda s=seed: results.append(send_all(str(path), base_url, shuffled(KEYS, s), None, 0))
        )
        for seed in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 6
    assert Counter(key for run in results for key, _, skipped in run if not skipped) == dict.fromkeys(KEYS, 1)
    exactly_once(app)
    all_sent(path, base_url)


@posix_only
def test_asyncio_tasks_send_each_key_once(sandbox: Served, target: str | Path) -> None:
    app, base_url = sandbox

    async def main() -> list[tuple[str, bool]]:
        async with client(base_url) as http:
            with open_ledger(target, base_url) as ledger:

                async def work(seed: int) -> list[tuple[str, bool]]:
                    done = []
                    for key in shuffled(KEYS, seed):
                        record = await ledger.asend(
                            key, client=http, invoice_id=invoice_id(int(key[4:])), body=sms_body()
                        )
                        done.append((record.key, record.skipped))
                    return done

                runs = await asyncio.gather(*(work(seed) for seed in range(8)))
        return [item for run in runs for item in run]

    results = asyncio.run(main())

    assert Counter(key for key, skipped in results if not skipped) == dict.fromkeys(KEYS, 1)
    exactly_once(app)


@posix_only
@pytest.mark.slow
def test_processes_send_each_key_once(sandbox: Served, path: Path) -> None:
    app, base_url = sandbox
    with SPAWN.Pool(8) as pool:
        runs = pool.starmap(send_all, [(str(path), base_url, shuffled(KEYS, seed), None, 0.0) for seed in range(8)])

    results = [item for run in runs for item in run]
    states = Counter((state, skipped) for _, state, skipped in results)
    print(f"\n8 processes x {len(KEYS)} keys: {dict(states)}; deliveries: {sum(deliveries(app).values())}")
    assert len(results) == 8 * len(KEYS)
    assert Counter(key for key, _, skipped in results if not skipped) == dict.fromkeys(KEYS, 1)
    exactly_once(app)
    all_sent(path, base_url)


def wait_for_state(path: Path, key: str, state: SendState, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with SendLedger(path) as ledger:
        while (record := ledger.get(key)) is None or record.state is not state:
            assert time.monotonic() < deadline, f"{key} never became {state}"
            time.sleep(0.02)


@posix_only
@pytest.mark.slow
def test_a_worker_killed_with_its_request_in_flight_is_skipped_while_alive_then_reconciled(
    sandbox: Served, path: Path
) -> None:
    app, base_url = sandbox
    worker = SPAWN.Process(target=send_all, args=(str(path), base_url, ["key-20"], "slow:2", 3.0))
    worker.start()
    wait_for_state(path, "key-20", SendState.PENDING)
    with open_ledger(path, base_url, grace_period=3.0) as ledger, client(base_url) as http:
        meanwhile = ledger.send("key-20", client=http, invoice_id=invoice_id(20), body=sms_body())
        time.sleep(0.5)  # let the worker's request reach the sandbox
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        reconciled = ledger.send("key-20", client=http, invoice_id=invoice_id(20), body=sms_body())
        delivered = deliveries(app).get(invoice_id(20), 0)
        final = ledger.send("key-20", client=http, invoice_id=invoice_id(20), body=sms_body())

    assert (meanwhile.state, meanwhile.skipped) == (SendState.PENDING, True)
    assert meanwhile.reason == f"in progress elsewhere (pid {worker.pid})"
    assert worker.exitcode == -signal.SIGKILL
    assert reconciled.skipped  # reconciled, not resent
    # What reconciliation recorded is what happened: the slow request landed after the kill.
    assert (reconciled.state, delivered) in {(SendState.SENT, 1), (SendState.NOT_SENT, 0)}
    assert reconciled.reason.startswith("left pending by an interrupted send; reconciled")
    assert final.state is SendState.SENT
    exactly_once(app, ["key-20"])


@posix_only
@pytest.mark.slow
def test_a_worker_killed_before_its_request_left_is_reconciled_not_sent_then_sent(sandbox: Served, path: Path) -> None:
    app, base_url = sandbox
    worker = SPAWN.Process(target=workers.park_before_io, args=(str(path), base_url, "key-30"))
    worker.start()
    wait_for_state(path, "key-30", SendState.PENDING)
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    with open_ledger(path, base_url, grace_period=0.2) as ledger, client(base_url) as http:
        assert deliveries(app) == {}
        # One call: reconciled (still a draft: not sent), then sent.
        sent = ledger.send("key-30", client=http, invoice_id=invoice_id(30), body=sms_body())
        again = ledger.send("key-30", client=http, invoice_id=invoice_id(30), body=sms_body())

    assert (sent.state, sent.attempts, sent.skipped) == (SendState.SENT, 2, False)
    assert sent.evidence is not None
    assert (sent.evidence.outcome, sent.evidence.reason) == (Outcome.NOT_SENT, "status draft")
    assert (again.state, again.skipped) == (SendState.SENT, True)
    exactly_once(app, ["key-30"])


@posix_only
@pytest.mark.slow
def test_workers_killed_again_and_again_then_finished_deliver_each_invoice_once(sandbox: Served, path: Path) -> None:
    app, base_url = sandbox
    rng = random.Random(12)
    kills = 0
    for round_ in range(3):
        workers = [
            SPAWN.Process(
                target=send_all, args=(str(path), base_url, shuffled(KEYS, 10 * round_ + n), "slow:0.1", 1.5, True)
            )
            for n in range(3)
        ]
        for worker in workers:
            worker.start()
        # Kill once the round has recorded something new, at a random moment after that.
        with SendLedger(path) as ledger:
            before = len(ledger.records())
            deadline = time.monotonic() + 60
            while len(ledger.records()) <= before and time.monotonic() < deadline:
                time.sleep(0.02)
        time.sleep(rng.uniform(0.1, 0.8))
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGKILL)
                kills += 1
            worker.join()
    with SendLedger(path) as ledger:
        left = Counter(r.state.value for r in ledger.records())
    # Finish: the first run reconciles what the kills left; a reconciled NOT_SENT is sent by the next.
    send_all(str(path), base_url, KEYS, None, 1.5, True)
    send_all(str(path), base_url, KEYS, None, 1.5, True)

    with SendLedger(path) as ledger:
        # How each key ended: sent at once, or reconciled (SENT, or NOT_SENT and then sent).
        ended = Counter(
            r.reason.split(": ")[0].removeprefix("left pending by an interrupted send; ") for r in ledger.records()
        )
    delivered = sum(deliveries(app).values())
    print(
        f"\nkilled {kills} workers in 3 rounds; left behind: {dict(left)}; ended: {dict(ended)}; delivered: {delivered}"
    )
    assert kills >= 3, left
    exactly_once(app)
    all_sent(path, base_url)


@posix_only
def test_threads_and_asyncio_tasks_sharing_one_ledger_send_each_key_once(sandbox: Served, target: str | Path) -> None:
    app, base_url = sandbox
    sent: list[str] = []
    with open_ledger(target, base_url) as ledger:

        def work(seed: int) -> None:
            with client(base_url) as http:
                for key in shuffled(KEYS, seed):
                    record = ledger.send(key, client=http, invoice_id=invoice_id(int(key[4:])), body=sms_body())
                    sent.extend([key] if not record.skipped else [])

        async def tasks() -> None:
            async with client(base_url) as http:

                async def one(seed: int) -> None:
                    for key in shuffled(KEYS, seed):
                        record = await ledger.asend(
                            key, client=http, invoice_id=invoice_id(int(key[4:])), body=sms_body()
                        )
                        sent.extend([key] if not record.skipped else [])

                await asyncio.gather(*(one(seed) for seed in range(100, 104)))

        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        asyncio.run(tasks())
        for thread in threads:
            thread.join()

    assert Counter(sent) == dict.fromkeys(KEYS, 1)
    exactly_once(app)
