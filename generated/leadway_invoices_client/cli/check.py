"""`leadway-invoices check`: the live read check. Reads the named invoices and judges every answer
strictly against the spec; it never sends, so it emails nobody and can run on a schedule.

    LEADWAY_API_TOKEN=... leadway-invoices check --url URL --location-id ID --invoice-id ID [--invoice-id ID ...]

Each invoice is read once (`GET /invoices/{invoiceId}?altId=&altType=location`, the same `Invoice`
schema a send answers) with the client in strict mode, and the answer is judged:

* its status must be 200;
* the five `X-RateLimit-*` headers the spec requires on a 2xx must be there, each a non-negative
  integer (the pacer lives on them), and the body must be JSON;
* the body must be the spec's `Invoice`: strict mode finds whether it deviates; the tolerant reader
  then lists every deviation (a JSONPath, the type expected and the type found), and its `_id` must
  be the invoice read.

A deviation is reported by its path, never by its value (values may be customer data) and never with
the token. The client's `ReadOnlyGuard` stands in front of the network: anything but a GET of a named
invoice on the target raises before any I/O. Reads are at least `CHECK_INTERVAL` apart and paced by
the client's `Pacer` from the rate-limit headers; the first 429 (or 401) stops the check, and it makes
at most `CHECK_MAX_READS` reads unless `--max-reads` says more. Nothing is retried: each answer is
judged as it came.

Exit status: 0 every answer agrees with the spec; 1 a deviation, a failed read or a stop (each listed);
2 bad usage or environment (nothing read).

The contract suite's `scripts/nox -s contract-live` runs this very check (with `$LEADWAY_CONTRACT_TOKEN`).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import httpx

from .._runtime import errors
from .._runtime.client import AuthenticatedClient
from .._runtime.constants import API_TOKEN_ENV, CHECK_INTERVAL, CHECK_MAX_READS
from .._runtime.guard import ReadOnlyGuard, Target, check_target
from .._runtime.pacing import Pacer
from .._runtime.parsing import Deviation, Reader, json_type
from .._runtime.retry import RetryPolicy
from .._runtime.types import Response
from .._runtime.wire import count
from ..api.invoices import get_invoice
from ..models import AltType, Invoice
from .usage import whole_number

RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit-Daily",
    "X-RateLimit-Daily-Remaining",
    "X-RateLimit-Interval-Milliseconds",
    "X-RateLimit-Max",
    "X-RateLimit-Remaining",
)
"""The headers spec/openapi.yaml requires on the read's 200, each `{type: integer, minimum: 0}`
(tests/cli/test_check.py holds the two lists together)."""

EXIT_AGREES, EXIT_DEVIATES, EXIT_USAGE = 0, 1, 2


class CheckUsageError(Exception):
    """The options or environment cannot be used; nothing was read. The message says why."""


@dataclass(frozen=True)
class Finding:
    """One deviation of the answer to one invoice's read."""

    invoice_id: str
    deviation: Deviation

    def __str__(self) -> str:
        return f"invoice {self.invoice_id}: {self.deviation}"


@dataclass
class CheckReport:
    """What a check found: the invoices read, every deviation, and why it stopped early (if it did)."""

    invoices: int
    reads: int = 0
    findings: list[Finding] = field(default_factory=list)
    stopped: str | None = None

    @property
    def exit_code(self) -> int:
        agrees = not self.findings and self.stopped is None and self.reads == self.invoices
        return EXIT_AGREES if agrees else EXIT_DEVIATES


def header_deviations(headers: Mapping[str, str]) -> list[Deviation]:
    """The required rate-limit headers that are missing or not a non-negative integer (`wire.count`:
    ASCII digits only, as the pacer reads them)."""
    found = []
    for name in RATE_LIMIT_HEADERS:
        value = headers.get(name)
        if value is None:
            found.append(Deviation(f"header {name}", "integer >= 0", "missing"))
        elif count(value) is None:
            found.append(Deviation(f"header {name}", "integer >= 0", "something else"))
    return found


def body_deviations(response: Response[Any], invoice_id: str) -> list[Deviation]:
    """Where a 200's body breaks the spec's `Invoice`. `parsed` is strict mode's verdict (None: it
    deviates); the tolerant reader then names every place, as the client's `deviations` do."""
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        return [Deviation("$", "a JSON object", "not JSON")]
    if not isinstance(data, dict):
        return [Deviation("$", "object", json_type(data))]
    reader = Reader(strict=False)
    try:
        invoice = Invoice.from_dict(data, reader)
    except errors.CONTRACT_ERRORS as exc:  # a field without which the answer is unusable (`_id`, `status`)
        return [*reader.found, _unusable(str(exc))]
    found = list(reader.found)
    if response.parsed is None and not found:  # strict mode refused what the tolerant reader took
        found.append(Deviation("$", "the spec's Invoice", "a deviation strict mode found"))
    if invoice.id != invoice_id:
        found.append(Deviation("$._id", "the id of the invoice read", "another id"))
    return found


def _unusable(message: str) -> Deviation:
    """The deviation a model's `from_dict` raised on, from `validation.wrong_type`'s words (a path, then
    `required, missing` or `expected X, got TYPE`): types only, never the value."""
    path, _, problem = message.partition(": ")
    if problem.startswith("expected ") and ", got " in problem:
        expected, _, got = problem.removeprefix("expected ").partition(", got ")
        return Deviation(path, f"{expected} (needed to read the answer)", got)
    return Deviation(
        path or "$", "a value (needed to read the answer)", "missing" if "missing" in problem else "unusable"
    )


