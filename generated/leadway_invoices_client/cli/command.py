"""`leadway-invoices send FILE`: send every invoice a file lists, exactly once, and say what happened.

    LEADWAY_API_TOKEN=... leadway-invoices send invoices.csv [--base-url URL] [--ledger PATH] [--dry-run] [--workers N]

The file is CSV with the header `key,invoice_id,location_id,user_id,action,live_mode`, or JSON lines
with those keys. It is checked whole before anything is sent: every bad row is reported with its line
number, and none is sent while any is bad. Each send goes through a `SendLedger` (default: FILE's
name plus `.ledger.sqlite3`, beside it), so a run that is stopped or killed can be run again: keys
already sent are skipped, keys left pending are reconciled before anything is resent. The rows are
sent by worker processes, each for its own locations (`_bulk/workers.py`).

Exit status: 0 every row sent; 1 some row not sent or needing attention (the summary lists each);
2 bad usage, environment or file (nothing sent); 130 stopped by Ctrl-C (run again to resume).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .._bulk.engine import BulkReport, RowResult, bulk_client, run_bulk
from .._bulk.interrupts import on_interrupt
from .._bulk.rows import COLUMNS, BulkFile, BulkFileError, read_rows
from .._bulk.tally import ExitCode, tally
from .._bulk.workers import Workers, WorkerSetup, worker_count
from .._ledger.ledger import SendLedger, SendState
from .._ledger.records import LedgerError
from .._runtime.client import AuthenticatedClient
from .._runtime.constants import API_TOKEN_ENV as TOKEN_ENV
from .._runtime.constants import BULK_CONCURRENCY, BULK_PER_LOCATION, GRACE_PERIOD, LEDGER_SUFFIX, PRODUCTION_URL
from .._runtime.guard import Target, TargetRefused, check_target
from .._runtime.validation import seconds
from .summary import print_summary

STOPPING = "Stopping: no new sends; waiting for those in flight (Ctrl-C again to abandon them)"


def _stop(stop: asyncio.Event, console: Console) -> None:
    console.print(STOPPING)
    stop.set()


class UsageError(Exception):
    """The command line, environment or file cannot be used; nothing was sent. The message says why."""


def _seconds(text: str) -> float:
    try:
        return seconds("the value", float(text))
    except ValueError as exc:
        # argparse names the option; the package's one check of a duration says what is wrong.
        problem = str(exc) if "must be" in str(exc) else f"the value must be a number of seconds, not {text!r}"
        raise argparse.ArgumentTypeError(problem) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="leadway-invoices",
        description="Leadway invoices from the command line. The token comes from $" + TOKEN_ENV + ".",
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    send = commands.add_parser(
        "send",
        help="send every invoice a CSV or JSON-lines file lists, exactly once (resumable)",
        description=(
            "Send every invoice FILE lists, each exactly once: a ledger beside FILE records every send, "
            "so running the same command again resumes. Exit status: 0 all sent, 1 some not sent or "
            "needing attention, 2 bad usage or file (nothing sent), 130 interrupted."
        ),
    )
    send.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help=f"CSV with header {','.join(COLUMNS)}, or JSON lines with those keys",
    )
    send.add_argument("--base-url", default=PRODUCTION_URL, help="the API (default %(default)s)")
    send.add_argument("--ledger", type=Path, metavar="PATH", help=f"the ledger file (default FILE{LEDGER_SUFFIX})")
    send.add_argument(
        "--dry-run", action="store_true", help="check the whole file and report every bad row; send nothing"
    )
    send.add_argument(
        "--grace-period",
        type=_seconds,
        default=GRACE_PERIOD,
        metavar="SECONDS",
        help="after an unknown outcome, how long the invoice is watched for the send (default %(default)s)",
    )
    send.add_argument(
        "--concurrency",
        type=_count,
        default=BULK_CONCURRENCY,
        metavar="N",
        help="sends in flight at once (default %(default)s)",
    )
    send.add_argument(
        "--per-location",
        type=_count,
        default=BULK_PER_LOCATION,
        metavar="N",
        help="of which per location (default %(default)s)",
    )
    send.add_argument(
        "--workers",
        type=_count,
        metavar="N",
        help="processes sending, each its own locations (default: one per core, at most one a location; 1 on Windows)",
    )
    return top


def ledger_path(file: Path, ledger: Path | None) -> Path:
    return ledger if ledger is not None else file.with_name(file.name + LEDGER_SUFFIX)


def _report_problems(console: Console, path: Path, checked: BulkFile) -> None:
    for problem in checked.problems:
        console.print(f"{path}: {problem}", markup=False, highlight=False, soft_wrap=True)
    rows = len(checked.rows) + len({p.line for p in checked.problems})
    console.print(
        f"{path}: {len({p.line for p in checked.problems})} of {rows} rows have problems; nothing was sent",
        markup=False,
        soft_wrap=True,
        highlight=False,
    )


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def _progress_bar(console: Console, total: int) -> Iterator[Callable[[RowResult], None]]:
    """A progress bar for `total` rows; yields what to call with each finished row."""
    counts = {"sent": 0, "not sent": 0, "attention": 0}
    with _progress(console) as progress:
        task = progress.add_task("send", total=total, status="")

        def on_result(result: RowResult) -> None:
            state = None if result.record is None else result.record.state
            key = (
                "sent"
                if state is SendState.SENT
                else "not sent"
                if state in (None, SendState.NOT_SENT)
                else "attention"
            )
            counts[key] += 1
            status = f"sent {counts['sent']} · not sent {counts['not sent']} · attention {counts['attention']}"
            progress.update(task, advance=1, status=status)

        yield on_result


def _open_client(base_url: str, token: str, concurrency: int) -> AuthenticatedClient:
    return bulk_client(base_url, token, concurrency=concurrency)


def _open_ledger(path: Path, grace_period: float) -> SendLedger:
    return SendLedger(path, grace_period=grace_period)


def _send_in_workers(
    checked: BulkFile, target: Target, path: Path, args: argparse.Namespace, workers: int, console: Console
) -> BulkReport | None:
    """The rows sent by `workers` processes; None when a second Ctrl-C abandoned the sends in flight."""
    share = max(1, args.concurrency // workers)  # the same sends in flight in all as with one process
    setup = WorkerSetup(
        open_client=functools.partial(_open_client, target.base_url, target.token, share),
        open_ledger=functools.partial(_open_ledger, path, args.grace_period),
        per_location=args.per_location,
        concurrency=share,
    )
    # Started before the progress bar's thread: a worker is forked from a process with one thread.
    pool = Workers(checked.rows, setup, workers)

    def first() -> None:
        console.print(STOPPING)
        pool.interrupt()

    # Each Ctrl-C is passed on to the workers: the first stops them starting sends, a second abandons.
    with on_interrupt(first, again=pool.interrupt), _progress_bar(console, len(checked.rows)) as on_result:
        report = pool.collect(on_result)
    if pool.lost:
        console.print(f"{pool.lost} worker process(es) ended unexpectedly; run the same command again to resume")
    return None if pool.abandoned else report


async def _send_all(
    checked: BulkFile,
    target: Target,
    ledger: SendLedger,
    args: argparse.Namespace,
    progress_console: Console,
    stop: asyncio.Event,
) -> BulkReport:
    with _progress_bar(progress_console, len(checked.rows)) as on_result:
        async with bulk_client(target.base_url, target.token, concurrency=args.concurrency) as client:
            with on_interrupt(lambda: _stop(stop, progress_console)):
                return await run_bulk(
                    checked.rows,
                    ledger=ledger,
                    client=client,
                    stop=stop,
                    on_result=on_result,
                    per_location=args.per_location,
                    concurrency=args.concurrency,
                )


def send_command(args: argparse.Namespace, environ: Mapping[str, str], out: Console, err: Console) -> int:
    try:
        checked = read_rows(args.file)
    except BulkFileError as exc:
        raise UsageError(str(exc)) from None
    if checked.problems:
        _report_problems(err, args.file, checked)
        return ExitCode.USAGE
    path = ledger_path(args.file, args.ledger)
    if args.dry_run:
        locations = len({row.location_id for row in checked.rows})
        out.print(
            f"{args.file}: all {len(checked.rows)} rows are valid ({locations} locations); nothing sent (--dry-run)",
            markup=False,
            soft_wrap=True,
            highlight=False,
        )
        return ExitCode.ALL_SENT
    try:
        target = check_target(
            args.base_url, environ.get(TOKEN_ENV), token_env=TOKEN_ENV, url_option="--base-url", environ=environ
        )
    except TargetRefused as exc:
        raise UsageError(str(exc)) from None
    try:
        # Built here, so a token that cannot be a header is refused before the ledger file is made.
        AuthenticatedClient(target.base_url, token=target.token)
    except ValueError as exc:
        raise UsageError(f"${TOKEN_ENV}: {exc}") from None
    try:
        ledger = SendLedger(path, grace_period=args.grace_period)
    except LedgerError as exc:
        raise UsageError(str(exc)) from None
    workers = worker_count(args.workers, checked.rows, len({row.location_id for row in checked.rows}))
    abandoned = "Interrupted: sends in flight were abandoned; run again to reconcile and resume"
    if workers > 1:
        ledger.close()  # opened to check the file; each worker opens its own connection
        sent = _send_in_workers(checked, target, path, args, workers, err)
        if sent is None:
            err.print(abandoned)
            return ExitCode.INTERRUPTED
        report = sent
    else:
        stop = asyncio.Event()
        with ledger:
            try:
                report = asyncio.run(_send_all(checked, target, ledger, args, err, stop))
            except KeyboardInterrupt:
                err.print(abandoned)
                return ExitCode.INTERRUPTED
    counted = tally(report)
    print_summary(out, counted, source=str(args.file), ledger=str(path))
    return counted.exit_code


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """The command, once `cli.main` found its dependencies; see `cli.main` for the arguments."""
    args = parser().parse_args(argv)
    out = Console(file=stdout or sys.stdout, highlight=False)
    err = Console(file=stderr or sys.stderr, highlight=False)
    try:
        return send_command(args, os.environ if environ is None else environ, out, err)
    except UsageError as exc:
        err.print(f"leadway-invoices: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return ExitCode.USAGE
