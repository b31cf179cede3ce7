"""`_ledger/sqlite.py`: the ledger's file. Anything that is not one (a directory, a foreign or damaged
database, a newer schema) is refused before any I/O and left as it was; a new file gets the schema,
WAL mode and the ledger's identity; rows read back as records."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from leadway_invoices_client import LedgerError, LedgerRecord, Outcome, Reconciliation, SendLedger, SendState
from leadway_invoices_client._ledger import sqlite
from leadway_invoices_client._ledger.claims import Owner
from leadway_invoices_client._ledger.records import encode_evidence, owner_of

from tests.mock_api import Server, mock_client

from .ledger_workers import invoice_id, sms_body


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
        raw.execute(f"PRAGMA user_version = {sqlite.SCHEMA_VERSION + 1}")
    newer, ours = sqlite.SCHEMA_VERSION + 1, sqlite.SCHEMA_VERSION
    with pytest.raises(LedgerError, match=rf"schema version {newer}, written by a newer .*reads up to version {ours}"):
        SendLedger(path)


def test_a_ledger_damaged_inside_is_refused(path: Path) -> None:
    server = Server()
    with SendLedger(path) as ledger:
        for n in range(300):
            ledger.send(f"key-{n}", client=mock_client(server), invoice_id=invoice_id(0), body=sms_body())
    # Closing the last connection folds the WAL into the file: damage a page in its middle.
    damaged = bytearray(path.read_bytes())
    assert len(damaged) > 4 * 4096
    damaged[2 * 4096 : 3 * 4096] = b"\xa5" * 4096
    path.write_bytes(bytes(damaged))

    with pytest.raises(LedgerError, match=r"(corrupt|not a usable send ledger \(database disk image is malformed\))"):
        SendLedger(path)


# --- a new file, and its rows ---------------------------------------------------------------------


@pytest.fixture
def conn(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite.open_file(path)
    yield connection
    connection.close()


def test_a_new_file_is_a_send_ledger_in_wal_mode(conn: sqlite3.Connection, path: Path) -> None:
    assert conn.execute("PRAGMA application_id").fetchone()[0] == sqlite.APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    columns = [row["name"] for row in conn.execute("PRAGMA table_info(sends)")]
    assert "token" not in " ".join(columns)
    assert not {"body", "content", "request", "response"} & set(columns)
    sqlite.open_file(path).close()  # and a ledger opens again as it is


def test_a_row_holds_only_the_states_a_key_can_be_in(conn: sqlite3.Connection) -> None:
    for number, state in enumerate(SendState):
        conn.execute(
            "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, updated_at)"
            " VALUES (?, 'i', 'a', 'location', ?, '', 1, 'now')",
            (f"k{number}", state.value),
        )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute(
            "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, updated_at)"
            " VALUES ('bad', 'i', 'a', 'location', 'sending', '', 1, 'now')"
        )


def _intent(conn: sqlite3.Connection, key: str, claim: str) -> None:
    sqlite.SqliteTx(conn).write_intent(
        key=key,
        invoice_id="inv-1",
        alt_id="loc-1",
        alt_type="location",
        reason="sending",
        attempts=1,
        attempted_at="2026-01-01T00:00:00.000000+00:00",
        updated_at="2026-01-01T00:00:00.000000+00:00",
        claim=claim,
        held_by=OWNER,
        lease=600.0,
    )


OWNER = Owner("host-a", "boot/pid:[1]", 4242, "99")
EVIDENCE = Reconciliation(Outcome.SENT, "inv-1", "status sent", "draft", None, "sent", None, 2)


def test_an_intent_is_a_pending_row_held_by_its_owner_until_its_lease(conn: sqlite3.Connection) -> None:
    before = time.time()
    _intent(conn, "k", "claim-1")

    assert sqlite.SqliteTx(conn).read_one("k") == LedgerRecord("k", "inv-1", "loc-1", SendState.PENDING, "sending", 1)
    row = sqlite.SqliteTx(conn).row("k")
    assert row is not None
    held = owner_of(row)
    assert held is not None
    owner, claim, lease_until = held
    assert (owner, claim) == (OWNER, "claim-1")
    assert before + 600 <= lease_until <= time.time() + 600
    assert sqlite.SqliteTx(conn).row("unknown") is None
    assert sqlite.SqliteTx(conn).read_one("unknown") is None


def test_an_outcome_is_written_by_the_claim_that_holds_the_key_only(conn: sqlite3.Connection) -> None:
    _intent(conn, "k", "claim-1")
    ignored = sqlite.SqliteTx(conn).write_outcome(
        key="k",
        claim="claim-0",
        state=SendState.SENT,
        reason="sent",
        updated_at="t",
        evidence=None,
        keep_claim=False,
    )
    assert ignored.state is SendState.PENDING

    evidence = encode_evidence(EVIDENCE)
    kept = sqlite.SqliteTx(conn).write_outcome(
        key="k",
        claim="claim-1",
        state=SendState.PENDING,
        reason="reconciling",
        updated_at="t",
        evidence=evidence,
        keep_claim=True,
    )
    row = sqlite.SqliteTx(conn).row("k")
    assert row is not None
    assert owner_of(row) is not None
    assert kept.evidence == EVIDENCE

    done = sqlite.SqliteTx(conn).write_outcome(
        key="k",
        claim="claim-1",
        state=SendState.SENT,
        reason="sent",
        updated_at="t",
        evidence=None,
        keep_claim=False,
    )
    row = sqlite.SqliteTx(conn).row("k")
    assert row is not None
    assert owner_of(row) is None
    assert (done.state, done.reason, done.evidence) == (SendState.SENT, "sent", EVIDENCE)  # evidence kept


def test_a_resolution_releases_any_claim(conn: sqlite3.Connection) -> None:
    _intent(conn, "k", "claim-1")
    resolved = sqlite.SqliteTx(conn).write_resolution(
        key="k", state=SendState.NOT_SENT, reason="by hand", updated_at="t"
    )

    assert (resolved.state, resolved.reason) == (SendState.NOT_SENT, "by hand")
    row = sqlite.SqliteTx(conn).row("k")
    assert row is not None
    assert owner_of(row) is None


def test_every_record_is_read_in_key_order(conn: sqlite3.Connection) -> None:
    for key in ("b", "c", "a"):
        _intent(conn, key, f"claim-{key}")
    assert [record.key for record in sqlite.SqliteTx(conn).read_all()] == ["a", "b", "c"]


# -- taking the write lock ------------------------------------------------------------------------


def _holder(path: Path) -> sqlite3.Connection:
    """Another connection to the file, holding its write lock."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_begin_waits_while_another_connection_writes(path: Path) -> None:
    conn = sqlite.open_file(path)
    holder = _holder(path)
    started = time.monotonic()
    timer = threading.Timer(0.05, holder.execute, args=("COMMIT",))
    timer.start()
    try:
        sqlite.begin(conn)
        waited = time.monotonic() - started
        conn.execute("COMMIT")
    finally:
        timer.join()
        holder.close()
    assert waited >= 0.05
    # The connection's own wait is back for everything else it runs.
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == sqlite.BUSY_TIMEOUT_MS
    conn.close()


