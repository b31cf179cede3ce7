"""`_ledger/sqlite.py`: the ledger's file. Anything that is not one (a directory, a foreign or damaged
database, a newer schema) is refused before any I/O and left as it was; a new file gets the schema,
WAL mode and the ledger's identity; rows read back as records."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from leadway_invoices_client import LedgerError, SendLedger

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
        raw.execute("PRAGMA user_version = 2")
    with pytest.raises(LedgerError, match=r"schema version 2, written by a newer .*reads up to version 1"):
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
