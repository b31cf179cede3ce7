"""The receiver: verify, record durably (once per webhookId), then 200; 401 for a bad signature, 429
when the ledger cannot record, so that HighLevel delivers it again."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from leadway_invoices_client import SendLedger, SendState
from leadway_invoices_client._ledger.records import stamp
from leadway_invoices_client.webhooks import WebhookReceiver, WebhookVerifier

from .signing import INVOICE, body, ed25519_private, ed25519_signature, pem


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[SendLedger]:
    with SendLedger(tmp_path / "l.db") as opened:
        yield opened


def _client(ledger: SendLedger, **kw: object) -> httpx.AsyncClient:
    app = WebhookReceiver(ledger, WebhookVerifier(ed25519_key=pem(ed25519_private())), **kw)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver")


def _delivery(webhook_id: str, **kw: object) -> tuple[bytes, dict[str, str]]:
    data = body(webhook_id, at=dt.datetime.now(dt.UTC), **kw)  # type: ignore[arg-type]
    return data, {"X-GHL-Signature": ed25519_signature(data), "content-type": "application/json"}


async def test_a_verified_delivery_is_recorded_once_and_answered_200(ledger: SendLedger) -> None:
    data, headers = _delivery("wh-1")
    async with _client(ledger) as client:
        first = await client.post("/", content=data, headers=headers)
        again = await client.post("/", content=data, headers=headers)
    assert (first.status_code, first.json()) == (200, {"recorded": True, "settled": []})
    assert (again.status_code, again.json()) == (200, {"recorded": False, "settled": []})
    [event] = ledger.events(INVOICE)
    assert (event.webhook_id, event.event_type) == ("wh-1", "InvoiceSent")


async def test_a_bad_signature_is_401_and_echoes_nothing(ledger: SendLedger) -> None:
    data, headers = _delivery("wh-1")
    forged = data.replace(b'"total":999', b'"total":1')
    async with _client(ledger) as client:
        bad = await client.post("/", content=forged, headers=headers)
        unsigned = await client.post("/", content=data)
    assert bad.status_code == unsigned.status_code == 401
    assert headers["X-GHL-Signature"] not in bad.text
    assert "999" not in bad.text
    assert INVOICE not in bad.text
    assert ledger.events(INVOICE) == []


async def test_other_paths_methods_and_oversized_bodies_are_refused(ledger: SendLedger) -> None:
    data, headers = _delivery("wh-1")
    async with _client(ledger, max_body=100) as client:
        assert (await client.post("/other", content=data, headers=headers)).status_code == 404
        got = await client.get("/")
        assert (got.status_code, got.headers["allow"]) == (405, "POST")
        assert (await client.post("/", content=data, headers=headers)).status_code == 413


async def test_a_signed_body_that_is_no_event_is_400(ledger: SendLedger) -> None:
    data = json.dumps({"webhookId": "w", "timestamp": stamp(dt.datetime.now(dt.UTC))}).encode()
    async with _client(ledger) as client:
        answer = await client.post("/", content=data, headers={"x-ghl-signature": ed25519_signature(data)})
    assert answer.status_code == 400
    assert "_id" in answer.json()["error"]


async def test_a_ledger_that_cannot_be_written_answers_429_and_the_retry_lands(ledger: SendLedger) -> None:
    data, headers = _delivery("wh-1")
    assert ledger.path is not None  # a file: another connection holds its write lock
    blocker = sqlite3.connect(ledger.path, timeout=0)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock past the timeout
    from leadway_invoices_client._ledger import sqlite as ledger_sqlite

    original = ledger_sqlite.BUSY_TIMEOUT_MS
    ledger_sqlite.BUSY_TIMEOUT_MS = 50
    try:
        async with _client(ledger) as client:
            refused = await client.post("/", content=data, headers=headers)
            blocker.rollback()
            retried = await client.post("/", content=data, headers=headers)
    finally:
        ledger_sqlite.BUSY_TIMEOUT_MS = original
        blocker.close()
    assert refused.status_code == 429
    assert (retried.status_code, retried.json()["recorded"]) == (200, True)


async def test_an_event_settles_a_key_needing_attention(ledger: SendLedger) -> None:
    attempt = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    assert ledger.path is not None
    conn = sqlite3.connect(ledger.path)
    conn.execute(
        "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, attempted_at, updated_at)"
        " VALUES ('k', ?, 'loc', 'location', 'needs_attention', 'undetermined', 1, ?, ?)",
        (INVOICE, stamp(attempt), stamp(attempt)),
    )
    conn.commit()
    conn.close()
    data, headers = _delivery("wh-9")
    async with _client(ledger) as client:
        answer = await client.post("/", content=data, headers=headers)
    assert answer.json() == {"recorded": True, "settled": ["k"]}
    record = ledger.get("k")
    assert record is not None
    assert record.state is SendState.SENT
    assert "InvoiceSent webhook wh-9" in record.reason


async def test_concurrent_deliveries_are_each_recorded(ledger: SendLedger) -> None:
    deliveries = [_delivery(f"wh-{n}") for n in range(50)]
    async with _client(ledger) as client:
        answers = await asyncio.gather(*(client.post("/", content=d, headers=h) for d, h in deliveries))
    assert {a.status_code for a in answers} == {200}
    assert len(ledger.events(INVOICE)) == 50


def test_a_receiver_of_your_own_records_through_ledger_event(tmp_path: Path) -> None:
    from leadway_invoices_client.webhooks import ledger_event, verify_webhook

    data, headers = _delivery("wh-own")
    with SendLedger(tmp_path / "own.db") as own:
        outcome = own.record_webhook(ledger_event(verify_webhook(data, headers, ed25519_key=pem(ed25519_private()))))
        again = own.record_webhook(ledger_event(verify_webhook(data, headers, ed25519_key=pem(ed25519_private()))))
    assert (outcome.new, again.new) == (True, False)
    assert outcome.event.event_type == "InvoiceSent"
    assert outcome.event.sent_at.endswith("+00:00")
