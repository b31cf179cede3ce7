"""`leadway-invoices send FILE`: send every invoice a file lists, exactly once, and say what happened.

    LEADWAY_API_TOKEN=... leadway-invoices send invoices.csv [--base-url URL] [--ledger PATH] [--dry-run] [--workers N]

(`leadway-invoices check`, the live read check that sends nothing, is in check.py.)

The file is CSV with the header `key,invoice_id,location_id,user_id,action,live_mode` (and an optional
`resend` column), or JSON lines with those keys. It is checked whole before anything is sent: every
bad row is reported with its line number, and none is sent while any is bad. A key the ledger
recorded for another invoice is such a problem, and so is an invoice on two lines.

Each send goes through a `SendLedger`: by default one in the user's data folder, shared by every file
sent (so a copied or renamed file is still known), or the one an earlier release kept beside FILE.
A run that is stopped or killed can be run again: keys already sent are skipped, keys left pending are
reconciled before anything is resent. Before a key's first send the invoice is read, and only a draft
is sent, so a ledger that does not know an earlier send (another machine, `--ledger` elsewhere) sends
nothing twice; `--resend` or a row's `resend` column sends it anyway (a reminder). The rows are sent
by worker processes, each for its own locations (`_bulk/workers.py`).

Exit status: 0 every row sent or refused by the API (the summary lists the refusals); 1 some row not
sent or needing attention, or the token refused; 2 bad usage, environment or file (nothing sent);
130 stopped by Ctrl-C, 143 by SIGTERM (run again to resume).
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

import platformdirs
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from .._bulk.engine import BulkReport, RowResult, bulk_client, run_bulk
from .._bulk.interrupts import Stopped, on_interrupt
from .._bulk.rows import COLUMNS, BulkFile, BulkFileError, RowProblem, read_rows
from .._bulk.tally import ExitCode, tally
from .._bulk.workers import Workers, WorkerSetup, worker_count
from .._ledger.ledger import SendLedger, SendState
from .._ledger.postgres_store import recorded_invoices as recorded_in_postgres
from .._ledger.reconcile import MAX_GRACE_PERIOD
from .._ledger.records import LedgerError
from .._ledger.sqlite import recorded_invoices
from .._runtime.client import AuthenticatedClient
from .._runtime.constants import API_TOKEN_ENV as TOKEN_ENV
from .._runtime.constants import (
    BULK_CONCURRENCY,
    BULK_PER_LOCATION,
    GRACE_PERIOD,
    LEDGER_APP,
    LEDGER_FILE,
    LEDGER_SUFFIX,
    PRODUCTION_URL,
)
from .._runtime.guard import Target, TargetRefused, check_target
from .._runtime.validation import seconds
from .._runtime.version import __version__
from . import check, export, resolve, status, webhooks
from .summary import print_summary
from .usage import UsageError, ledger_location, shown, whole_number

STOPPING = "Stopping: no new sends; waiting for those in flight (Ctrl-C again to abandon them)"
ABANDONED = "Interrupted: sends in flight were abandoned; run again to reconcile and resume"


class _FileProblems(Exception):
    """Rows that cannot be sent as the file states them (`rows`: how many the file has)."""

    def __init__(self, problems: list[RowProblem], rows: int) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems, self.rows = problems, rows


def _seconds(text: str) -> float:
    try:
        return seconds("the value", float(text), maximum=MAX_GRACE_PERIOD)
    except ValueError as exc:
        # argparse names the option; the package's one check of a duration says what is wrong.
        problem = str(exc) if "must be" in str(exc) else f"the value must be a number of seconds, not {text!r}"
        raise argparse.ArgumentTypeError(problem) from None


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="leadway-invoices",
        description="Leadway invoices from the command line. The token comes from $" + TOKEN_ENV + ".",
    )
    top.add_argument("--version", action="version", version=f"leadway-invoices {__version__}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    send = commands.add_parser(
        "send",
        help="send every invoice a CSV or JSON-lines file lists, exactly once (resumable)",
        description=(
            "Send every invoice FILE lists, each exactly once per ledger: the ledger records every send, "
            "so running the same command again resumes. Exit status: 0 all sent (or refused by the API, "
            "listed), 1 some not sent or needing attention, 2 bad usage or file (nothing sent), "
            "130 interrupted, 143 terminated."
        ),
    )
    send.add_argument(
        "file",
        type=Path,
        metavar="FILE",
        help=f"CSV with header {','.join(COLUMNS)} (and optionally resend), or JSON lines with those keys",
    )
    send.add_argument("--base-url", default=PRODUCTION_URL, help="the API (default %(default)s)")
    send.add_argument(
        "--ledger",
        type=ledger_location,
        metavar="PATH|URL",
        help=(
            f"the ledger file (default {default_ledger()}, shared by every file; or FILE{LEDGER_SUFFIX} if present),"
            " or a postgresql:// URL: one ledger shared by every host (needs the postgres extra)"
        ),
    )
    send.add_argument(
        "--dry-run",
        action="store_true",
        help="check the whole file, and its keys against the ledger, and report every problem; send nothing",
    )
    send.add_argument(
        "--resend",
        action="store_true",
        help="send each row even if its invoice no longer reads draft (a reminder); keys already sent are skipped",
    )
    send.add_argument(
        "--retry-refused", action="store_true", help="send again the rows the API refused in an earlier run"
    )
    send.add_argument(
        "--allow-repeated-invoices",
        action="store_true",
        help="accept an invoice on several lines (each under its own key), sent one after the other",
    )
    send.add_argument(
        "--grace-period",
        type=_seconds,
        default=GRACE_PERIOD,
        metavar="SECONDS",
        help=(
            f"after an unknown outcome, how long the invoice is watched for the send"
            f" (0 to {MAX_GRACE_PERIOD:g}; default %(default)s)"
        ),
    )
    send.add_argument(
        "--webhooks",
        action="store_true",
        help=(
            "a receiver (`leadway-invoices webhooks serve`) feeds the ledger: a row whose outcome a read cannot"
            " settle waits the grace period for HighLevel's InvoiceSent webhook"
        ),
    )
    send.add_argument(
        "--concurrency",
        type=whole_number,
        default=BULK_CONCURRENCY,
        metavar="N",
        help="sends in flight at once, in all (default %(default)s)",
    )
    send.add_argument(
        "--per-location",
        type=whole_number,
        default=BULK_PER_LOCATION,
        metavar="N",
        help="of which per location (default %(default)s)",
    )
    send.add_argument(
        "--workers",
        type=whole_number,
        metavar="N",
        help="processes sending, each its own locations (default: one per core, at most one a location; 1 on Windows)",
    )
    send.set_defaults(run=send_command)
    check.add_parser(commands, PRODUCTION_URL)
    # The operator's view of a ledger, and the webhook receiver: a module each.
    for command in (status, resolve, export, webhooks):
        command.add(commands)
    return top


def default_ledger() -> Path:
    """The ledger every file shares unless told otherwise: in the user's data folder."""
    return platformdirs.user_data_path(LEDGER_APP, appauthor=False) / LEDGER_FILE


