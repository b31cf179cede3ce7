"""The summary of a bulk run: counts, every row not sent with its reason, every row needing attention
with its evidence, and the exit status."""

from __future__ import annotations

import io

from leadway_invoices_client import LedgerRecord, Outcome, Reconciliation, SendState
from leadway_invoices_client._bulk.engine import BulkReport, RowResult
from leadway_invoices_client._bulk.rows import BulkRow
from leadway_invoices_client._bulk.tally import ExitCode, evidence_text, tally
from leadway_invoices_client.cli.summary import print_summary
from leadway_invoices_client.models import SendAction
from rich.console import Console

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


def render(report: BulkReport) -> str:
    out = io.StringIO()
    print_summary(Console(file=out, width=200), tally(report), source="rows.csv", ledger="rows.csv.ledger.sqlite3")
    return out.getvalue()


def test_every_row_is_counted_and_each_one_not_sent_is_listed_with_its_reason_or_evidence() -> None:
    report = BulkReport(
        results=[
            result(2, SendState.SENT, "sent"),
            result(3, SendState.SENT, "sent", skipped=True),
            result(9, SendState.SENT, "outcome unknown: OutcomeUnknownError; reconciled SENT", evidence=True),
            result(10, SendState.SENT, "sent", evidence=True),  # resent after a reconciled not-sent
            result(5, SendState.NOT_SENT, "not sent: NotFoundError 404"),
            result(4, SendState.NEEDS_ATTENTION, "outcome unknown: ServerError 500; reconciled", evidence=True),
            result(6, SendState.PENDING, "in progress elsewhere (pid 12)", skipped=True),
            RowResult(row(7), None, "ledger key 'key-7' was recorded for invoice x, not invoice7"),
        ],
        not_started=[row(8)],
    )

    counted = tally(report)
    text = render(report)

    assert (counted.sent, counted.already_sent, counted.confirmed, counted.not_started) == (3, 1, 1, 1)
    assert [line.row.line for line in counted.not_sent] == [5, 7]
    assert [line.row.line for line in counted.attention] == [4, 6]
    assert counted.exit_code is ExitCode.NOT_ALL_SENT
    assert "1 by an earlier run; 1 confirmed by reading the invoice after an unknown outcome" in text
    assert "│ NotFoundError 404 " in text  # the table says "not sent" already
    assert "status unchanged; status paid -> paid; 4 reads" in text
    assert "in progress elsewhere (pid 12)" in text
    assert "recorded for invoice x" in text
    assert "interrupted: run the same command again to resume" in text


def test_exit_status_all_sent_and_interrupted() -> None:
    assert tally(BulkReport(results=[result(2, SendState.SENT, "sent", skipped=True)])).exit_code is ExitCode.ALL_SENT
    stopped = BulkReport(results=[result(2, SendState.SENT, "sent")], not_started=[row(3)], interrupted=True)
    assert tally(stopped).exit_code is ExitCode.INTERRUPTED


def test_evidence_text_reads_what_is_known() -> None:
    assert evidence_text(None) == ""
    assert (
        evidence_text(Reconciliation(Outcome.SENT, "i", "", None, None, "sent", None, 1))
        == "status unknown -> sent; 1 read"
    )