def judge(response: Response[Any], invoice_id: str) -> list[Deviation]:
    """Every deviation of the answer to a read of `invoice_id` from the spec; none when it agrees."""
    if response.status_code != 200:
        return [Deviation("status", "200", str(response.status_code))]
    return [*header_deviations(response.headers), *body_deviations(response, invoice_id)]


def check_client(
    target: Target,
    invoice_ids: Sequence[str],
    location_id: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> AuthenticatedClient:
    """The check's client: strict, paced, no retries, behind a `ReadOnlyGuard` for these invoices."""
    guard = ReadOnlyGuard(
        transport if transport is not None else httpx.HTTPTransport(),
        base_url=target.base_url,
        invoice_ids=invoice_ids,
        location_id=location_id,
    )
    return AuthenticatedClient(
        target.base_url,
        token=target.token,
        strict=True,
        retry=RetryPolicy.off(),
        pacer=Pacer(),
        httpx_args={"transport": guard},
    )


def run_check(
    client: AuthenticatedClient,
    invoice_ids: Sequence[str],
    location_id: str,
    *,
    interval: float = CHECK_INTERVAL,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_finding: Callable[[Finding], None] = lambda finding: None,
) -> CheckReport:
    """Read each invoice once, in order, at least `interval` seconds apart; judge every answer."""
    report = CheckReport(invoices=len(invoice_ids))
    last: float | None = None
    for invoice_id in invoice_ids:
        if last is not None and (wait := last + interval - clock()) > 0:
            sleep(wait)
        last = clock()
        report.reads += 1
        try:
            response = get_invoice.sync_detailed(
                invoice_id, client=client, alt_id=location_id, alt_type=AltType.LOCATION, strict=True
            )
        except errors.LeadwayError as exc:  # no answer: a transport failure, a timeout, a dropped connection
            deviations = [Deviation("answer", "an HTTP answer", type(exc).__name__)]
        else:
            deviations = judge(response, invoice_id)
            if response.status_code in (401, 429):
                report.stopped = f"the API answered {response.status_code} to the read of invoice {invoice_id}"
        for deviation in deviations:
            finding = Finding(invoice_id, deviation)
            report.findings.append(finding)
            on_finding(finding)
        if report.stopped is not None:
            break
    return report


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser], default_url: str) -> None:
    """The `check` subcommand's options, on the command's parser."""
    check = commands.add_parser(
        "check",
        help="read the named invoices and check every answer against the spec (sends nothing)",
        description=(
            "Read each named invoice once (GET only: a guard refuses anything else before any I/O) and check "
            "every answer strictly against the spec: status, the rate-limit headers, body. Deviations are listed "
            "by path, never by value. Exit status: 0 all agree, 1 a deviation or a stop (listed), 2 bad usage."
        ),
    )
    check.add_argument("--url", default=default_url, help="the API (default %(default)s)")
    check.add_argument("--location-id", required=True, metavar="ID", help="the location (altId) owning the invoices")
    check.add_argument(
        "--invoice-id",
        required=True,
        action="append",
        dest="invoice_ids",
        metavar="ID",
        help="an invoice to read; repeat for more",
    )
    check.add_argument(
        "--max-reads",
        type=whole_number,
        default=CHECK_MAX_READS,
        metavar="N",
        help="refuse to read more invoices than this (default %(default)s)",
    )


def _checked(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[Target, list[str]]:
    """The target and the invoices to read, once every option passed its checks (before any I/O)."""
    invoice_ids = list(dict.fromkeys(args.invoice_ids))  # each read once, in the order given
    if not args.location_id.strip():
        raise CheckUsageError("--location-id must not be empty")
    if len(invoice_ids) > args.max_reads:
        raise CheckUsageError(f"{len(invoice_ids)} invoices named, more than --max-reads {args.max_reads}")
    try:
        target = check_target(
            args.url,
            environ.get(API_TOKEN_ENV),
            token_env=API_TOKEN_ENV,
            url_option="--url",
            environ=environ,
        )
        for invoice_id in invoice_ids:  # the operation's own checks of its arguments
            get_invoice.prepare(invoice_id, alt_id=args.location_id, alt_type=AltType.LOCATION)
        AuthenticatedClient(target.base_url, token=target.token)  # a token that cannot be a header
    except ValueError as exc:  # TargetRefused is one
        raise CheckUsageError(str(exc)) from None
    return target, invoice_ids


def check_command(args: argparse.Namespace, environ: Mapping[str, str], out: IO[str], err: IO[str]) -> int:
    """Run `leadway-invoices check`; prints each deviation as found, then a summary line."""
    try:
        target, invoice_ids = _checked(args, environ)
    except CheckUsageError as exc:
        print(f"leadway-invoices: error: {exc}", file=err)
        return EXIT_USAGE
    started = time.monotonic()
    with check_client(target, invoice_ids, args.location_id) as client:
        report = run_check(
            client, invoice_ids, args.location_id, on_finding=lambda finding: print(finding, file=out, flush=True)
        )
    if report.stopped is not None:
        print(f"stopped: {report.stopped}; {report.invoices - report.reads} invoice(s) not read", file=out)
    verdict = "every answer agrees with the spec" if report.exit_code == EXIT_AGREES else "the API deviates"
    took = time.monotonic() - started
    print(
        f"checked {report.reads} of {report.invoices} invoice(s) at {target.host} in {took:.1f} s: "
        f"{len(report.findings)} deviation(s); {verdict}",
        file=out,
    )
    return report.exit_code
