"""`_bulk/tally.py`: a bulk run's results sorted for its user: counts, the rows not sent and those
needing attention (in file order), and the exit code."""

from __future__ import annotations

from leadway_invoices_client import Outcome, Reconciliation, SendState
from leadway_invoices_client._bulk.engine import BulkReport
from leadway_invoices_client._bulk.tally import ExitCode, evidence_text, tally

from .reports import result, row


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
