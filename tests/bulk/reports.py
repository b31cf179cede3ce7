"""Rows and results of a bulk run in any state, for the tests of its tally and summary."""

from __future__ import annotations

from leadway_invoices_client import LedgerRecord, Outcome, Reconciliation, SendState
from leadway_invoices_client._bulk.engine import RowResult
from leadway_invoices_client._bulk.rows import BulkRow
from leadway_invoices_client.models import SendAction

EVIDENCE = Reconciliation(Outcome.UNDETERMINED, "invoice4", "status unchanged", "paid", None, "paid", None, 4)


def row(line: int) -> BulkRow:
    return BulkRow(line, f"key-{line}", f"invoice{line}", "loc", "user", SendAction.SMS, False)


def result(
    line: int, state: SendState, reason: str = "", *, skipped: bool = False, evidence: bool = False
) -> RowResult:
    record = LedgerRecord(
        f"key-{line}", f"invoice{line}", "loc", state, reason, 1, EVIDENCE if evidence else None, skipped
    )
    return RowResult(row(line), record)
