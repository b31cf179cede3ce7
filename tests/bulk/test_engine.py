"""`run_bulk`, the engine behind the command, over an in-memory API and a real ledger file."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from leadway_invoices_client import AuthenticatedClient, Outcome, Pacer, Reconciliation, SendLedger, SendState
from leadway_invoices_client._bulk.engine import RowResult, run_bulk
from leadway_invoices_client._bulk.rows import BulkRow
from leadway_invoices_client.models import SendAction

from scripts.project import example

ANSWER = json.dumps(example("response", "leadwayPage")).encode()


def rows(count: int, locations: int) -> list[BulkRow]:
    return [
        BulkRow(n + 2, f"k{n}", f"inv{n}", f"loc{n % locations}", "user", SendAction.SMS, False) for n in range(count)
    ]


class Api:
    """Answers 200 after a short pause; records the order of sends per location and the peak in flight."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.in_flight = 0
        self.peak = 0
        self.fail = fail or set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.002)
            invoice = request.url.path.split("/")[2]
            if invoice in self.fail:
                raise httpx.ReadTimeout("no answer", request=request)
            self.sent.append((json.loads(request.content)["altId"], invoice))
            return httpx.Response(200, content=ANSWER, headers={"Content-Type": "application/json"})
        finally:
            self.in_flight -= 1


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
