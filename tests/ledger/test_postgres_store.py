"""The PostgreSQL store on a real server: the password never shown, one line naming the extra when
psycopg is missing, the heartbeat, location leases, and a killed backend or a restarted server
costing no send and doubling none."""

from __future__ import annotations

import pickle
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from leadway_invoices_client import SendLedger, SendState
from leadway_invoices_client._ledger import postgres_store
from leadway_invoices_client._ledger.postgres_store import is_postgres_url, masked, recorded_invoices

from scripts.pg_server import PgServer

from .draft_sandbox import Served, deliveries
from .ledger_workers import client, invoice_id, open_ledger, sms_body
from .test_postgres import sql


@pytest.mark.parametrize(
    ("url", "shown", "secret"),
    [
        ("postgresql://u:s3cret@db:5432/x", "postgresql://u:***@db:5432/x", "s3cret"),
        ("postgres://u:p%40ss@db/x?sslmode=require", "postgres://u:***@db/x?sslmode=require", "p@ss"),
        ("postgresql://db/x?user=u&password=s3cret", "postgresql://db/x?user=u&password=***", "s3cret"),
        ("postgresql://u@db/x", "postgresql://u@db/x", ""),
    ],
)
def test_a_url_is_shown_with_its_password_masked(url: str, shown: str, secret: str) -> None:
    assert masked(url) == (shown, secret)
    assert is_postgres_url(url)


def test_a_path_is_not_a_url() -> None:
    assert not is_postgres_url("ledger.sqlite3")
    assert not is_postgres_url(Path("postgresql:/x"))


def test_the_password_appears_in_no_repr_error_or_pickle(pg_url: str, pg_server: PgServer) -> None:
    with SendLedger(pg_url) as ledger:
        assert pg_server.password not in repr(ledger)
        assert pg_server.password not in ledger.location
        assert "***" in ledger.location
    wrong = pg_url.replace(pg_server.password, "wrong-" + pg_server.password)
    with pytest.raises(ValueError, match="cannot be opened") as refused:
        SendLedger(wrong)
    for shown in (str(refused.value), repr(refused.value), repr(refused.value.args), pickle.dumps(refused.value)):
        assert pg_server.password not in str(shown)
    assert (refused.value.__cause__, refused.value.__context__) == (None, None)  # psycopg's error not kept


def test_without_psycopg_a_url_gets_one_line_naming_the_extra(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what `import psycopg` finds when it is not installed
    with pytest.raises(ValueError, match=r"^a PostgreSQL ledger needs psycopg and psycopg-pool: pip install ") as err:
        SendLedger(pg_url)
    assert "'leadway-invoices-client[postgres]'" in str(err.value)
    assert "\n" not in str(err.value)


def _lease_left(url: str, key: str) -> float | None:
    found = sql(
        url,
        "SELECT lease_until - extract(epoch FROM clock_timestamp()) FROM leadway_sends"
        " WHERE key = %s AND owner_claim IS NOT NULL",
        key,
    )
    return float(found[0][0]) if found else None


def test_the_heartbeat_renews_the_lease_of_a_send_in_flight(sandbox: Served, pg_url: str) -> None:
    seen: list[float | None] = []
    with open_ledger(pg_url, sandbox.base_url, lease=0.4) as ledger, client(sandbox.base_url, "slow:1.5") as http:
        sending = threading.Thread(
            target=lambda: ledger.send("k", client=http, invoice_id=invoice_id(5), body=sms_body())
        )
        sending.start()
        for _ in range(4):
            time.sleep(0.3)
            seen.append(_lease_left(pg_url, "k"))
        sending.join()
        record = ledger.get("k")
    # Past the first lease's end, still held: renewed by the heartbeat (every 0.1 s).
    assert all(left is not None and left > 0 for left in seen), seen
    assert record is not None
    assert record.state is SendState.SENT
    assert _lease_left(pg_url, "k") is None  # released with the outcome
    assert deliveries(sandbox.app) == {invoice_id(5): 1}


def test_a_location_is_held_by_one_host_at_a_time(pg_url: str) -> None:
    with SendLedger(pg_url, location_lease=0.6) as first, SendLedger(pg_url, location_lease=0.6) as second:
        assert first.shared
        assert first.take_location("loc-a")
        assert not second.take_location("loc-a")
        assert second.take_location("loc-b")  # another location is free
        time.sleep(1.0)  # past the lease: still the first's, its heartbeat renewed it
        assert not second.take_location("loc-a")
        assert first.holds_location("loc-a")
        first.free_location("loc-a")
        assert second.take_location("loc-a")
        assert not first.holds_location("loc-a")


def test_a_host_stalled_past_its_location_lease_loses_the_location(pg_url: str) -> None:
    with SendLedger(pg_url, location_lease=30) as first, SendLedger(pg_url, location_lease=30) as second:
        assert first.take_location("loc-a")
        # The first host stalls: no beat renews the lease before it runs out, and the second takes it.
        sql(pg_url, "UPDATE leadway_location_leases SET lease_until = extract(epoch FROM clock_timestamp()) - 1")
        assert second.take_location("loc-a")
        first._store.renew()  # type: ignore[attr-defined]  # the first wakes up: its next beat
        assert not first.holds_location("loc-a")
        assert second.holds_location("loc-a")


def test_a_file_ledger_is_not_shared_and_gives_every_location(path: Path) -> None:
    with SendLedger(path) as ledger:
        assert not ledger.shared
        assert ledger.take_location("loc-a")
        assert ledger.holds_location("loc-a")


def _kill_backends(server: PgServer) -> int:
    """pg_terminate_backend on every connection of the ledger's user but the one asking."""
    rows = server.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE usename = 'ledger' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )
    killed = rows[0][0]
    assert isinstance(killed, int)
    return killed


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_backend_killed_mid_send_costs_no_send_and_doubles_none(
    sandbox: Served, pg_url: str, pg_server: PgServer, mode: str
) -> None:
    results: list[Any] = []
    with open_ledger(pg_url, sandbox.base_url) as ledger, client(sandbox.base_url, "slow:0.8") as http:

        def send() -> None:
            if mode == "sync":
                results.append(ledger.send("k", client=http, invoice_id=invoice_id(6), body=sms_body()))
                return
            import asyncio

            async def run() -> Any:
                async with client(sandbox.base_url, "slow:0.8") as ahttp:
                    return await ledger.asend("k", client=ahttp, invoice_id=invoice_id(6), body=sms_body())

            results.append(asyncio.run(run()))

        sending = threading.Thread(target=send)
        sending.start()
        time.sleep(0.4)  # the intent is committed; the request is in flight
        assert _kill_backends(pg_server) >= 1
        sending.join()
        again = ledger.send("k", client=http, invoice_id=invoice_id(6), body=sms_body())
    # The pool replaced the killed connection: the outcome was recorded, and nothing is sent twice.
    assert results[0].state is SendState.SENT
    assert (again.state, again.skipped) == (SendState.SENT, True)
    assert deliveries(sandbox.app) == {invoice_id(6): 1}


