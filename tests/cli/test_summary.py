"""`cli/summary.py`: the bulk command's summary, plain text for an 80-column terminal and a log: counts,
then a block per row that needs the user; every string printed as text, never as markup."""

from __future__ import annotations

import io
import unicodedata

import attrs
from hypothesis import given
from hypothesis import strategies as st
from leadway_invoices_client import Outcome, Reconciliation, SendState
from leadway_invoices_client._bulk.engine import BulkReport, RowResult
from leadway_invoices_client._bulk.rows import BulkRow
from leadway_invoices_client._bulk.tally import tally
from leadway_invoices_client.cli.summary import print_summary
from leadway_invoices_client.models import SendAction
from rich.console import Console

from tests.bulk.reports import result, row


def render(report: BulkReport, *, width: int = 80, terminal: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, color_system="truecolor" if terminal else None)
    print_summary(console, tally(report), source="rows.csv", ledger="ledger.sqlite3")
    return out.getvalue()


def test_every_row_is_counted_and_each_one_needing_the_user_is_listed_once_with_its_reason() -> None:
    report = BulkReport(
        results=[
            result(2, SendState.SENT, "sent"),
            result(3, SendState.SENT, "sent", skipped=True),
            result(9, SendState.SENT, "outcome unknown: OutcomeUnknownError; reconciled SENT", evidence=True),
            result(5, SendState.NOT_SENT, "not sent: RateLimitError 429"),
            result(11, SendState.REFUSED, "refused: BadRequestError 400: Invoice is void"),
            result(4, SendState.NEEDS_ATTENTION, "outcome unknown: ServerError 500", evidence=True),
            result(6, SendState.PENDING, "in progress elsewhere (pid 12)", skipped=True),
            RowResult(row(7), None, "ledger key 'key-7' was recorded for invoice x, not invoice7"),
        ],
        not_started=[row(8)],
    )

    text = render(report)

    assert text.splitlines()[:7] == [
        "Bulk send of rows.csv",
        "  sent                  3  1 by an earlier run; 1 confirmed by reading the invoice",
        "  refused               1  each with its reason below; --retry-refused tries again",
        "  not sent              2  provably not sent: the next run sends them",
        "  needs attention       2  may have been sent: check before sending again",
        "  not started           1  stopped: run the same command again to resume",
        "",
    ]
    assert (
        "Refused (sending again would be refused again) (1):\n"
        "  line 11: key key-11, invoice invoice11\n"
        "    BadRequestError 400: Invoice is void\n"
    ) in text
    assert "Not sent (2):\n  line 5: key key-5, invoice invoice5\n    RateLimitError 429\n" in text
    assert "    ledger key 'key-7' was recorded for invoice x, not invoice7\n" in text
    assert (
        "Needs attention (the invoice may have been sent) (2):\n"
        "  line 4: key key-4, invoice invoice4\n"
        "    outcome unknown: ServerError 500\n"
        "    evidence: status unchanged; status paid -> paid; 4 reads\n"
        "  line 6: key key-6, invoice invoice6\n"
        "    in progress elsewhere (pid 12)\n"
    ) in text
    assert text.count("status unchanged") == 1
    assert "Ledger: ledger.sqlite3" in text


def test_a_run_that_sent_everything_shows_only_the_counts() -> None:
    text = render(
        BulkReport(results=[result(2, SendState.SENT, "sent"), result(3, SendState.SENT, "sent", skipped=True)])
    )

    assert text.splitlines() == [
        "Bulk send of rows.csv",
        "  sent                  2  1 by an earlier run",
        "  refused               0",
        "  not sent              0",
        "  needs attention       0",
        "",
        "Ledger: ledger.sqlite3",
    ]


def test_a_refused_token_is_named_with_its_variable() -> None:
    report = BulkReport(
        results=[result(2, SendState.NOT_SENT, "not sent: AuthenticationError 401")],
        not_started=[row(3)],
        token_refused=True,
    )

    assert "it refused the token in $LEADWAY_API_TOKEN, so nothing more was sent" in render(report)


def test_markup_in_a_key_or_reason_prints_as_written_on_a_terminal_too() -> None:
    hostile = BulkRow(2, "acme[/]nov", "inv[bold]", "loc", "user", SendAction.SMS, False)
    refused = result(2, SendState.REFUSED, "refused: BadRequestError 400: [bold]x[/bold] [link=http://e]y")
    report = BulkReport(results=[RowResult(hostile, refused.record)])

    for terminal in (False, True):
        text = render(report, terminal=terminal)
        assert "key acme[/]nov, invoice inv[bold]" in text
        assert "BadRequestError 400: [bold]x[/bold] [link=http://e]y" in text
        assert "\x1b" not in text


def test_control_characters_from_a_server_never_reach_the_terminal() -> None:
    evidence = Reconciliation(
        Outcome.UNDETERMINED, "invoice4", "status unchanged", "dr\x1b[2Jaft", None, "dr\x1b]0;pwn\x07aft", None, 2
    )
    record = result(4, SendState.NEEDS_ATTENTION, "outcome unknown: ServerError 500\r\nforged line").record
    assert record is not None
    report = BulkReport(results=[RowResult(row(4), attrs.evolve(record, evidence=evidence))])

    text = render(report)

    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\r" not in text
    assert "ServerError 500??forged line" in text
    assert "status dr?[2Jaft -> dr?]0;pwn?aft" in text


@given(
    key=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=60),
    reason=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300),
)
def test_any_key_or_reason_prints_without_error_and_without_control_characters(key: str, reason: str) -> None:
    hostile = BulkRow(2, key, "inv", "loc", "user", SendAction.SMS, False)
    record = result(2, SendState.NOT_SENT, reason).record
    text = render(BulkReport(results=[RowResult(hostile, record)]))

    unsafe = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
    assert all(char == "\n" or unicodedata.category(char) not in unsafe for char in text)
    assert len(text.splitlines()) == text.count("\n")


def test_at_80_columns_no_key_or_class_name_is_broken_across_lines() -> None:
    long_key = "acme-corporation-international/invoice-2026-11-reminder-number-two"
    reason = (
        "outcome unknown: OutcomeUnknownError (ReadTimeout); reconciled UNDETERMINED: the invoice still reads"
        " draft after 4 reads over 10 s; the InvoiceSent webhook (one delivery per send) is the remaining evidence"
    )
    hostile = BulkRow(2, long_key, "6578278e879ad2646715ba9c", "loc", "user", SendAction.SMS, False)
    record = result(2, SendState.NEEDS_ATTENTION, reason, evidence=True).record
    text = render(BulkReport(results=[RowResult(hostile, record)]), width=80)

    lines = text.splitlines()
    assert lines[lines.index(f"  line 2: key {long_key}") + 1] == "    invoice 6578278e879ad2646715ba9c"
    assert all(len(line) <= 80 for line in lines)
    assert "OutcomeUnknownError" in "".join(line for line in lines if "OutcomeUnknownError" in line)
    assert any("OutcomeUnknownError (ReadTimeout);" in line for line in lines)
    assert "│" not in text
