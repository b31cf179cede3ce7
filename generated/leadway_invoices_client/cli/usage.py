"""What every command of the command line shares: the usage error, and opening a ledger that must
already exist (an operator's commands read or settle a ledger; they never create one)."""

from __future__ import annotations

from pathlib import Path

from .._ledger.ledger import SendLedger
from .._ledger.records import LedgerError


class UsageError(Exception):
    """The command line, environment or file cannot be used; nothing was sent. The message says why."""


def open_existing(path: Path) -> SendLedger:
    """The ledger at `path`; UsageError when there is none or it is not one."""
    if not path.is_file():
        raise UsageError(f"no ledger at {path}")
    try:
        return SendLedger(path)
    except LedgerError as exc:
        raise UsageError(str(exc)) from None
