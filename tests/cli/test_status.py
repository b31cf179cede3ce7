"""`cli/status.py`: `leadway-invoices status LEDGER [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from leadway_invoices_client import SendLedger

from .ledgers import INVOICE, ledger_with_every_state
from .test_command import run


def test_status_counts_every_state_and_shows_each_key_needing_attention_with_its_evidence(tmp_path: Path) -> None:
    path = ledger_with_every_state(tmp_path / "l.db")
    code, out, err = run(["status", str(path)])
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"Ledger {path}",
        "  pending               0",
        "  sent                  1",
        "  not sent              1",
        "  needs attention       1",
        "  refused               1",
        "",
        "Needs attention (1): the invoice may have been sent",
        f"  key k-attention, invoice {INVOICE[:-1]}3",
        "    outcome unknown: ReadTimeout; reconciled UNDETERMINED",
        "    evidence: status sent, updatedAt unchanged; status unknown -> sent; 4 reads",
        "    InvoiceSent webhook wh-early sent at 2026-12-07T11:00:00.000000+00:00 (sent before the attempt:"
        " settles nothing)",
        "",
        "Settle a key once its invoice is checked; the next run then skips or sends it:",
        f"  leadway-invoices resolve {path} KEY --sent|--not-sent --note TEXT",
    ]


def test_status_json_holds_the_same(tmp_path: Path) -> None:
    path = ledger_with_every_state(tmp_path / "l.db")
    code, out, _ = run(["status", str(path), "--json"])
    found = json.loads(out)
    assert code == 1
    assert found["counts"] == {"pending": 0, "sent": 1, "not_sent": 1, "needs_attention": 1, "refused": 1}
    [key] = found["needs_attention"]
    assert key["reconciliation"]["outcome"] == "UNDETERMINED"
    assert key["webhooks"] == [
        {"webhook_id": "wh-early", "type": "InvoiceSent", "sent_at": "2026-12-07T11:00:00.000000+00:00"}
    ]


def test_status_of_a_missing_ledger_is_a_usage_error_and_creates_nothing(tmp_path: Path) -> None:
    code, out, err = run(["status", str(tmp_path / "none.db")])
    assert (code, out) == (2, "")
    assert err.strip() == f"leadway-invoices: error: no ledger at {tmp_path / 'none.db'}"
    assert not (tmp_path / "none.db").exists()


def test_the_operator_commands_take_a_postgresql_ledger_and_never_show_its_password(pg_url: str) -> None:
    with SendLedger(pg_url) as ledger:
        location = ledger.location
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO leadway_sends (key, invoice_id, alt_id, alt_type, state, reason, attempts, updated_at)"
            " VALUES ('k', %s, 'loc', 'location', 'needs_attention', 'outcome unknown', 1, %s)",
            (INVOICE, "2026-12-07T10:00:00+00:00"),
        )
    password = pg_url.split(":")[2].split("@")[0]

    status = run(["status", pg_url, "--json"])
    resolved = run(["resolve", pg_url, "k", "--sent", "--note", "customer confirmed"])
    exported = run(["export", pg_url, "--format", "jsonl"])

    assert status[0] == 1, status[2]
    assert json.loads(status[1])["ledger"] == location
    assert resolved[0] == 0, resolved[2]
    assert [json.loads(line)["state"] for line in exported[1].splitlines()] == ["sent"]
    assert password not in "".join(stream for result in (status, resolved, exported) for stream in result[1:])