def ledger_path(file: Path, ledger: Path | str | None) -> Path | str:
    """`--ledger`, else the ledger an earlier release kept beside FILE if there is one, else the
    user's (see `default_ledger`)."""
    if ledger is not None:
        return ledger
    beside = file.with_name(file.name + LEDGER_SUFFIX)
    return beside if beside.exists() else default_ledger()


def _conflicts(path: Path | str, checked: BulkFile) -> list[RowProblem]:
    """The rows whose key the ledger recorded for another invoice: each would be refused at its send
    while the others went out. The ledger is read, never created or changed."""
    keys = [row.key for row in checked.rows]
    try:
        recorded = recorded_in_postgres(path, keys) if isinstance(path, str) else recorded_invoices(path, keys)
    except LedgerError as exc:
        raise UsageError(str(exc)) from None
    return [
        RowProblem(
            row.line,
            f"key {row.key!r} is recorded in ledger {shown(path)} for invoice {recorded[row.key]},"
            f" not {row.invoice_id}: a key names one send of one invoice",
        )
        for row in checked.rows
        if recorded.get(row.key, row.invoice_id) != row.invoice_id
    ]


def _report_problems(console: Console, path: Path, problems: Sequence[RowProblem], rows: int) -> None:
    for problem in problems:
        console.print(f"{path}: {problem}", markup=False, highlight=False, soft_wrap=True)
    console.print(
        f"{path}: {len({p.line for p in problems})} of {rows} rows have problems; nothing was sent",
        markup=False,
        soft_wrap=True,
        highlight=False,
    )


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def _progress_bar(console: Console, total: int) -> Iterator[Callable[[RowResult], None]]:
    """A progress bar for `total` rows; yields what to call with each finished row."""
    counts = {"sent": 0, "refused": 0, "not sent": 0, "attention": 0}
    with _progress(console) as progress:
        task = progress.add_task("send", total=total, status="")

        def on_result(result: RowResult) -> None:
            state = None if result.record is None else result.record.state
            key = (
                "sent"
                if state is SendState.SENT
                else "refused"
                if state is SendState.REFUSED
                else "not sent"
                if state in (None, SendState.NOT_SENT)
                else "attention"
            )
            counts[key] += 1
            progress.update(task, advance=1, status=" · ".join(f"{name} {count}" for name, count in counts.items()))

        yield on_result


