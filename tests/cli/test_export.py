"""`cli/export.py`: `leadway-invoices export LEDGER --format csv|jsonl`."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

from leadway_invoices_client import SendLedger

from .ledgers import ledger_with_every_state
from .test_command import run


def test_export_jsonl_gives_one_object_per_key(tmp_path: Path) -> None:
    path = ledger_with_every_state(tmp_path / "l.db")
    code, out, _ = run(["export", str(path), "--format", "jsonl"])
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["key"], r["state"]) for r in rows] == [
        ("k-attention", "needs_attention"),
        ("k-not", "not_sent"),
        ("k-refused", "refused"),
        ("k-sent", "sent"),
    ]
    assert rows[0]["evidence"]["outcome"] == "undetermined"
    assert rows[1]["evidence"] is None


def test_export_csv_has_a_header_and_the_evidence_as_json(tmp_path: Path) -> None:
    path = ledger_with_every_state(tmp_path / "l.db")
    code, out, _ = run(["export", str(path)])
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert list(rows[0]) == ["key", "invoice_id", "alt_id", "state", "reason", "attempts", "evidence"]
    assert json.loads(rows[0]["evidence"])["reads"] == 4
    assert rows[3]["evidence"] == ""


def test_export_csv_defuses_cells_a_spreadsheet_would_run_as_formulas(tmp_path: Path) -> None:
    keys = ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "\tx", "plain=key"]
    path = tmp_path / "l.db"
    SendLedger(path).close()
    with sqlite3.connect(path) as conn:
        for number, key in enumerate(keys):
            conn.execute(
                "INSERT INTO sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, updated_at)"
                " VALUES (?, ?, 'loc-1', 'location', 'refused', '=cmd|x', 1, '2026-12-07T10:00:00+00:00')",
                (key, f"inv-{number}"),
            )
    conn.close()

    code, out, _ = run(["export", str(path)])
    jsonl_code, jsonl, _ = run(["export", str(path), "--format", "jsonl"])

    assert (code, jsonl_code) == (0, 0)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(row["key"] for row in rows) == sorted(
        ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "'\tx", "plain=key"]
    )
    assert {row["reason"] for row in rows} == {"'=cmd|x"}
    assert sorted(json.loads(line)["key"] for line in jsonl.splitlines()) == sorted(keys)  # JSON keeps them as is
