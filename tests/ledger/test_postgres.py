"""The PostgreSQL ledger's tables on a real server: created once, versioned, another program's refused,
and leases read on the database's clock whatever this host's clock says."""

from __future__ import annotations

import threading
import time
from typing import Any, LiteralString

import psycopg
import pytest
from leadway_invoices_client import Outcome, SendLedger, SendState
from leadway_invoices_client._ledger.postgres import APPLICATION, SCHEMA_VERSION
from leadway_invoices_client._ledger.records import WebhookEvent

from .draft_sandbox import CUSTOMER_MARKERS, Served, deliveries
from .ledger_workers import TOKEN, client, invoice_id, open_ledger, sms_body


def sql(url: str, statement: LiteralString, *params: Any) -> list[tuple[Any, ...]]:
    """Run `statement` in the URL's schema; its rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


def test_a_new_database_gets_the_tables_and_a_version_record(pg_url: str) -> None:
    SendLedger(pg_url).close()
    assert sql(pg_url, "SELECT application, version FROM leadway_ledger") == [(APPLICATION, SCHEMA_VERSION)]
    SendLedger(pg_url).close()  # opened again: unchanged, not created twice
    assert sql(pg_url, "SELECT count(*) FROM leadway_ledger") == [(1,)]


def test_a_ledger_written_by_a_newer_version_is_refused_with_a_clear_error(pg_url: str) -> None:
    SendLedger(pg_url).close()
    sql(pg_url, "UPDATE leadway_ledger SET version = %s", SCHEMA_VERSION + 1)
    with pytest.raises(ValueError, match=rf"schema version {SCHEMA_VERSION + 1}, written by a newer .* upgrade the"):
        SendLedger(pg_url)


def test_a_version_1_ledger_is_upgraded_in_one_transaction_keeping_every_row(pg_url: str) -> None:
    # Version 1 (this release's first PostgreSQL tables) had no webhook events: made so by hand.
    SendLedger(pg_url).close()
    sql(pg_url, "DROP TABLE leadway_webhook_events")
    sql(pg_url, "DROP INDEX leadway_sends_by_invoice")
    sql(pg_url, "UPDATE leadway_ledger SET version = 1")
    sql(
        pg_url,
        "INSERT INTO leadway_sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, updated_at)"
        " VALUES ('old', 'inv-1', 'loc', 'location', 'sent', 'sent', 1, '2026-12-01T10:00:00+00:00')",
    )

    with SendLedger(pg_url) as ledger:
        record = ledger.get("old")
        outcome = ledger.record_webhook(
            WebhookEvent("wh-1", "inv-1", "InvoiceSent", "2026-12-01T10:00:01+00:00", "2026-12-01T10:00:02+00:00")
        )

    assert sql(pg_url, "SELECT version FROM leadway_ledger") == [(SCHEMA_VERSION,)] == [(2,)]
    assert record is not None
    assert record.state is SendState.SENT
    assert outcome.new
    assert outcome.settled == ()
    assert sql(pg_url, "SELECT webhook_id FROM leadway_webhook_events") == [("wh-1",)]


def test_another_programs_table_of_the_same_name_is_refused_and_left_alone(pg_url: str) -> None:
    sql(pg_url, "CREATE TABLE leadway_sends (anything integer)")
    with pytest.raises(ValueError, match="has a table leadway_sends but no leadway_ledger: not a send ledger"):
        SendLedger(pg_url)
    assert sql(pg_url, "SELECT to_regclass('leadway_ledger') IS NULL") == [(True,)]


def test_hosts_opening_a_new_database_at_once_create_it_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            SendLedger(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_close) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sql(pg_url, "SELECT count(*) FROM leadway_ledger") == [(1,)]


def _held_by_another_host(url: str, key: str, index: int, lease_seconds: float) -> None:
    """A row as a send on another host leaves it: PENDING, its claim held until a lease on the database's clock."""
    sql(
        url,
        "UPDATE leadway_sends SET state = 'pending', reason = 'sending', owner_claim = 'c0ffee',"
        " owner_host = 'another-host', owner_namespace = '', owner_pid = 4242, owner_start = '',"
        " lease_until = extract(epoch FROM clock_timestamp()) + %s WHERE key = %s",
        lease_seconds,
        key,
    )
    assert sql(url, "SELECT invoice_id FROM leadway_sends WHERE key = %s", key) == [(invoice_id(index),)]


@pytest.mark.parametrize("skew", [-30.0, 30.0])
def test_leases_run_on_the_database_clock_whatever_this_hosts_clock_says(
    sandbox: Served, pg_url: str, monkeypatch: pytest.MonkeyPatch, skew: float
) -> None:
    with open_ledger(pg_url, sandbox.base_url) as ledger, client(sandbox.base_url) as http:
        # A key another host claimed (its row recorded first by a send that was refused here).
        ledger.send("k", client=http, invoice_id=invoice_id(3), body=sms_body())
        sandbox.sandbox.reset()
        _held_by_another_host(pg_url, "k", 3, lease_seconds=5.0)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + skew)  # this host's clock 30 s off

        running = ledger.send("k", client=http, invoice_id=invoice_id(3), body=sms_body())
        assert (running.skipped, running.reason) == (True, "in progress elsewhere (pid 4242)")

        _held_by_another_host(pg_url, "k", 3, lease_seconds=-0.001)  # its lease ran out: reconciled
        monkeypatch.setattr(time, "time", real)  # (the stand-in reconciler reads the sandbox on this clock)
        expired = ledger.send("k", client=http, invoice_id=invoice_id(3), body=sms_body())

    # Read first (the evidence of a reconciliation): the invoice showed it was not sent, so sent now.
    assert expired.state is SendState.SENT
    assert expired.evidence is not None
    assert expired.evidence.outcome is Outcome.NOT_SENT
    assert deliveries(sandbox.app) == {invoice_id(3): 1}


def test_a_send_whose_outcome_is_unknown_to_another_host_is_never_resent_blindly(sandbox: Served, pg_url: str) -> None:
    """The other host sent, then stalled past its lease: the key is read before anything is sent."""
    with open_ledger(pg_url, sandbox.base_url) as ledger, client(sandbox.base_url) as http:
        ledger.send("k", client=http, invoice_id=invoice_id(4), body=sms_body())  # delivered once
        _held_by_another_host(pg_url, "k", 4, lease_seconds=-0.001)
        again = ledger.send("k", client=http, invoice_id=invoice_id(4), body=sms_body())
    assert (again.state, again.skipped) == (SendState.SENT, True)
    assert "reconciled SENT" in again.reason
    assert deliveries(sandbox.app) == {invoice_id(4): 1}


def test_the_server_keeps_no_token_and_no_customer_data(sandbox: Served, pg_url: str) -> None:
    with open_ledger(pg_url, sandbox.base_url) as ledger, client(sandbox.base_url) as http:
        for index in range(3):
            ledger.send(f"k{index}", client=http, invoice_id=invoice_id(index), body=sms_body())
    stored = " ".join(str(row) for row in sql(pg_url, "SELECT * FROM leadway_sends"))
    assert "k0" in stored
    for secret in (TOKEN, *CUSTOMER_MARKERS):
        assert secret not in stored
