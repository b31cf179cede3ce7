"""What every command of the command line shares: the usage error, a ledger's location as given (a
file or a PostgreSQL URL) and as shown, and opening a ledger that must already exist (an operator's
commands read or settle a ledger; they never create a file)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._ledger.ledger import SendLedger
from .._ledger.postgres_store import is_postgres_url, masked
from .._ledger.records import LedgerError


class UsageError(Exception):
    """The command line, environment or file cannot be used; nothing was sent. The message says why."""


def whole_number(text: str) -> int:
    """An option's count (workers, sends in flight, reads): a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def ledger_location(text: str) -> Path | str:
    """A ledger argument: a PostgreSQL URL as given (a Path would fold its `//`), else a file's path."""
    return text if is_postgres_url(text) else Path(text)


def shown(ledger: Path | str) -> str:
    """The ledger as it may be printed: a URL's password masked."""
    return masked(ledger)[0] if isinstance(ledger, str) else str(ledger)


def open_existing(path: Path | str) -> SendLedger:
    """The ledger at `path` (a file that must exist, or a PostgreSQL URL); UsageError when there is
    none or it is not one."""
    if isinstance(path, Path) and not path.is_file():
        raise UsageError(f"no ledger at {path}")
    try:
        return SendLedger(path)
    except LedgerError as exc:
        raise UsageError(str(exc)) from None
