"""`leadway-invoices export LEDGER --format csv|jsonl`: every key's record, to standard output, for a
spreadsheet or another tool. The reconciliation's evidence is one JSON value (a column in CSV).

In CSV, a cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or
a carriage return: keys are the user's, reasons may quote the API) is written with a leading `'`,
which spreadsheets show as text (OWASP's advice for CSV injection). JSON lines keep every value as is.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console

from .._ledger.records import LedgerRecord, encode_evidence
from .usage import ledger_location, open_existing

COLUMNS = ("key", "invoice_id", "alt_id", "state", "reason", "attempts", "evidence")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def add(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="every key's record as CSV or JSON lines", description="Print every key's record."
    )
    export.add_argument("ledger", type=ledger_location, metavar="LEDGER", help="the ledger file or PostgreSQL URL")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default %(default)s")
    export.set_defaults(run=run)


def row(record: LedgerRecord) -> dict[str, Any]:
    evidence = None if record.evidence is None else json.loads(encode_evidence(record.evidence))
    return {
        "key": record.key,
        "invoice_id": record.invoice_id,
        "alt_id": record.alt_id,
        "state": record.state.value,
        "reason": record.reason,
        "attempts": record.attempts,
        "evidence": evidence,
    }


def as_text(value: object) -> object:
    """A CSV cell that no spreadsheet runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def run(args: argparse.Namespace, environ: Mapping[str, str], out: Console, err: Console) -> int:
    with open_existing(args.ledger) as ledger:
        records = ledger.records()
    text = io.StringIO()
    if args.format == "jsonl":
        for record in records:
            text.write(json.dumps(row(record)) + "\n")
    else:
        writer = csv.DictWriter(text, COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            found = row(record)
            found["evidence"] = "" if found["evidence"] is None else json.dumps(found["evidence"])
            writer.writerow({column: as_text(value) for column, value in found.items()})
    out.file.write(text.getvalue())
    return 0
