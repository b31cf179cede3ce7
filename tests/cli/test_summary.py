"""`cli/summary.py`: the bulk command's summary on the terminal: a count table, then a table for each
kind of row that needs the user."""

from __future__ import annotations

import io

from leadway_invoices_client import SendState
from leadway_invoices_client._bulk.engine import BulkReport, RowResult
from leadway_invoices_client._bulk.tally import ExitCode, tally
from leadway_invoices_client.cli.summary import print_summary
from rich.console import Console

from tests.bulk.reports import result, row


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


def test_a_run_that_sent_everything_shows_the_counts_and_no_detail_table() -> None:
    text = render(
        BulkReport(results=[result(2, SendState.SENT, "sent"), result(3, SendState.SENT, "sent", skipped=True)])
    )

    assert text.splitlines()[0] == "Bulk send of rows.csv"
    assert "│ sent            │ 2 │ 1 by an earlier run │" in text
    assert "│ not sent        │ 0 │" in text
    assert "│ needs attention │ 0 │" in text
    assert "not started" not in text
    assert "Not sent" not in text
    assert "Needs attention" not in text
    assert text.rstrip().endswith(
        "Ledger: rows.csv.ledger.sqlite3 (run the same command again to resume or retry what was not sent)"
    )


def test_only_the_rows_needing_attention_show_their_evidence() -> None:
    text = render(
        BulkReport(
            results=[
                result(5, SendState.NOT_SENT, "not sent: NotFoundError 404"),
                result(4, SendState.NEEDS_ATTENTION, "outcome unknown: ServerError 500", evidence=True),
            ]
        )
    )
    not_sent, attention = text.split("Needs attention (the invoice may have been sent)")

    assert "Not sent" in not_sent
    assert "evidence" not in not_sent
    assert "┃ line ┃ key   ┃ invoice  ┃ reason            ┃\n" in not_sent
    assert "│    5 │ key-5 │ invoice5 │ NotFoundError 404 │" in not_sent
    assert "┃ line ┃ key   ┃ invoice  ┃ reason                           ┃ evidence " in attention
    assert "status unchanged; status paid -> paid; 4 reads" in attention
    assert "check each invoice before sending it again" in not_sent  # the count table, above both
