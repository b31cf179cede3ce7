"""The demo: a bulk send of a shipped example file, or one invoice, with the generated client.

    python -m scripts.demo                      # bulk: `leadway-invoices send examples/invoices.csv` against
                                                # a local sandbox (what `nox -s demo` runs)
    python -m scripts.demo --one                # send one invoice to a local sandbox and show what happened
    python -m scripts.demo --one --fault drop-after-send   # the same, with a sandbox fault injected
    LEADWAY_API_TOKEN=... python -m scripts.demo --production \\
        --invoice-id ID --location-id ID --user-id ID [--action email] [--live]

Without `--production` nothing leaves the machine: the sandbox runs in this process. The bulk demo
serves the invoices of `examples/sandbox-invoices.json` with a small rate-limit budget (so the
pacing shows in the progress bar) and runs the bulk-send command on `examples/invoices.csv`, whose
rows include an unknown, a void and a paid invoice (the summary lists them as refused, with the
reason: each is read before its first send, and only a draft is sent) and one
whose connection the sandbox drops after sending (`examples/sandbox-faults.json`): the ledger reads
the invoice back and counts it sent. The one-invoice demo shows the invoice's status before and
after, the deliveries from the sandbox's outbox and the rate-limit budget left. With `--production`
the real API emails and/or texts a real customer, so it needs an explicit token and ids, sends
`liveMode: false` unless `--live` is given, and refuses a sandbox token.

Exit status: 0 the demo ran as intended (bulk: the command's own exit status 0 or 1 shown in its
summary), or the one invoice was sent; 1 the send failed or its outcome is unknown; 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from leadway_invoices_client import AuthenticatedClient, LeadwayError, RateLimit, cli
from leadway_invoices_client._runtime.constants import API_TOKEN_ENV, LEDGER_SUFFIX, PRODUCTION_URL
from leadway_invoices_client._runtime.guard import InvoiceTarget, TargetRefused, check_invoice_target
from leadway_invoices_client._runtime.wire import error_message
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models.alt_type import AltType
from leadway_invoices_client.models.error_response import ErrorResponse
from leadway_invoices_client.models.send_action import SendAction
from leadway_invoices_client.models.send_invoice_request import SendInvoiceRequest
from leadway_invoices_client.models.send_invoice_response import SendInvoiceResponse
from leadway_invoices_client.types import Response, Unset

from scripts.project import ROOT
from scripts.sandbox import (
    FAULT_HEADER,
    SEED_USER_ID,
    SandboxConfig,
    create_app,
    serve_in_thread,
)

ACTIONS = [action.value for action in SendAction]
EXAMPLES = ROOT / "examples"
#: The bulk demo's file, and the invoices its sandbox serves.
EXAMPLE_ROWS = EXAMPLES / "invoices.csv"
EXAMPLE_INVOICES = EXAMPLES / "sandbox-invoices.json"
#: A fault on one invoice: its connection drops after the send, and reconciliation finds it sent.
EXAMPLE_FAULTS = EXAMPLES / "sandbox-faults.json"
# Small enough that the pacing shows (each location waits for its budget), large enough to take seconds, not minutes.
DEMO_BURST_LIMIT, DEMO_BURST_INTERVAL_MS = 4, 1000


class UsageError(Exception):
    """The command line or environment cannot be used; nothing was sent."""


@dataclass(frozen=True)
class Send(InvoiceTarget):
    """Where to send (the guarded `Target`), and what."""

    action: str
    live_mode: bool
    extra_headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Summary:
    """What the demo prints."""

    where: str
    invoice_id: str
    location_id: str
    invoice_number: str | None = None
    status_before: str | None = None
    status_after: str | None = None
    live_mode: bool | None = None
    deliveries: list[tuple[str, str]] = field(default_factory=list)
    rate_limit: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None


def send(target: Send, transport: httpx.BaseTransport | None = None) -> Response[ErrorResponse | SendInvoiceResponse]:
    """The demo's only call of the generated client (alone here, so a client change touches one place).

    Raises:
        LeadwayError: no answer (the client's TransportError or OutcomeUnknownError).
    """
    body = SendInvoiceRequest(
        alt_id=target.location_id,
        alt_type=AltType.LOCATION,
        user_id=target.user_id,
        action=SendAction(target.action),
        live_mode=target.live_mode,
    )
    httpx_args: dict[str, Any] = {"transport": transport} if transport is not None else {}
    with AuthenticatedClient(
        target.base_url, token=target.token, headers=dict(target.extra_headers), httpx_args=httpx_args
    ) as client:
        return send_invoice.sync_detailed(target.invoice_id, client=client, body=body)


def _number(value: object) -> str:
    # The spec allows "19" or 19; a float from JSON like 19.0 reads better as 19.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _problem(response: Response[ErrorResponse | SendInvoiceResponse]) -> str:
    try:
        message = error_message(json.loads(response.content))
    except (ValueError, RecursionError):
        message = None
    if isinstance(message, list):
        message = "; ".join(message)
    return f"HTTP {response.status_code}: {message}" if message else f"HTTP {response.status_code}"


def _record(summary: Summary, target: Send, transport: httpx.BaseTransport | None = None) -> None:
    """Send, and fill `summary` from the answer: the invoice after, delivery data, rate-limit headers."""
    try:
        response = send(target, transport)
    except LeadwayError as exc:
        summary.problem = f"{type(exc).__name__}: {exc}"
        return
    summary.rate_limit = dict(response.headers)
    if isinstance(response.parsed, SendInvoiceResponse):
        invoice = response.parsed.invoice
        summary.invoice_number = _number(invoice.invoice_number)
        summary.status_after = str(invoice.status)
        # Read tolerantly: a field that broke the spec is UNSET (the answer's deviations say which).
        summary.live_mode = None if isinstance(invoice.live_mode, Unset) else invoice.live_mode
        email = {} if isinstance(response.parsed.email_data, Unset) else response.parsed.email_data.to_dict()
        sms = {} if isinstance(response.parsed.sms_data, Unset) else response.parsed.sms_data.to_dict()
        recipients = email.get("to", [])
        summary.deliveries = [
            ("email", str(to)) for to in (recipients if isinstance(recipients, list) else [recipients])
        ]
        if "to" in sms:
            summary.deliveries.append(("sms", str(sms["to"])))
    else:
        summary.problem = _problem(response)


def run_sandbox(args: argparse.Namespace) -> Summary:
    """Start a sandbox on a free loopback port, send one invoice to it, read back its state and outbox."""
    config = SandboxConfig()
    with serve_in_thread(create_app(config)) as base_url, httpx.Client(base_url=base_url, timeout=10) as admin:
        invoices = admin.get("/_sandbox/invoices").json()
        if args.invoice_id is not None:
            chosen = next((i for i in invoices if i["id"] == args.invoice_id), None)
            if chosen is None:
                raise UsageError(f"the sandbox has no invoice {args.invoice_id}; it has {len(invoices)} (see --help)")
        else:
            # The first draft of the first location: what a user trying the client would send.
            first_location = invoices[0]["location"]
            chosen = next(i for i in invoices if i["location"] == first_location and i["status"] == "draft")
        target = Send(
            base_url=base_url,
            token=config.agency_token,
            invoice_id=chosen["id"],
            location_id=args.location_id or chosen["location"],
            user_id=args.user_id or SEED_USER_ID,
            action=args.action,
            live_mode=args.live,
            extra_headers={FAULT_HEADER: args.fault} if args.fault else {},
        )
        summary = Summary(
            where=f"local sandbox at {base_url} (nothing leaves this machine)",
            invoice_id=chosen["id"],
            location_id=target.location_id,
            invoice_number=_number(chosen["invoiceNumber"]),
            status_before=chosen["status"],
        )
        _record(summary, target)
        # The sandbox's own records are the truth even when the client saw no answer.
        after = next(i for i in admin.get("/_sandbox/invoices").json() if i["id"] == chosen["id"])
        outbox = admin.get("/_sandbox/outbox", params={"invoiceId": chosen["id"]}).json()
    summary.status_after = after["status"]
    summary.deliveries = [(d["channel"], d["recipient"]) for d in outbox]
    return summary


def run_bulk_demo(out: TextIO, err: TextIO) -> int:
    """Serve the example invoices on a free loopback port and run the bulk-send command on the example file.

    The ledger goes to a scratch folder, so that it starts empty like the fresh sandbox.
    Returns the command's exit status.
    """
    config = SandboxConfig(
        invoices_file=EXAMPLE_INVOICES,
        faults_file=EXAMPLE_FAULTS,
        burst_limit=DEMO_BURST_LIMIT,
        burst_interval_ms=DEMO_BURST_INTERVAL_MS,
    )
    with serve_in_thread(create_app(config)) as base_url, tempfile.TemporaryDirectory(prefix="leadway-demo-") as tmp:
        shown = os.path.relpath(EXAMPLE_ROWS)
        rows = shown if not shown.startswith("..") else str(EXAMPLE_ROWS)
        ledger = str(Path(tmp) / (EXAMPLE_ROWS.name + LEDGER_SUFFIX))
        print(
            f"Leadway bulk-send demo: a local sandbox at {base_url} (nothing leaves this machine), limited to"
            f" {DEMO_BURST_LIMIT} sends per {DEMO_BURST_INTERVAL_MS} ms per location, runs\n"
            f"  {API_TOKEN_ENV}={config.agency_token} leadway-invoices send {rows} --base-url {base_url}\n"
            "(with a fresh ledger in a scratch folder, since the sandbox is fresh too)\n",
            file=out,
            flush=True,
        )
        code = cli.main(
            ["send", rows, "--base-url", base_url, "--ledger", ledger],
            environ={API_TOKEN_ENV: config.agency_token},
            stdout=out,
            stderr=err,
        )
        with httpx.Client(base_url=base_url, timeout=10) as admin:
            delivered = len(admin.get("/_sandbox/outbox").json())
    print(
        f"\nThe command exited with {code}. The sandbox's outbox holds {delivered} messages: one per sent invoice."
        " Run again, the command would send none of them twice: its ledger skips every key already sent.",
        file=out,
    )
    return code


def production_target(args: argparse.Namespace, environ: Mapping[str, str]) -> Send:
    """Check everything a production send needs, before any I/O.

    Raises:
        UsageError: no token, a sandbox token, or a missing id.
    """
    try:
        target = check_invoice_target(
            PRODUCTION_URL,
            environ.get(API_TOKEN_ENV),
            who="--production",
            token_env=API_TOKEN_ENV,
            environ=environ,
            ids={"--invoice-id": args.invoice_id, "--location-id": args.location_id, "--user-id": args.user_id},
        )
    except TargetRefused as exc:
        raise UsageError(str(exc)) from None
    if args.fault:
        raise UsageError("--fault is a sandbox header; production has no faults on request")
    return Send(
        target.base_url,
        target.token,
        target.invoice_id,
        target.location_id,
        target.user_id,
        action=args.action,
        live_mode=args.live,
    )


def run_production(target: Send, transport: httpx.BaseTransport | None = None) -> Summary:
    """Send one invoice to the real API (the status before is not readable with this client)."""
    summary = Summary(
        where=f"PRODUCTION at {target.base_url} (real messages to a real customer)",
        invoice_id=target.invoice_id,
        location_id=target.location_id,
    )
    _record(summary, target, transport)
    return summary


def _rate_limit_line(headers: Mapping[str, str]) -> str:
    # Parsed by the client's own reader of wire facts: one parser for the package and its commands.
    limit = RateLimit.from_headers(httpx.Headers(headers))
    remaining, burst, interval = limit.remaining, limit.max, limit.interval
    daily_left, daily = limit.daily_remaining, limit.limit_daily
    if remaining is None or burst is None or interval is None or daily_left is None or daily is None:
        return "not reported"
    return f"{remaining:,} of {burst:,} left in this {interval:g} s window; {daily_left:,} of {daily:,} left today"


def render(summary: Summary) -> str:
    """The printed summary."""
    number = f"#{summary.invoice_number}" if summary.invoice_number else "(number unknown)"
    before = summary.status_before or "unknown"
    after = summary.status_after or "unknown"
    mode = "" if summary.live_mode is None else f"  (liveMode {str(summary.live_mode).lower()})"
    lines = [
        f"Leadway send-invoice demo: {summary.where}",
        f"  Invoice     {number}  (id {summary.invoice_id}, location {summary.location_id})",
        f"  Status      {before} -> {after}{mode}",
    ]
    if summary.deliveries:
        for index, (channel, recipient) in enumerate(summary.deliveries):
            label = "Delivered" if index == 0 else ""
            lines.append(f"  {label:<11} {channel:<5} to {recipient}")
    else:
        lines.append("  Delivered   nothing")
    lines.append(f"  Rate limit  {_rate_limit_line(summary.rate_limit)}")
    if summary.problem:
        lines.append(f"  Problem     {summary.problem}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (exit status 2 with a message on bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.demo",
        description=(
            "Bulk-send the example file to a local sandbox; or, with --one or --production, send one invoice"
            " with the generated client."
        ),
    )
    parser.add_argument("--one", action="store_true", help="send one invoice to the local sandbox")
    parser.add_argument("--production", action="store_true", help=f"send to {PRODUCTION_URL} (needs ${API_TOKEN_ENV})")
    parser.add_argument("--invoice-id", help="invoice to send (sandbox default: the first draft)")
    parser.add_argument("--location-id", help="location (altId) of the invoice (sandbox default: the invoice's)")
    parser.add_argument("--user-id", help=f"user sending the invoice (sandbox default: {SEED_USER_ID})")
    parser.add_argument("--action", choices=ACTIONS, default="sms_and_email", help="default: %(default)s")
    parser.add_argument("--live", action="store_true", help="send with liveMode=true (payable); default is test mode")
    parser.add_argument("--fault", metavar="NAME", help=f"sandbox only: inject a fault ({FAULT_HEADER})")
    return parser.parse_args(argv)


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the demo; `environ`, `transport`, `out` and `err` are for tests (defaults: os.environ, the network,
    stdout, stderr)."""
    args = parse_args(argv)
    out = out or sys.stdout
    one_only = [flag for flag, value in (("--invoice-id", args.invoice_id), ("--fault", args.fault)) if value]
    if not (args.one or args.production):
        if one_only:
            print(f"demo: error: {', '.join(one_only)} needs --one (or --production)", file=sys.stderr)
            return 2
        code = run_bulk_demo(out, err or sys.stderr)
        # 1 (some row not sent, or needing attention) is a possible end of the demo's command too.
        return 0 if code in (0, 1) else code
    try:
        if args.production:
            summary = run_production(production_target(args, os.environ if environ is None else environ), transport)
        else:
            summary = run_sandbox(args)
    except UsageError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    print(render(summary), file=out)
    return 1 if summary.problem else 0


if __name__ == "__main__":
    sys.exit(main())
