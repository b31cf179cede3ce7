# Copied from spec/runtime/_bulk_summary.py by a post hook in spec/generator.yaml. Edit that file, then run scripts/nox -s generate.
# Source sha256: dddea2a96a715b5afd78cca11bdb6d9d214381e14999b439245de182b1e04473
"""What a bulk send tells its user at the end: counts, every row not sent with its reason, every row
that needs attention with the evidence, and the exit code that says whether everything was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ._bulk import BulkReport, RowResult
from ._bulk_rows import BulkRow
from ._ledger import SendState


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


def _details(title: str, lines: Sequence[Line], *, evidence: bool) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("line", justify="right", no_wrap=True)
    table.add_column("key", overflow="fold")
    table.add_column("invoice", no_wrap=True)
    table.add_column("reason", overflow="fold")
    if evidence:
        table.add_column("evidence", overflow="fold")
    for line in lines:
        cells = [str(line.row.line), line.row.key, line.row.invoice_id, line.reason]
        table.add_row(*cells, *([line.evidence] if evidence else []))
    return table


def render(counted: Tally, *, source: str, ledger: str) -> RenderableType:
    """The summary: a count table, then one table per kind of row that needs the user."""
    counts = Table(show_header=False)
    counts.add_column("outcome")
    counts.add_column("rows", justify="right")
    counts.add_column("note")
    notes = [f"{counted.already_sent} by an earlier run"] if counted.already_sent else []
    if counted.confirmed:
        notes.append(f"{counted.confirmed} confirmed by reading the invoice after an unknown outcome")
    counts.add_row("sent", str(counted.sent + counted.already_sent), "; ".join(notes))
    counts.add_row("not sent", str(len(counted.not_sent)), "a reason for each below" if counted.not_sent else "")
    counts.add_row(
        "needs attention",
        str(len(counted.attention)),
        "check each invoice before sending it again" if counted.attention else "",
    )
    if counted.not_started:
        counts.add_row("not started", str(counted.not_started), "interrupted: run the same command again to resume")
    parts: list[RenderableType] = [Text(f"Bulk send of {source}", style="bold"), counts]
    if counted.not_sent:
        parts.append(_details("Not sent", counted.not_sent, evidence=False))
    if counted.attention:
        parts.append(_details("Needs attention (the invoice may have been sent)", counted.attention, evidence=True))
    parts.append(Text(f"Ledger: {ledger} (run the same command again to resume or retry what was not sent)"))
    return Group(*parts)


def print_summary(console: Console, counted: Tally, *, source: str, ledger: str) -> None:
    console.print(render(counted, source=source, ledger=ledger))
