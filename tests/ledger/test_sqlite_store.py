"""`_ledger/sqlite_store.py`: the SQLite store's group commit. Writes queued while one commit is under way
share the next transaction, and one write's failure undoes only that write."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from leadway_invoices_client._ledger.records import LedgerError
from leadway_invoices_client._ledger.sqlite import SqliteTx
from leadway_invoices_client._ledger.sqlite_store import SqliteStore
from leadway_invoices_client._ledger.store import Job, Tx


def insert(key: str, fail: bool = False) -> Job:
    def run(tx: Tx) -> str:
        assert isinstance(tx, SqliteTx)
        tx.conn.execute(
            "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, updated_at)"
            " VALUES (?, 'i', 'a', 'location', 'sent', '', 1, 'now')",
            (key,),
        )
        if fail:
            raise LedgerError(f"{key} refused")
        return key

    return Job(run, durable=True)


def test_writes_queued_during_a_commit_share_the_next_one(tmp_path: Path) -> None:
    ledger_file = SqliteStore(tmp_path / "sends.db")
    statements: list[str] = []
    ledger_file._db().set_trace_callback(statements.append)
    jobs = [insert("a"), insert("b", fail=True), insert("c")]
    outcomes: dict[str, object] = {}

    def submit(job: Job, name: str) -> None:
        try:
            outcomes[name] = ledger_file.submit(job)
        except LedgerError as exc:
            outcomes[name] = exc

    with ledger_file._lock:  # as if another thread's commit were under way
        threads = [threading.Thread(target=submit, args=(job, name)) for job, name in zip(jobs, "abc", strict=True)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(ledger_file._queue) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.005)
    for thread in threads:
        thread.join()

    assert outcomes["a"] == "a"
    assert outcomes["c"] == "c"
    assert isinstance(outcomes["b"], LedgerError)
    assert str(outcomes["b"]) == "b refused"
    assert statements.count("COMMIT") == 1
    keys = ledger_file.read(lambda tx: [record.key for record in tx.read_all()])
    assert keys == ["a", "c"]
    ledger_file.close()


def test_a_closed_file_refuses_writes_before_queueing_them(tmp_path: Path) -> None:
    ledger_file = SqliteStore(tmp_path / "sends.db")
    ledger_file.close()
    with pytest.raises(LedgerError, match="is closed"):
        ledger_file.submit(insert("a"))
    assert ledger_file._queue == []
