"""`_bulk/tally.py`: a bulk run's results sorted for its user: counts, the rows not sent and those
needing attention (in file order), and the exit code."""

from __future__ import annotations

import signal

from leadway_invoices_client import Outcome, Reconciliation, SendState
from leadway_invoices_client._bulk.engine import BulkReport, RowResult
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


def test_the_detail_lines_are_in_file_order_whatever_order_the_rows_finished_in() -> None:
    finished = [
        result(9, SendState.NEEDS_ATTENTION, "outcome unknown", evidence=True),
        result(8, SendState.NOT_SENT, "not sent: NotFoundError 404"),
        result(3, SendState.PENDING, "in progress elsewhere (pid 12)", skipped=True),
        result(2, SendState.NOT_SENT, "not sent: BadRequestError 400"),
        RowResult(row(5), None),
    ]
    counted = tally(BulkReport(results=finished))

    assert [(line.row.line, line.reason) for line in counted.not_sent] == [
        (2, "BadRequestError 400"),
        (5, "the ledger took the row for bad input"),
        (8, "NotFoundError 404"),
    ]
    assert [(line.row.line, line.evidence) for line in counted.attention] == [
        (3, ""),
        (9, "status unchanged; status paid -> paid; 4 reads"),
    ]
    assert (counted.sent, counted.already_sent, counted.confirmed) == (0, 0, 0)


def test_a_sent_row_is_confirmed_when_reconciliation_said_so() -> None:
    counted = tally(
        BulkReport(
            results=[
                result(2, SendState.SENT, "outcome unknown: ServerError 503; reconciled SENT: status sent"),
                result(3, SendState.SENT, "left pending by an interrupted send; reconciled SENT", skipped=True),
                result(4, SendState.SENT, "sent", evidence=True),
            ]
        )
    )
    assert (counted.sent, counted.already_sent, counted.confirmed) == (2, 1, 2)
    assert counted.exit_code is ExitCode.ALL_SENT


def test_rows_left_unstarted_are_not_all_sent_unless_interrupted() -> None:
    assert tally(BulkReport(not_started=[row(2)])).exit_code is ExitCode.NOT_ALL_SENT
    assert tally(BulkReport(results=[result(2, SendState.NOT_SENT, "x")])).exit_code is ExitCode.NOT_ALL_SENT
    assert tally(BulkReport(results=[result(2, SendState.PENDING, "x")])).exit_code is ExitCode.NOT_ALL_SENT
    assert tally(BulkReport()).exit_code is ExitCode.ALL_SENT
    assert [int(code) for code in ExitCode] == [0, 1, 2, 130, 143]


def test_refusals_are_listed_with_the_apis_reason_and_a_run_of_only_refusals_exits_0() -> None:
    counted = tally(
        BulkReport(
            results=[
                result(2, SendState.SENT, "sent"),
                result(3, SendState.REFUSED, "refused: BadRequestError 400: Invoice is void"),
                result(4, SendState.REFUSED, "refused: NotFoundError 404: Invoice not found", skipped=True),
            ]
        )
    )

    assert [(line.row.line, line.reason) for line in counted.refused] == [
        (3, "BadRequestError 400: Invoice is void"),
        (4, "NotFoundError 404: Invoice not found"),
    ]
    assert counted.not_sent == counted.attention == []
    assert counted.exit_code is ExitCode.ALL_SENT


def test_sigterm_exits_143_and_a_refused_token_exits_1() -> None:
    stopped = BulkReport(results=[result(2, SendState.SENT, "sent")], not_started=[row(3)], interrupted=True)

    assert tally(stopped, signal_number=signal.SIGTERM).exit_code is ExitCode.TERMINATED
    assert tally(stopped, signal_number=signal.SIGINT).exit_code is ExitCode.INTERRUPTED
    assert (int(ExitCode.TERMINATED), int(ExitCode.INTERRUPTED)) == (143, 130)
    refused = BulkReport(
        results=[result(2, SendState.NOT_SENT, "not sent: AuthenticationError 401")], token_refused=True
    )
    assert tally(refused).exit_code is ExitCode.NOT_ALL_SENT
    assert tally(refused).token_refused


def test_the_evidence_does_not_repeat_the_reason() -> None:
    evidence = Reconciliation(Outcome.UNDETERMINED, "i", "status unchanged", "draft", None, "draft", None, 4)

    assert evidence_text(evidence, without="outcome unknown: ServerError 500; status unchanged") == (
        "status draft -> draft; 4 reads"
    )
    assert evidence_text(evidence) == "status unchanged; status draft -> draft; 4 reads"