def test_begin_gives_up_at_the_busy_timeout(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = sqlite.open_file(path)
    holder = _holder(path)
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_MS", 30)
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            sqlite.begin(conn)
    finally:
        holder.close()
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30
    assert not conn.in_transaction
    conn.close()


# --- the file's permissions, its schema's versions, and reading it without changing it -------------


def test_a_new_ledger_and_its_wal_are_readable_by_their_owner_only(path: Path) -> None:
    with SendLedger(path) as ledger, mock_client(Server()) as client:
        ledger.send("k", client=client, invoice_id=invoice_id(1), body=sms_body())
        files = [path, *(Path(f"{path}{suffix}") for suffix in ("-wal", "-shm"))]
        modes = {file.name: file.stat().st_mode & 0o777 for file in files}

    assert modes == dict.fromkeys(modes, 0o600)


def _version_1_ledger(path: Path) -> None:
    """A ledger as release 0.1 wrote it: no `refused` state, schema version 1."""
    with sqlite3.connect(path) as raw:
        raw.execute(sqlite._TABLE.format(name="sends").replace(", 'refused'", ""))
        raw.execute(
            "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, updated_at)"
            " VALUES ('old', ?, 'loc', 'location', 'not_sent', 'not sent: BadRequestError 400', 1, '2026-11-01')",
            (invoice_id(1),),
        )
        raw.execute(f"PRAGMA application_id = {sqlite.APPLICATION_ID}")
        raw.execute("PRAGMA user_version = 1")
    raw.close()


def test_a_version_1_ledger_is_upgraded_in_place_keeping_every_row(path: Path) -> None:
    _version_1_ledger(path)
    with pytest.raises(sqlite3.IntegrityError), sqlite3.connect(path) as raw:  # what the upgrade is for
        raw.execute("UPDATE sends SET state = 'refused'")

    conn = sqlite.open_file(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("UPDATE sends SET state = 'refused' WHERE key = 'old'")
        record = sqlite.SqliteTx(conn).read_one("old")
    finally:
        conn.close()

    assert version == sqlite.SCHEMA_VERSION == 3
    assert record is not None
    assert (record.invoice_id, record.state, record.reason) == (
        invoice_id(1),
        SendState.REFUSED,
        "not sent: BadRequestError 400",
    )


def _version_2_ledger(path: Path, *, clash: bool = False) -> None:
    """A ledger as the release before webhooks wrote it (schema 2); `clash`: with a table in the way
    of the upgrade, so that it fails midway."""
    with sqlite3.connect(path) as raw:
        raw.execute(sqlite._TABLE.format(name="sends"))
        raw.execute(
            "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, updated_at)"
            " VALUES ('old', ?, 'loc', 'location', 'needs_attention', 'undetermined', 1, '2026-11-01')",
            (invoice_id(1),),
        )
        if clash:
            raw.execute("CREATE INDEX sends_by_invoice ON sends (key)")
        raw.execute(f"PRAGMA application_id = {sqlite.APPLICATION_ID}")
        raw.execute("PRAGMA user_version = 2")
    raw.close()


def test_a_version_2_ledger_gains_webhook_events_keeping_every_row(path: Path) -> None:
    _version_2_ledger(path)
    conn = sqlite.open_file(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        record = sqlite.SqliteTx(conn).read_one("old")
    finally:
        conn.close()
    assert version == 3
    assert {"sends", "webhook_events", "webhook_events_by_invoice", "sends_by_invoice"} <= tables
    assert record is not None
    assert record.state is SendState.NEEDS_ATTENTION


def test_an_upgrade_that_fails_midway_leaves_the_ledger_as_it_was(path: Path) -> None:
    _version_2_ledger(path, clash=True)
    with pytest.raises(LedgerError, match="not a usable send ledger"):
        sqlite.open_file(path)
    with sqlite3.connect(path) as raw:
        version = raw.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    raw.close()
    assert version == 2
    assert "webhook_events" not in tables


def test_recorded_invoices_reads_a_ledger_without_creating_or_changing_it(path: Path) -> None:
    assert sqlite.recorded_invoices(path, ["k"]) == {}
    assert not path.exists()

    with SendLedger(path) as ledger, mock_client(Server()) as client:
        for number in range(3):
            ledger.send(f"k{number}", client=client, invoice_id=invoice_id(number), body=sms_body())
    before = path.read_bytes()
    keys = [f"k{number}" for number in range(1200)]  # more than one query's worth

    found = sqlite.recorded_invoices(path, keys)

    assert found == {f"k{number}": invoice_id(number) for number in range(3)}
    assert path.read_bytes() == before


def test_recorded_invoices_refuses_what_is_not_a_ledger(path: Path, tmp_path: Path) -> None:
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE t (x)")
    raw.close()

    with pytest.raises(LedgerError, match="not a send ledger"):
        sqlite.recorded_invoices(path, ["k"])
    with pytest.raises(LedgerError, match="is a directory"):
        sqlite.recorded_invoices(tmp_path, ["k"])


def test_a_ledger_of_the_current_release_opens_unchanged(path: Path) -> None:
    SendLedger(path).close()
    written = path.read_bytes()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (sqlite.SCHEMA_VERSION,)
    raw.close()
    with SendLedger(path) as ledger:
        assert ledger.records() == []
    assert path.read_bytes() == written
