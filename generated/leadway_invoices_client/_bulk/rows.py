"""The bulk-send input file: CSV or JSON lines, one intended send per row, checked before any I/O.

Every row is checked, and every problem is kept with its line number, so that a user fixes a file in
one pass instead of one error per run. A row is either a `BulkRow` (everything a send needs) or a
`RowProblem`; a file that cannot be read as rows at all (not found, not UTF-8, no header) raises
`BulkFileError`.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._runtime.validation import path_segment
from ..models.alt_type import AltType
from ..models.send_action import SendAction
from ..models.send_invoice_request import SendInvoiceRequest

COLUMNS = ("key", "invoice_id", "location_id", "user_id", "action", "live_mode")
OPTIONAL_COLUMNS = ("resend",)
"""`resend`: true to send the row's invoice even if it no longer reads draft (a deliberate resend, such
as a reminder); empty or false otherwise."""
#: Extensions read as JSON lines; anything else is read as CSV unless its first character is `{`.
JSON_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson"})
# A key names one intended send in the ledger; longer than this is almost surely a mistake (a pasted row).
MAX_KEY_LENGTH = 200
# Ids go into a JSON body (location, user), not the URL, but the API's are 24 characters: this
# only keeps a runaway cell out of every request.
MAX_ID_LENGTH = 128
_ACTIONS = ", ".join(action.value for action in SendAction)
_BOOLEANS = {"true": True, "false": False}


class BulkFileError(Exception):
    """The file cannot be read as rows at all; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class BulkRow:
    """One intended send, as the file states it."""

    line: int
    key: str
    invoice_id: str
    location_id: str
    user_id: str
    action: SendAction
    live_mode: bool
    resend: bool = False
    """Send even if the invoice no longer reads draft: the row asks for a deliberate resend."""

    def body(self) -> SendInvoiceRequest:
        """The request body of this row's send."""
        return SendInvoiceRequest(
            alt_id=self.location_id,
            alt_type=AltType.LOCATION,
            user_id=self.user_id,
            action=self.action,
            live_mode=self.live_mode,
        )


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one line of the file cannot be sent."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class BulkFile:
    """Every row of a file: the good ones in file order, and every problem found."""

    rows: tuple[BulkRow, ...]
    problems: tuple[RowProblem, ...]