def _open_client(base_url: str, token: str, concurrency: int) -> AuthenticatedClient:
    return bulk_client(base_url, token, concurrency=concurrency)


def _open_ledger(path: Path | str, grace_period: float, webhooks: bool) -> SendLedger:
    return SendLedger(path, grace_period=grace_period, webhooks=webhooks)


def _send_in_workers(
    checked: BulkFile, target: Target, path: Path | str, args: argparse.Namespace, workers: int, console: Console
) -> tuple[BulkReport | None, Stopped]:
    """The rows sent by `workers` processes (None when a second signal abandoned the sends in flight),
    and the signal that stopped them, if one did."""
    setup = WorkerSetup(
        open_client=functools.partial(_open_client, target.base_url, target.token),
        open_ledger=functools.partial(_open_ledger, path, args.grace_period, args.webhooks),
        per_location=args.per_location,
        concurrency=args.concurrency,
        resend=args.resend,
        retry_refused=args.retry_refused,
    )
    # Started before the progress bar's thread: a worker is forked from a process with one thread.
    pool = Workers(checked.rows, setup, workers)

    def first() -> None:
        console.print(STOPPING)
        pool.interrupt()

    # Each signal is passed on to the workers: the first stops them starting sends, a second abandons.
    with (
        on_interrupt(first, again=pool.interrupt) as stopped,
        _progress_bar(console, len(checked.rows)) as on_result,
    ):
        report = pool.collect(on_result)
    if pool.lost:
        console.print(f"{pool.lost} worker process(es) ended unexpectedly; run the same command again to resume")
    return (None if pool.abandoned else report), stopped


async def _send_all(
    checked: BulkFile,
    target: Target,
    ledger: SendLedger,
    args: argparse.Namespace,
    progress_console: Console,
    stopped: list[Stopped],
) -> BulkReport:
    stop = asyncio.Event()

    def first() -> None:
        progress_console.print(STOPPING)
        stop.set()

    with _progress_bar(progress_console, len(checked.rows)) as on_result:
        async with bulk_client(target.base_url, target.token, concurrency=args.concurrency) as client:
            with on_interrupt(first) as signalled:
                stopped.append(signalled)
                return await run_bulk(
                    checked.rows,
                    ledger=ledger,
                    client=client,
                    stop=stop,
                    on_result=on_result,
                    per_location=args.per_location,
                    concurrency=args.concurrency,
                    resend=args.resend,
                    retry_refused=args.retry_refused,
                )