def test_an_intent_that_cannot_be_written_is_a_typed_error_and_nothing_is_sent(
    sandbox: Served, pg_url: str, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_store, "PG_CONNECT_TIMEOUT", 0.5)
    with open_ledger(pg_url, sandbox.base_url) as ledger, client(sandbox.base_url) as http:
        ledger._store._pool.timeout = 0.5  # type: ignore[attr-defined]  # fail fast while the server is down
        pg_server.stop()
        try:
            with pytest.raises(ValueError, match="cannot be written") as down:
                ledger.send("k", client=http, invoice_id=invoice_id(7), body=sms_body())
        finally:
            pg_server.start()
        assert pg_server.password not in str(down.value)
        assert deliveries(sandbox.app) == {}  # the intent was not recorded: nothing went out
        # The server is back (a restart, new connections): the rerun sends, once.
        record = ledger.send("k", client=http, invoice_id=invoice_id(7), body=sms_body())
    assert record.state is SendState.SENT
    assert deliveries(sandbox.app) == {invoice_id(7): 1}


def test_psycopg_errors_become_ledger_errors_without_the_url(pg_url: str, pg_server: PgServer) -> None:
    with SendLedger(pg_url) as ledger:
        sql(pg_url, "DROP TABLE leadway_sends")
        with pytest.raises(ValueError, match=r"cannot be read: UndefinedTable") as err:
            ledger.records()
    assert pg_server.password not in str(err.value)
    assert (err.value.__cause__, err.value.__context__) == (None, None)


def test_recorded_invoices_reads_without_creating_anything(sandbox: Served, pg_url: str) -> None:
    assert recorded_invoices(pg_url, ["k"]) == {}
    assert sql(pg_url, "SELECT to_regclass('leadway_ledger') IS NULL") == [(True,)]  # nothing created
    with open_ledger(pg_url, sandbox.base_url) as ledger, client(sandbox.base_url) as http:
        ledger.send("k", client=http, invoice_id=invoice_id(8), body=sms_body())
    assert recorded_invoices(pg_url, ["k", "other"]) == {"k": invoice_id(8)}
    sql(pg_url, "UPDATE leadway_ledger SET version = version + 1")
    with pytest.raises(ValueError, match="written by a newer leadway-invoices-client"):
        recorded_invoices(pg_url, ["k"])


def test_hosts_present_split_a_files_locations(pg_url: str) -> None:
    with SendLedger(pg_url) as first, SendLedger(pg_url) as second, SendLedger(pg_url) as third:
        locations = [f"loc-{n}" for n in range(6)]
        # Three hosts present: each takes at most 2 of the 6 at once, whoever asks first.
        assert [first.take_location(loc, len(locations)) for loc in locations] == [True, True] + [False] * 4
        assert [second.take_location(loc, len(locations)) for loc in locations[2:]] == [True, True, False, False]
        assert [third.take_location(loc, len(locations)) for loc in locations[4:]] == [True, True]
        first.free_location("loc-0")  # done with one: its share has room again
        assert first.take_location("loc-0", len(locations))
    with SendLedger(pg_url) as alone:  # the others left: one host takes them all
        assert all(alone.take_location(loc, len(locations)) for loc in locations)


def test_the_keys_sent_already_are_read_at_once(sandbox: Served, pg_url: str, path: Path) -> None:
    with open_ledger(pg_url, sandbox.base_url) as ledger, client(sandbox.base_url) as http:
        ledger.send("sent", client=http, invoice_id=invoice_id(9), body=sms_body())
        ledger.send("refused", client=http, invoice_id="ffff78e879ad2646715ba9c0", body=sms_body())
        found = ledger.sent_already(["sent", "refused", "unknown"])
    assert list(found) == ["sent"]
    assert (found["sent"].state, found["sent"].skipped, found["sent"].invoice_id) == (
        SendState.SENT,
        True,
        invoice_id(9),
    )
    with SendLedger(path) as file:  # a file is one host's: nothing to take over
        assert file.sent_already(["sent"]) == {}
