"""The bulk command's summary: plain text that reads the same in an 80-column terminal and in a log.

No table: a table's columns fold a long key or class name across lines, and a log has no terminal to
draw one. Counts first, then a block per row that needs the user (sorted by `_bulk.tally`): its line,
key and invoice on one line, then the reason, wrapped at spaces only. Every string is printed as text,
never as markup, and made plain first (`_runtime/text.py`): a key such as `acme[/]nov` or a server's
status with an escape sequence in it prints as it is, harmlessly.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence

from rich.console import Console

from .._bulk.tally import Line, Tally
from .._runtime.constants import API_TOKEN_ENV
from .._runtime.text import plain

# Bounds on what one row prints: a key is at most 200 characters in a file, a reason and its evidence
# are bounded by the ledger; these only keep a block readable.
_KEY = 200
_TEXT = 600
_INDENT = "    "
_MIN_WIDTH = 60


def _count(name: str, count: int, note: str = "") -> str:
    """A count and, when there is something to count, what it means."""
    return f"  {name:<16}{count:>7}" + (f"  {note}" if note and count else "")


def _block(line: Line, width: int) -> Iterator[str]:
    head, invoice = f"  line {line.row.line}: key {plain(line.row.key, _KEY)}", plain(line.row.invoice_id, _KEY)
    if len(head) + len(invoice) + 10 <= width:
        yield f"{head}, invoice {invoice}"
    else:  # a long key keeps a line of its own
        yield from (head, f"{_INDENT}invoice {invoice}")
    for text in (line.reason, f"evidence: {line.evidence}" if line.evidence else ""):
        if text:
            yield from textwrap.wrap(
                plain(text, _TEXT),
                width,
                initial_indent=_INDENT,
                subsequent_indent=_INDENT,
                break_long_words=False,
                break_on_hyphens=False,
            )


def _section(title: str, lines: Sequence[Line], width: int) -> Iterator[str]:
    if lines:
        yield ""
        yield f"{title} ({len(lines)}):"
        for line in lines:
            yield from _block(line, width)


def lines(counted: Tally, *, source: str, ledger: str, width: int = 80) -> list[str]:
    """The summary, line by line; reasons wrap at `width` (at least 60)."""
    width = max(width, _MIN_WIDTH)
    earlier = [f"{counted.already_sent} by an earlier run"] if counted.already_sent else []
    if counted.confirmed:
        earlier.append(f"{counted.confirmed} confirmed by reading the invoice")
    text = [
        f"Bulk send of {plain(source, _TEXT)}",
        _count("sent", counted.sent + counted.already_sent, "; ".join(earlier)),
        _count("refused", len(counted.refused), "each with its reason below; --retry-refused tries again"),
        _count("not sent", len(counted.not_sent), "provably not sent: the next run sends them"),
        _count("needs attention", len(counted.attention), "may have been sent: check before sending again"),
    ]
    if counted.not_started:
        text.append(_count("not started", counted.not_started, "stopped: run the same command again to resume"))
    if counted.token_refused:
        text += [
            "",
            f"Stopped at the API's first 401: it refused the token in ${API_TOKEN_ENV}, so nothing more was sent.",
            f"Set ${API_TOKEN_ENV} to a valid token and run the same command again.",
        ]
    text += _section("Refused (sending again would be refused again)", counted.refused, width)
    text += _section("Not sent", counted.not_sent, width)
    text += _section("Needs attention (the invoice may have been sent)", counted.attention, width)
    text += ["", f"Ledger: {plain(ledger, _TEXT)}"]
    if counted.attention:
        text += [
            "Each key's evidence:  leadway-invoices status LEDGER",
            "Settle a key once its invoice is checked; the next run then skips or sends it:",
            "  leadway-invoices resolve LEDGER KEY --sent|--not-sent --note TEXT",
            "A webhook receiver (leadway-invoices webhooks serve --ledger LEDGER) settles",
            "them by itself when HighLevel's InvoiceSent webhook for the invoice comes.",
        ]
    return text


def print_summary(console: Console, counted: Tally, *, source: str, ledger: str) -> None:
    """Print the summary as plain text (no markup, no highlighting, no wrapping by the console)."""
    for line in lines(counted, source=source, ledger=ledger, width=console.width):
        console.out(line, highlight=False)
