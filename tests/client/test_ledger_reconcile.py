"""The send ledger with the package's own reconciliation (reading the invoice with GET), against
the sandbox over a socket: each fault's unknown outcome ends as what really happened, and the
outbox shows each invoice delivered exactly once."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from leadway_invoices_client import LedgerRecord, Outcome, SendLedger, SendState
from starlette.applications import Starlette

from scripts.sandbox import Sandbox, serve_in_thread

from . import ledger_support as support
from .ledger_support import deliveries
from .ledger_workers import client, invoice_id, send_all, sms_body

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Starlette, str]]:
    app = support.create_sandbox(tmp_path_factory.mktemp("sandbox"), 20)
    with serve_in_thread(app) as base_url:
        yield app, base_url


@pytest.fixture
def sandbox(served: tuple[Starlette, str]) -> tuple[Starlette, str]:
    state: Sandbox = served[0].state.sandbox
    state.reset()
    return served


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
    sandbox: tuple[Starlette, str], tmp_path: Path, mode: str, fault: str
) -> None:
    app, base_url = sandbox
    with SendLedger(tmp_path / "sends.db", grace_period=2.0, max_reads=4) as ledger:
        unknown = send(ledger, mode, app, 1, base_url, fault)
        again = send(ledger, mode, app, 1, base_url)

    assert (unknown.state, unknown.skipped) == (SendState.SENT, False)
    assert unknown.evidence is not None
    assert (unknown.evidence.outcome, unknown.evidence.after_status) == (Outcome.SENT, "sent")
    assert unknown.reason.startswith("outcome unknown: OutcomeUnknownError (RemoteProtocolError); reconciled SENT: ")
    assert again.skipped
    assert deliveries(app) == {invoice_id(1): 1}


def test_a_send_that_did_not_land_is_reconciled_not_sent_then_sent_once(
    sandbox: tuple[Starlette, str], tmp_path: Path, mode: str
) -> None:
    app, base_url = sandbox
    with SendLedger(tmp_path / "sends.db", grace_period=0.3, max_reads=2) as ledger:
        unknown = send(ledger, mode, app, 2, base_url, "503")
        sent = send(ledger, mode, app, 2, base_url)

    assert unknown.state is SendState.NOT_SENT
    assert unknown.evidence is not None
    assert (unknown.evidence.after_status, unknown.evidence.reads) == ("draft", 2)
    assert (sent.state, sent.attempts) == (SendState.SENT, 2)
    assert deliveries(app) == {invoice_id(2): 1}


def test_an_unknown_resend_of_a_sent_invoice_needs_attention(
    sandbox: tuple[Starlette, str], tmp_path: Path, mode: str
) -> None:
    app, base_url = sandbox
    with SendLedger(tmp_path / "sends.db", grace_period=0.2, max_reads=2) as ledger:
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


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_worker_killed_mid_send_is_reconciled_from_the_invoice(
    sandbox: tuple[Starlette, str], tmp_path: Path
) -> None:
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
    sandbox: tuple[Starlette, str], tmp_path: Path, mode: str
) -> None:
    app, base_url = sandbox
    with SendLedger(tmp_path / "sends.db", grace_period=0.2, max_reads=2) as ledger:
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
