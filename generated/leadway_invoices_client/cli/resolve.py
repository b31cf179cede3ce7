"""`leadway-invoices resolve LEDGER KEY --sent|--not-sent --note TEXT`: a person's verdict on a key
whose outcome the ledger could not settle (`SendLedger.resolve`): SENT, never sent again; NOT_SENT,
the next run sends it."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from rich.console import Console

from .._ledger.records import LedgerError, SendState
from .._runtime.text import plain
from .usage import UsageError, ledger_location, open_existing


def add(commands: Any) -> None:
    resolve = commands.add_parser(
        "resolve",
        help="record a person's verdict on a key: --sent (never send it) or --not-sent (the next run sends it)",
        description="Record how a key's send ended, once you checked the invoice (or the customer).",
    )
    resolve.add_argument("ledger", type=ledger_location, metavar="LEDGER", help="the ledger file or PostgreSQL URL")
    resolve.add_argument("key", metavar="KEY", help="the key, as the summary or `status` shows it")
    verdict = resolve.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--sent", dest="state", action="store_const", const=SendState.SENT, help="it was sent")
    verdict.add_argument(
        "--not-sent", dest="state", action="store_const", const=SendState.NOT_SENT, help="it was not sent"
    )
    resolve.add_argument(
        "--note", required=True, metavar="TEXT", help="how you know (kept with the key; no customer data)"
    )
    resolve.set_defaults(run=run)


def run(args: argparse.Namespace, environ: Mapping[str, str], out: Console, err: Console) -> int:
    with open_existing(args.ledger) as ledger:
        try:
            record = ledger.resolve(args.key, args.state, args.note)
        except (LedgerError, ValueError) as exc:
            raise UsageError(str(exc)) from None
    out.out(f"key {plain(record.key, 200)}: {record.state.value} ({plain(record.reason, 600)})", highlight=False)
    return 0
