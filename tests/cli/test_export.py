"""`cli/export.py`: `leadway-invoices export LEDGER --format csv|jsonl`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

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