def _check_file(args: argparse.Namespace, path: Path | str) -> BulkFile:
    """The file's rows, once every row passed its checks and the ledger's: else the problems are
    reported and the command ends (exit 2) before any I/O."""
    try:
        checked = read_rows(args.file, repeated_invoices=args.allow_repeated_invoices)
    except BulkFileError as exc:
        raise UsageError(str(exc)) from None
    problems = sorted([*checked.problems, *_conflicts(path, checked)], key=lambda problem: problem.line)
    if problems:
        raise _FileProblems(problems, len(checked.rows) + len({p.line for p in checked.problems}))
    return checked


def _check_target(args: argparse.Namespace, environ: Mapping[str, str]) -> Target:
    try:
        target = check_target(
            args.base_url, environ.get(TOKEN_ENV), token_env=TOKEN_ENV, url_option="--base-url", environ=environ
        )
        # Built here, so a token that cannot be a header is refused before the ledger file is made.
        AuthenticatedClient(target.base_url, token=target.token)
    except TargetRefused as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:
        raise UsageError(f"${TOKEN_ENV}: {exc}") from None
    return target


def _open(path: Path | str, grace_period: float, default: bool, webhooks: bool) -> SendLedger:
    if default and isinstance(path, Path):  # the user's data folder may not exist yet; it holds one user's ledger
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the ledger's folder {path.parent}: {exc.strerror or exc}") from None
    try:
        return SendLedger(path, grace_period=grace_period, webhooks=webhooks)
    except LedgerError as exc:
        raise UsageError(str(exc)) from None


def send_command(args: argparse.Namespace, environ: Mapping[str, str], out: Console, err: Console) -> int:
    path = ledger_path(args.file, args.ledger)
    try:
        checked = _check_file(args, path)
    except _FileProblems as bad:
        _report_problems(err, args.file, bad.problems, bad.rows)
        return ExitCode.USAGE
    if args.dry_run:
        locations = len({row.location_id for row in checked.rows})
        out.print(
            f"{args.file}: all {len(checked.rows)} rows are valid ({locations} locations); nothing sent (--dry-run)",
            markup=False,
            soft_wrap=True,
            highlight=False,
        )
        return ExitCode.ALL_SENT
    target = _check_target(args, environ)
    ledger = _open(path, args.grace_period, args.ledger is None and path == default_ledger(), args.webhooks)
    locations = len({row.location_id for row in checked.rows})
    workers = worker_count(args.workers, checked.rows, locations, args.concurrency)
    if workers > 1:
        ledger.close()  # opened to check the file; each worker opens its own connection
        sent, stopped = _send_in_workers(checked, target, path, args, workers, err)
        if sent is None:
            err.print(ABANDONED)
            return ExitCode.for_signal(stopped.signal)
        report = sent
    else:
        signalled: list[Stopped] = []
        with ledger:
            try:
                report = asyncio.run(_send_all(checked, target, ledger, args, err, signalled))
            except KeyboardInterrupt:
                err.print(ABANDONED)
                return ExitCode.INTERRUPTED
        stopped = signalled[0] if signalled else Stopped()
    counted = tally(report, signal_number=stopped.signal)
    print_summary(out, counted, source=str(args.file), ledger=shown(path))
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
    environ = os.environ if environ is None else environ
    if args.command == "check":
        return check.check_command(args, environ, stdout or sys.stdout, stderr or sys.stderr)
    out = Console(file=stdout or sys.stdout, highlight=False)
    err = Console(file=stderr or sys.stderr, highlight=False)
    try:
        code: int = args.run(args, environ, out, err)
        return code
    except UsageError as exc:
        err.print(f"leadway-invoices: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return ExitCode.USAGE
