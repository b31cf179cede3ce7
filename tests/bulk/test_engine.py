"""`_bulk/engine.py`: `run_bulk`, the engine behind the command, over an in-memory API and a real ledger
file; and the command killed mid-run and run again, over a real socket (the engine's promise: a run
killed at any point can simply be run again)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from leadway_invoices_client import AuthenticatedClient, Outcome, Pacer, Reconciliation, SendLedger, SendState
from leadway_invoices_client._bulk.engine import RowResult, run_bulk
from leadway_invoices_client._bulk.rows import BulkRow
from leadway_invoices_client._bulk.tally import ExitCode, tally
from leadway_invoices_client._ledger.sqlite import SqliteTx
from leadway_invoices_client._runtime.constants import BULK_CONCURRENCY
from leadway_invoices_client.cli.command import default_ledger
from leadway_invoices_client.models import SendAction

from scripts.project import READ_PATH, example

from .processes import command, command_env, summary_block
from .world import World, build

ANSWER = json.dumps(example("response", "leadwayPage")).encode()
READ_BODY = example("response", "upstreamExample", path=READ_PATH, method="get")


def rows(count: int, locations: int) -> list[BulkRow]:
    return [
        BulkRow(n + 2, f"k{n}", f"inv{n}", f"loc{n % locations}", "user", SendAction.SMS, False) for n in range(count)
    ]


class Api:
    """Answers 200 after a short pause; records the order of sends per location and the peak in
    flight. Every invoice reads draft until it is sent (the read before a key's first send)."""

    def __init__(self, fail: set[str] | None = None, refuse_token: bool = False) -> None:
        self.sent: list[tuple[str, str]] = []
        self.reads: list[str] = []
        self.requests = 0
        self.in_flight = 0
        self.peak = 0
        self.per_invoice: Counter[str] = Counter()
        self.peak_per_invoice = 0
        self.fail = fail or set()
        self.refuse_token = refuse_token

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.refuse_token:
            return httpx.Response(401, json={"statusCode": 401, "message": "Invalid JWT"})
        invoice = request.url.path.split("/")[2]
        self.in_flight += 1
        self.per_invoice[invoice] += 1
        self.peak = max(self.peak, self.in_flight)
        self.peak_per_invoice = max(self.peak_per_invoice, self.per_invoice[invoice])
        try:
            await asyncio.sleep(0.002)
            if request.method == "GET":
                self.reads.append(invoice)
                status = "sent" if invoice in {sent for _, sent in self.sent} else "draft"
                return httpx.Response(200, json={**READ_BODY, "_id": invoice, "status": status})
            if invoice in self.fail:
                raise httpx.ReadTimeout("no answer", request=request)
            self.sent.append((json.loads(request.content)["altId"], invoice))
            return httpx.Response(200, content=ANSWER, headers={"Content-Type": "application/json"})
        finally:
            self.in_flight -= 1
            self.per_invoice[invoice] -= 1


def client(api: Api) -> AuthenticatedClient:
    return AuthenticatedClient(
        "https://api.test", "real-token-0123456789", pacer=Pacer(), httpx_args={"transport": httpx.MockTransport(api)}
    )


async def test_every_row_is_sent_once_concurrently_across_locations_in_file_order_within_each(tmp_path: Path) -> None:
    api = Api()
    todo = rows(40, 4)
    with SendLedger(tmp_path / "l.sqlite3") as ledger:
        async with client(api) as c:
            report = await run_bulk(todo, ledger=ledger, client=c, per_location=1, concurrency=8)

    assert sorted(r.row.key for r in report.results) == sorted(r.key for r in todo)
    assert {r.record.state for r in report.results if r.record} == {SendState.SENT}
    assert report.not_started == []
    assert not report.interrupted
    for location in {row.location_id for row in todo}:
        in_file = [row.invoice_id for row in todo if row.location_id == location]
        assert [invoice for loc, invoice in api.sent if loc == location] == in_file
    assert api.peak > 1  # locations went at once


async def test_a_stop_starts_no_new_send_and_lists_the_rows_not_started(tmp_path: Path) -> None:
    api = Api()
    stop = asyncio.Event()
    todo = rows(30, 3)

    def on_result(result: RowResult) -> None:
        if len(api.sent) >= 5:
            stop.set()

    with SendLedger(tmp_path / "l.sqlite3") as ledger:
        async with client(api) as c:
            report = await run_bulk(todo, ledger=ledger, client=c, stop=stop, on_result=on_result, concurrency=4)
        pending = [r for r in ledger.records() if r.state is SendState.PENDING]

    assert report.interrupted
    assert len(report.results) == len(api.sent) < 30
    assert sorted(row.key for row in report.not_started) == sorted(
        row.key for row in todo if row.key not in {r.row.key for r in report.results}
    )
    assert pending == []


async def test_the_first_401_stops_the_run_the_token_is_refused_for_every_row(tmp_path: Path) -> None:
    api = Api(refuse_token=True)
    todo = rows(20, 4)
    with SendLedger(tmp_path / "l.sqlite3") as ledger:
        async with client(api) as c:
            report = await run_bulk(todo, ledger=ledger, client=c, concurrency=1)

    assert api.requests == 1
    assert report.token_refused
    assert not report.interrupted
    assert [(r.record.state, r.record.status_code) for r in report.results if r.record] == [(SendState.NOT_SENT, 401)]
    assert len(report.not_started) == 19


async def test_an_invoice_on_several_rows_is_sent_by_one_row_at_a_time(tmp_path: Path) -> None:
    api = Api()
    repeated = [
        BulkRow(2, "nov", "inv0", "loc0", "user", SendAction.SMS, False),
        BulkRow(3, "nov-reminder", "inv0", "loc0", "user", SendAction.SMS, False, resend=True),
        BulkRow(4, "nov-again", "inv0", "loc0", "user", SendAction.SMS, False),
        BulkRow(5, "other", "inv1", "loc0", "user", SendAction.SMS, False),
    ]
    with SendLedger(tmp_path / "l.sqlite3") as ledger:
        async with client(api) as c:
            report = await run_bulk(repeated, ledger=ledger, client=c, per_location=4, concurrency=4)

    states = {r.row.key: r.record.state for r in report.results if r.record}
    assert api.peak_per_invoice == 1
    assert states == {
        "nov": SendState.SENT,
        "nov-reminder": SendState.SENT,  # a deliberate resend
        "nov-again": SendState.REFUSED,  # read before its first send: no longer a draft
        "other": SendState.SENT,
    }
    assert Counter(invoice for _, invoice in api.sent) == {"inv0": 2, "inv1": 1}


async def test_an_outcome_the_ledger_cannot_record_is_reported_as_needing_attention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_outcome = SqliteTx.write_outcome

    def disk_full(self: SqliteTx, **kwargs: Any) -> Any:
        if kwargs["state"] is SendState.SENT:
            raise sqlite3.OperationalError("database or disk is full")
        return write_outcome(self, **kwargs)

    monkeypatch.setattr(SqliteTx, "write_outcome", disk_full)
    with SendLedger(tmp_path / "l.sqlite3") as ledger:
        async with client(Api()) as c:
            report = await run_bulk(rows(1, 1), ledger=ledger, client=c)
    counted = tally(report)

    assert report.results[0].bad_input is None
    [attention] = counted.attention
    assert attention.reason.startswith("outcome unknown to the ledger: the API answered the send with")
    assert "disk is full" in attention.reason
    assert counted.not_sent == []
    assert counted.exit_code is ExitCode.NOT_ALL_SENT


async def test_a_key_left_pending_and_reconciled_as_not_sent_is_sent_in_the_same_run(tmp_path: Path) -> None:
    # First run: no answer, and the invoice cannot be read back: the key stays pending.
    todo = rows(1, 1)

    async def unreadable(**kwargs: Any) -> Any:
        raise RuntimeError("cannot read the invoice")

    with SendLedger(tmp_path / "l.sqlite3", areconciler=unreadable) as ledger:
        async with client(Api(fail={"inv0"})) as c:
            first = await run_bulk(todo, ledger=ledger, client=c)
    assert first.results[0].record is not None
    assert first.results[0].record.state is SendState.PENDING

    async def not_sent(**kwargs: Any) -> Any:
        return Reconciliation(Outcome.NOT_SENT, "inv0", "status unchanged", "draft", None, "draft", None, 2)

    api = Api()
    with SendLedger(tmp_path / "l.sqlite3", areconciler=not_sent) as ledger:
        async with client(api) as c:
            second = await run_bulk(todo, ledger=ledger, client=c)

    record = second.results[0].record
    assert record is not None
    assert (record.state, record.skipped, api.sent) == (SendState.SENT, False, [("loc0", "inv0")])


async def test_bad_limits_are_refused(tmp_path: Path) -> None:
    with SendLedger(tmp_path / "l.sqlite3") as ledger, pytest.raises(ValueError, match="at least 1"):
        await run_bulk([], ledger=ledger, client=client(Api()), per_location=0)


# --- Killed and run again: the command over a real socket -----------------------------------------
# A bulk send killed with SIGKILL mid-run several times, then finished. The sandbox runs in its own
# process with per-invoice faults (`--faults`); the command sends no fault header. Whatever the kills
# interrupt (a send in flight, a reconciliation, a ledger write), the end state must be: every
# deliverable invoice delivered exactly once, and every other row in the final summary with its reason.

ROWS = 300
LOCATIONS = 5
KILLS = 3


# Row index -> what it is. Spread over the file and over the locations (index % LOCATIONS).
SPECIAL = {
    **{i: "404" for i in range(7, ROWS, 61)},
    **{i: "void" for i in range(13, ROWS, 67)},
    **{i: "paid" for i in range(19, ROWS, 71)},
    **{i: "503" for i in range(23, ROWS, 53)},
    **{i: "html-500" for i in range(29, ROWS, 59)},
    **{i: "drop-after-send" for i in range(31, ROWS, 43)},
    **{i: "delayed-send:0.3" for i in range(37, ROWS, 73)},
}


# How each kind of row must end: the ledger state and what its reason names.
ENDS = {
    "sent": (SendState.SENT, ""),
    "drop-after-send": (SendState.SENT, ""),
    "delayed-send:0.3": (SendState.SENT, ""),
    "404": (SendState.REFUSED, "404"),
    "void": (SendState.REFUSED, "reads void, not draft"),
    "paid": (SendState.REFUSED, "reads paid, not draft"),
    "503": (SendState.NOT_SENT, "503"),
    "html-500": (SendState.NOT_SENT, "500"),
}


def _deliveries_by_invoice(outbox: list[dict[str, Any]]) -> Counter[str]:
    return Counter(delivery["invoiceId"] for delivery in outbox)


def _run_until(argv: list[str], sandbox: Any, deliveries: int, timeout: float = 60) -> int | None:
    """Run the command; SIGKILL it once the outbox holds `deliveries` (None: it ended first)."""
    process = subprocess.Popen(argv, env=command_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if len(sandbox.outbox()) >= deliveries:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return deliveries
            time.sleep(0.02)
        return None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_sigkilled_runs_resume_to_exactly_once(tmp_path: Path, sandbox_process: Any) -> None:
    world: World = build(ROWS, LOCATIONS, SPECIAL)
    rows, invoices, faults = world.write(tmp_path)
    fault_args = ["--faults", str(faults)] if world.faults else []
    sandbox = sandbox_process(
        "--invoices", str(invoices), *fault_args, "--burst-limit", "40", "--burst-interval-ms", "1000"
    )
    argv = command(rows, sandbox.url, "--grace-period", "1.5")
    deliverable = world.deliverable
    rng = random.Random(12)
    # Kill points spread over the run: a random count of deliveries in each third of it.
    points = [
        rng.randint(int(len(deliverable) * (k + 0.15) / KILLS), int(len(deliverable) * (k + 0.8) / KILLS))
        for k in range(KILLS)
    ]

    started = time.monotonic()
    killed = [_run_until(argv, sandbox, point) for point in points]
    killed_after = time.monotonic() - started
    finished = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=60)
    finished_after = time.monotonic() - started
    outbox = sandbox.outbox()
    again = subprocess.run(argv, env=command_env(), capture_output=True, text=True, timeout=60)
    print(
        f"\nkills done {killed_after:.1f} s, finished {finished_after:.1f} s, again {time.monotonic() - started:.1f} s"
    )

    assert killed == points, "every kill landed mid-run"
    per_invoice = _deliveries_by_invoice(outbox)
    assert {invoice: per_invoice[invoice] for invoice in deliverable} == dict.fromkeys(deliverable, 1)
    assert set(per_invoice) == deliverable, "nothing undeliverable was delivered"
    assert finished.returncode == 1, finished.stderr
    with SendLedger(default_ledger()) as ledger:
        records = {record.key: record for record in ledger.records()}
    assert set(records) == set(world.expected)
    outcomes: Counter[str] = Counter()
    for key, kind in world.expected.items():
        record = records[key]
        state, names = ENDS[kind]
        if state is SendState.SENT:
            assert record.state is SendState.SENT, (key, kind, record)
            outcomes["sent" if kind == "sent" else f"sent despite {kind}"] += 1
            continue
        # A row refused (an unknown invoice, or one no longer a draft when read before its first send)
        # or faulted is not sent, with the status in its reason; or, when a kill left it pending and
        # reading the invoice cannot tell (a paid or void invoice's status does not change with a
        # send, and an unknown invoice's read is a 404 that no later read cures), it needs attention:
        # never resent, shown with its evidence. Never sent either way.
        assert (record.state, names in record.reason) == (state, True) or (
            record.state is SendState.NEEDS_ATTENTION and record.evidence is not None
        ), (key, kind, record)
        outcomes[f"{kind}: {record.state}"] += 1
        block = summary_block(finished.stdout, key)
        assert (names if record.state is state else "reconciled") in block, block
    attention = sum(n for outcome, n in outcomes.items() if outcome.endswith(SendState.NEEDS_ATTENTION))
    assert attention <= KILLS * BULK_CONCURRENCY, "only rows in flight at a kill can need attention"
    # A further run sends nothing again and says the same.
    assert _deliveries_by_invoice(sandbox.outbox()) == per_invoice
    assert again.returncode == 1
    print(f"\nrows {ROWS}, kills at deliveries {points}, deliveries {len(outbox)}, per outcome {dict(outcomes)}")


@pytest.mark.slow
def test_a_token_the_api_refuses_stops_the_run_and_names_the_variable(tmp_path: Path, sandbox_process: Any) -> None:
    world = build(12, 2, {})
    rows, invoices, _ = world.write(tmp_path)
    sandbox = sandbox_process("--invoices", str(invoices))
    wrong = "wrong-token-0123456789abcdef"

    run = subprocess.run(
        command(rows, sandbox.url),
        env={**command_env(), "LEADWAY_API_TOKEN": wrong},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == ExitCode.NOT_ALL_SENT, run.stderr
    assert "it refused the token in $LEADWAY_API_TOKEN" in run.stdout
    assert wrong not in run.stdout + run.stderr
    assert sandbox.outbox() == []


@pytest.mark.slow
def test_a_renamed_or_copied_file_sends_nothing_again(tmp_path: Path, sandbox_process: Any) -> None:
    world = build(6, 2, {})
    rows, invoices, _ = world.write(tmp_path)
    sandbox = sandbox_process("--invoices", str(invoices))
    first = subprocess.run(command(rows, sandbox.url), env=command_env(), capture_output=True, text=True, timeout=60)
    renamed = rows.rename(tmp_path / "november-final.csv")
    copied = tmp_path / "elsewhere" / "invoices.csv"
    copied.parent.mkdir()
    copied.write_bytes(renamed.read_bytes())

    # The default ledger is the user's, whatever the file is called or wherever it lies.
    again = [
        subprocess.run(command(path, sandbox.url), env=command_env(), capture_output=True, text=True, timeout=60)
        for path in (renamed, copied)
    ]
    # A ledger of its own knows nothing of the first run: the read before each first send finds the
    # invoices sent already, and refuses them.
    fresh = subprocess.run(
        command(copied, sandbox.url, "--ledger", str(tmp_path / "fresh.sqlite3")),
        env=command_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert first.returncode == 0, first.stderr
    assert [run.returncode for run in again] == [0, 0]
    assert all("by an earlier run" in run.stdout for run in again)
    assert fresh.returncode == 0, fresh.stderr
    assert "Refused (sending again would be refused again) (6):" in fresh.stdout
    assert "not draft" in fresh.stdout
    assert _deliveries_by_invoice(sandbox.outbox()) == dict.fromkeys(world.deliverable, 1)