def _text(name: str, value: object, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {_json_type(value)}")
    text = value.strip()
    if not text:
        raise ValueError(f"{name} is empty")
    if len(text) > limit:
        raise ValueError(f"{name} is {len(text)} characters long; at most {limit} are allowed")
    if any(not c.isprintable() for c in text):
        raise ValueError(f"{name} contains a control character")
    return text


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOLEANS:
        return _BOOLEANS[value.strip().lower()]
    shown = repr(value) if isinstance(value, str) else _json_type(value)
    raise ValueError(f"{name} must be true or false, not {shown}")


def _live_mode(value: object) -> bool:
    return _boolean("live_mode", value)


def _action(value: object) -> SendAction:
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text in SendAction._value2member_map_:
        return SendAction(text)
    shown = repr(value) if isinstance(value, str) else _json_type(value)
    raise ValueError(f"action must be one of {_ACTIONS}, not {shown}")


def _row(line: int, record: Mapping[str, object]) -> BulkRow | list[str]:
    """The row, or every problem of it (each field is checked, so one pass shows them all)."""
    messages: list[str] = []
    unknown = sorted(set(record) - set(COLUMNS) - set(OPTIONAL_COLUMNS))
    if unknown:
        messages.append(f"unknown column(s) {', '.join(map(repr, unknown))}; expected {', '.join(COLUMNS)}")
    missing = [name for name in COLUMNS if record.get(name) is None]
    if missing:
        messages.append(f"missing {', '.join(missing)}")
    values: dict[str, Any] = {}
    checks = {
        "key": lambda v: _text("key", v, MAX_KEY_LENGTH),
        "invoice_id": lambda v: path_segment("invoice_id", v.strip() if isinstance(v, str) else v),
        "location_id": lambda v: _text("location_id", v, MAX_ID_LENGTH),
        "user_id": lambda v: _text("user_id", v, MAX_ID_LENGTH),
        "action": _action,
        "live_mode": _live_mode,
    }
    for name, check in checks.items():
        if name in missing:
            continue
        try:
            values[name] = check(record[name])
        except ValueError as exc:
            messages.append(str(exc))
    resend = record.get("resend")
    if resend is not None and resend != "":  # optional: an empty cell is no
        try:
            values["resend"] = _boolean("resend", resend)
        except ValueError as exc:
            messages.append(str(exc))
    if messages:
        return messages
    # One key, one send, however the file spelled it: a spreadsheet may export an accent decomposed.
    values["key"] = unicodedata.normalize("NFC", values["key"])
    return BulkRow(line=line, **values)


def _csv_records(path: Path, text: str) -> Iterator[tuple[int, Mapping[str, object] | str]]:
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise BulkFileError(f"{path}: line 1: {exc}") from exc
    if header is None:
        raise BulkFileError(f"{path} is empty; the first line must be the header {','.join(COLUMNS)}")
    header = [name.strip().lstrip("\ufeff") for name in header]
    if sorted(name for name in header if name not in OPTIONAL_COLUMNS) != sorted(COLUMNS) or len(set(header)) < len(
        header
    ):
        unknown = [n for n in header if n not in COLUMNS and n not in OPTIONAL_COLUMNS]
        missing = [n for n in COLUMNS if n not in header]
        detail = "; ".join(
            part
            for part in (
                f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else "",
                f"missing {', '.join(missing)}" if missing else "",
                "a column is repeated" if not unknown and not missing else "",
            )
            if part
        )
        raise BulkFileError(f"{path}: line 1: the header must be {','.join(COLUMNS)} ({detail})")
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, str(exc)
            continue
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(header):
            yield reader.line_num, f"{len(cells)} cells; the header has {len(header)}"
            continue
        yield reader.line_num, dict(zip(header, cells, strict=True))


def _json_records(text: str) -> Iterator[tuple[int, Mapping[str, object] | str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield number, f"not valid JSON ({exc})"
            continue
        if not isinstance(record, dict):
            yield number, f"expected a JSON object with keys {', '.join(COLUMNS)}, got {_json_type(record)}"
            continue
        yield number, record


def read_rows(path: Path, *, repeated_invoices: bool = False) -> BulkFile:
    """Read and check every row of `path` (CSV with a header, or JSON lines), before any I/O.

    A key used on two lines is a problem on the later line: a key names one intended send. So is an
    invoice on two lines, unless `repeated_invoices`: within one file it is a mistake (the customer
    would get it twice, often at once); a deliberate second send is a row of a later run, under a key
    of its own, with `resend`.

    Raises:
        BulkFileError: unreadable, not UTF-8, or a CSV whose header is not `COLUMNS`.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BulkFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BulkFileError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    json_lines = path.suffix.lower() in JSON_LINES_SUFFIXES or text.lstrip("\ufeff \t\r\n").startswith("{")
    records = _json_records(text.lstrip("\ufeff")) if json_lines else _csv_records(path, text)
    rows: list[BulkRow] = []
    problems: list[RowProblem] = []
    first_line_of_key: dict[str, int] = {}
    first_line_of_invoice: dict[str, int] = {}
    for line, record in records:
        if isinstance(record, str):
            problems.append(RowProblem(line, record))
            continue
        row = _row(line, record)
        if isinstance(row, list):
            problems.extend(RowProblem(line, message) for message in row)
        elif row.key in first_line_of_key:
            problems.append(RowProblem(line, f"key {row.key!r} is already used on line {first_line_of_key[row.key]}"))
        elif row.invoice_id.lower() in first_line_of_invoice and not repeated_invoices:
            earlier = first_line_of_invoice[row.invoice_id.lower()]
            problems.append(
                RowProblem(
                    line,
                    f"invoice {row.invoice_id} is also on line {earlier}: a file sends an invoice once"
                    " (--allow-repeated-invoices sends both, one after the other)",
                )
            )
        else:
            first_line_of_key[row.key] = line
            # Ids are hex: the API may read 6578AB and 6578ab as one invoice.
            first_line_of_invoice.setdefault(row.invoice_id.lower(), line)
            rows.append(row)
    if not rows and not problems:
        raise BulkFileError(f"{path} has no rows to send")
    return BulkFile(tuple(rows), tuple(problems))
