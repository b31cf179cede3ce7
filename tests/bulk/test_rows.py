"""Reading and checking a bulk-send file: every problem with its line number, before any I/O."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from leadway_invoices_client._bulk.rows import BulkFileError, BulkRow, RowProblem, read_rows
from leadway_invoices_client.models import AltType, SendAction, SendInvoiceRequest

HEADER = "key,invoice_id,location_id,user_id,action,live_mode\n"
INVOICE = "6578278e879ad2646715ba9c"
OTHER = "6578278e879ad2646715ba9d"


def write(tmp_path: Path, text: str, name: str = "invoices.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_csv_gives_rows_in_file_order_with_their_line_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + f"k1,{INVOICE},loc-1,user-1,email,false\n\n k2 ,{OTHER},loc-2,user-1, sms ,TRUE\n",
    )

    checked = read_rows(path)

    assert checked.problems == ()
    assert checked.rows == (
        BulkRow(2, "k1", INVOICE, "loc-1", "user-1", SendAction.EMAIL, False),
        BulkRow(4, "k2", OTHER, "loc-2", "user-1", SendAction.SMS, True),
    )
    assert checked.rows[1].body() == SendInvoiceRequest(
        alt_id="loc-2", alt_type=AltType.LOCATION, user_id="user-1", action=SendAction.SMS, live_mode=True
    )


def test_json_lines_are_read_by_extension_or_by_content(tmp_path: Path) -> None:
    record = {
        "key": "k1",
        "invoice_id": INVOICE,
        "location_id": "l",
        "user_id": "u",
        "action": "sms_and_email",
        "live_mode": False,
    }
    for name in ("rows.jsonl", "rows.txt"):
        checked = read_rows(write(tmp_path, json.dumps(record) + "\n", name))
        assert checked.rows == (BulkRow(1, "k1", INVOICE, "l", "u", SendAction.SMS_AND_EMAIL, False),)


def test_every_bad_row_is_reported_with_its_line_and_every_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + f"k1,{INVOICE},loc,user,email,false\n"
        + "k2,../x,,user,fax,maybe\n"
        + f"k1,{INVOICE},loc,user,email,false\n"
        + "k3,only,three\n"
        + f",{INVOICE},loc,user,sms,false\n",
    )

    checked = read_rows(path)

    assert [row.key for row in checked.rows] == ["k1"]
    assert [str(problem) for problem in checked.problems] == [
        "line 3: invoice_id contains '/', which would change the request's path or query;"
        " only letters, digits and '-', '_', '.', '~' are allowed",
        "line 3: location_id is empty",
        "line 3: action must be one of email, send_manually, sms, sms_and_email, not 'fax'",
        "line 3: live_mode must be true or false, not 'maybe'",
        "line 4: key 'k1' is already used on line 2",
        "line 5: 3 cells; the header has 6",
        "line 6: key is empty",
    ]


def test_json_lines_problems_name_json_types_and_unknown_keys(tmp_path: Path) -> None:
    lines = [
        '{"key": "k1", "invoice_id": 12, "location_id": "l", "user_id": "u", "action": "sms", "live_mode": "yes", '
        '"extra": 1}',
        "[1, 2]",
        "{not json",
        '{"key": "k2"}',
    ]

    checked = read_rows(write(tmp_path, "\n".join(lines) + "\n", "rows.jsonl"))

    assert checked.rows == ()
    messages = [str(problem) for problem in checked.problems]
    assert messages[:3] == [
        "line 1: unknown column(s) 'extra'; expected key, invoice_id, location_id, user_id, action, live_mode",
        "line 1: invoice_id must be a string, not int",
        "line 1: live_mode must be true or false, not 'yes'",
    ]
    assert messages[3].startswith("line 2: expected a JSON object with keys key, invoice_id")
    assert messages[4].startswith("line 3: not valid JSON")
    assert messages[5] == "line 4: missing invoice_id, location_id, user_id, action, live_mode"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; the first line must be the header"),
        (
            "key,invoice_id\n",
            "the header must be key,invoice_id,location_id,user_id,action,live_mode (missing location_id",
        ),
        (HEADER.replace("live_mode", "livemode"), "unknown column(s) 'livemode'; missing live_mode"),
        (HEADER, "has no rows to send"),
    ],
)
def test_a_file_that_is_not_rows_at_all_is_one_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BulkFileError, match=None) as raised:
        read_rows(write(tmp_path, text))

    assert message in str(raised.value)


def test_unreadable_and_non_utf8_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(BulkFileError, match="cannot read"):
        read_rows(tmp_path / "missing.csv")
    path = tmp_path / "latin1.csv"
    path.write_bytes(HEADER.encode() + b"k\xe9,x,l,u,sms,false\n")
    with pytest.raises(BulkFileError, match="is not UTF-8 text"):
        read_rows(path)


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    checked = read_rows(write(tmp_path, "\ufeff" + HEADER + f"k1,{INVOICE},l,u,sms,false\n"))

    assert checked.problems == ()
    assert checked.rows[0].key == "k1"


def test_row_problem_text() -> None:
    assert str(RowProblem(7, "key is empty")) == "line 7: key is empty"


def test_an_invoice_on_two_lines_is_refused_naming_both_lines_unless_allowed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + f"nov,{INVOICE},loc,user,email,false\n"
        + f"{OTHER},{OTHER},loc,user,email,false\n"
        + f"nov-again,{INVOICE.upper()},loc,user,sms,false\n",
    )

    assert [str(problem) for problem in read_rows(path).problems] == [
        f"line 4: invoice {INVOICE.upper()} is also on line 2: a file sends an invoice once"
        " (--allow-repeated-invoices sends both, one after the other)"
    ]
    allowed = read_rows(path, repeated_invoices=True)
    assert allowed.problems == ()
    assert [row.key for row in allowed.rows] == ["nov", OTHER, "nov-again"]


def test_a_key_is_one_key_in_any_unicode_normal_form(tmp_path: Path) -> None:
    composed, decomposed = "caf\u00e9-nov", "cafe\u0301-nov"
    path = write(
        tmp_path,
        HEADER + f"{composed},{INVOICE},loc,user,email,false\n" + f"{decomposed},{OTHER},loc,user,email,false\n",
    )

    checked = read_rows(path)

    assert [str(problem) for problem in checked.problems] == [f"line 3: key {composed!r} is already used on line 2"]
    assert [row.key for row in read_rows(write(tmp_path, HEADER + f"{decomposed},{INVOICE},l,u,sms,false\n")).rows] == [
        composed
    ]


def test_the_optional_resend_column_asks_for_a_deliberate_resend(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "key,invoice_id,location_id,user_id,action,live_mode,resend\n"
        + f"a,{INVOICE},loc,user,email,false,true\n"
        + f"b,{OTHER},loc,user,email,false,\n"
        + f"c,{OTHER}0,loc,user,email,false,FALSE\n"
        + f"d,{OTHER}1,loc,user,email,false,again\n",
    )

    checked = read_rows(path)

    assert [(row.key, row.resend) for row in checked.rows] == [("a", True), ("b", False), ("c", False)]
    assert [str(problem) for problem in checked.problems] == ["line 5: resend must be true or false, not 'again'"]
