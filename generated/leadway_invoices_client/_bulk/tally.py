"""A bulk run's results sorted for its user: counts, every row not sent with its reason, every row
that needs attention with the evidence, and the exit code that says whether everything was sent.
(The command line prints them: `cli/summary.py`.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from .._ledger.ledger import SendState
from .engine import BulkReport, RowResult
from .rows import BulkRow


class ExitCode(IntEnum):
    """The command's exit status."""

    ALL_SENT = 0
    """Every row is sent (by this run or an earlier one)."""
    NOT_ALL_SENT = 1
    """Some row was not sent, or needs attention: the summary lists each."""
    USAGE = 2
    """Bad command line, environment or input file: nothing was sent."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C: sends in flight were finished and recorded; run again to resume."""


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a detail table."""

    row: BulkRow
    reason: str
    evidence: str = ""


@dataclass(slots=True)
class Tally:
    """A report sorted for the summary."""

    sent: int = 0
    already_sent: int = 0
    confirmed: int = 0
    """Sent rows whose outcome was unknown until reconciliation read the invoice."""
    not_sent: list[Line] = field(default_factory=list)
    attention: list[Line] = field(default_factory=list)
    not_started: int = 0
    interrupted: bool = False

    @property
    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.not_sent or self.attention or self.not_started:
            return ExitCode.NOT_ALL_SENT
        return ExitCode.ALL_SENT


def evidence_text(evidence: object) -> str:
    """A reconciliation in one line: what the invoice's status was before and after, over how many reads."""
    if evidence is None:
        return ""
    before, after = getattr(evidence, "before_status", None), getattr(evidence, "after_status", None)
    reads = getattr(evidence, "reads", None)
    reason = getattr(evidence, "reason", None)
    parts = [str(reason)] if reason else []
    parts.append(f"status {before or 'unknown'} -> {after or 'unknown'}")
    if reads is not None:
        parts.append(f"{reads} read{'s' if reads != 1 else ''}")
    return "; ".join(parts)


def _add(tally: Tally, result: RowResult) -> None:
    record = result.record
    if record is None:
        tally.not_sent.append(Line(result.row, result.refused or "refused by the ledger"))
        return
    if record.state is SendState.SENT:
        if record.skipped:
            tally.already_sent += 1
        else:
            tally.sent += 1
        # By its reason, not its evidence: a key resent after a reconciled not-sent keeps that evidence.
        if "reconciled" in record.reason:
            tally.confirmed += 1
    elif record.state is SendState.NOT_SENT:
        # The table says "not sent" already; the ledger's reason repeats it for readers of the ledger alone.
        tally.not_sent.append(Line(result.row, record.reason.removeprefix("not sent: ")))
    else:
        # NEEDS_ATTENTION, or PENDING: being sent by another run, or not yet reconcilable (the next run tries again).
        tally.attention.append(Line(result.row, record.reason, evidence_text(record.evidence)))


def tally(report: BulkReport) -> Tally:
    """Sort every row of `report` (detail lines in file order)."""
    counted = Tally(not_started=len(report.not_started), interrupted=report.interrupted)
    for result in report.results:
        _add(counted, result)
    counted.not_sent.sort(key=lambda line: line.row.line)
    counted.attention.sort(key=lambda line: line.row.line)
    return counted
