"""The bulk command's summary on the terminal: a count table, then a table for each kind of row that
needs the user (sorted by `_bulk.tally`)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from .._bulk.tally import Line, Tally


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
