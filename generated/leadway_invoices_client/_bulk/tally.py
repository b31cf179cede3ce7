"""A bulk run's results sorted for its user: counts, every row not sent, refused or needing attention
with its reason (and, for attention, the evidence), and the exit code that says whether the run
finished. (The command line prints them: `cli/summary.py`.)

The words mean one thing each: *sent*, the API took the send (or reconciliation found it had);
*refused*, the API refused it as asked (or the invoice was no longer a draft), and sending it again
would be refused again; *not sent*, provably not sent, and the next run sends it; *needs attention*,
the outcome is unknown: the invoice may have been sent.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from enum import IntEnum

from .._ledger.ledger import SendState
from .engine import BulkReport, RowResult
from .rows import BulkRow


class ExitCode(IntEnum):
    """The command's exit status."""

    ALL_SENT = 0
    """Every row is sent (by this run or an earlier one), or refused with its reason."""
    NOT_ALL_SENT = 1
    """Some row was not sent or needs attention (the summary lists each), or the token was refused."""
    USAGE = 2
    """Bad command line, environment or input file: nothing was sent."""
    INTERRUPTED = 128 + signal.SIGINT
    """Stopped by Ctrl-C (130): sends in flight were finished and recorded; run again to resume."""
    TERMINATED = 128 + signal.SIGTERM
    """Stopped by SIGTERM (143), as by a first Ctrl-C."""

    @classmethod
    def for_signal(cls, signum: int | None) -> ExitCode:
        """The status of a run a signal stopped (INTERRUPTED when it is not known which)."""
        return cls.TERMINATED if signum == signal.SIGTERM else cls.INTERRUPTED


@dataclass(frozen=True, slots=True)
class Line:
    """One row that needs telling about: the row and why (and, for attention, the evidence)."""

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
    refused: list[Line] = field(default_factory=list)
    not_sent: list[Line] = field(default_factory=list)
    attention: list[Line] = field(default_factory=list)
    not_started: int = 0
    interrupted: bool = False
    token_refused: bool = False
    signal: int | None = None
    """The signal that stopped the run (SIGINT or SIGTERM), when one did."""

    @property
    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.for_signal(self.signal)
        if self.not_sent or self.attention or self.not_started or self.token_refused:
            return ExitCode.NOT_ALL_SENT
        return ExitCode.ALL_SENT


def evidence_text(evidence: object, *, without: str = "") -> str:
    """A reconciliation in one line: what the invoice's status was before and after, over how many
    reads, and why it concluded (unless `without`, the row's reason, says so already)."""
    if evidence is None:
        return ""
    before, after = getattr(evidence, "before_status", None), getattr(evidence, "after_status", None)
    reads = getattr(evidence, "reads", None)
    reason = getattr(evidence, "reason", None)
    parts = [str(reason)] if reason and str(reason) not in without else []
    parts.append(f"status {before or 'unknown'} -> {after or 'unknown'}")
    if reads is not None:
        parts.append(f"{reads} read{'s' if reads != 1 else ''}")
    return "; ".join(parts)


def _add(tally: Tally, result: RowResult) -> None:
    record = result.record
    if record is None:
        tally.not_sent.append(Line(result.row, result.bad_input or "the ledger took the row for bad input"))
        return
    if record.state is SendState.SENT:
        if record.skipped:
            tally.already_sent += 1
        else:
            tally.sent += 1
        # By its reason, not its evidence: a key resent after a reconciled not-sent keeps that evidence.
        if "reconciled" in record.reason:
            tally.confirmed += 1
    elif record.state is SendState.REFUSED:
        tally.refused.append(Line(result.row, record.reason.removeprefix("refused: ")))
    elif record.state is SendState.NOT_SENT:
        # The summary says "not sent" already; the ledger's reason repeats it for readers of the ledger alone.
        tally.not_sent.append(Line(result.row, record.reason.removeprefix("not sent: ")))
    else:
        # NEEDS_ATTENTION, or PENDING: being sent by another run, or not yet reconcilable (the next run tries again).
        tally.attention.append(Line(result.row, record.reason, evidence_text(record.evidence, without=record.reason)))


def tally(report: BulkReport, *, signal_number: int | None = None) -> Tally:
    """Sort every row of `report` (detail lines in file order); `signal_number`: what stopped it."""
    counted = Tally(
        not_started=len(report.not_started),
        interrupted=report.interrupted,
        token_refused=report.token_refused,
        signal=signal_number,
    )
    for result in report.results:
        _add(counted, result)
    for lines in (counted.refused, counted.not_sent, counted.attention):
        lines.sort(key=lambda line: line.row.line)
    return counted
