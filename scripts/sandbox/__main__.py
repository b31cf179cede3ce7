"""`python -m scripts.sandbox`: serve the sandbox on loopback until stopped (Ctrl+C).

python -m scripts.sandbox [--port 8765] [--host 127.0.0.1] [--invoices FILE] [--faults FILE]
                          [--burst-limit 100] [--burst-interval-ms 10000] [--daily-limit 200000]
                          [--access-log] [--webhook-url URL [--webhook-faults FILE] [--webhook-key-file FILE]]

`--faults FILE` assigns faults to invoices for clients that send no `X-Sandbox-Fault` header: a JSON
object `{"<invoiceId>": "<fault>"}` in the header's syntax (`html-500`, `slow:2`, `drop-after-send`, ...),
checked at startup. Every send of such an invoice gets its fault unless the request carries the
header; `PUT`/`DELETE /_sandbox/faults/{invoiceId}` (agency token) change them while running.

`--webhook-url URL` (loopback) delivers a signed InvoiceSent after each send that lands, with the
sandbox's own TEST-ONLY Ed25519 key, whose public key goes to `--webhook-key-file` (default
`sandbox-webhook-ed25519.TEST-ONLY.pub.pem` in the temporary folder); `--webhook-faults FILE` makes
some deliveries dropped, delayed, duplicated or out of order (`scripts/sandbox/webhooks.py`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scripts.sandbox.app import create_app
from scripts.sandbox.config import (
    DEFAULT_BURST_INTERVAL_MS,
    DEFAULT_BURST_LIMIT,
    DEFAULT_DAILY_LIMIT,
    DEFAULT_PORT,
    SandboxConfig,
    SandboxError,
)
from scripts.sandbox.faults import FAULT_HEADER, expected_faults
from scripts.sandbox.invoice_faults import load_fault_file
from scripts.sandbox.server import base_url, bind_loopback, check_loopback, make_server
from scripts.sandbox.state import SEED_LOCATIONS


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 0 and 65535 (0 picks a free port)")
    return port


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _loopback(text: str) -> str:
    try:
        check_loopback(text)
    except SandboxError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; bad values exit with status 2 and a message naming the option."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.sandbox",
        description="Serve the Leadway send-invoice sandbox on loopback until stopped. Nothing leaves the machine.",
    )
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port (default %(default)s; 0 = any free)")
    parser.add_argument("--host", type=_loopback, default="127.0.0.1", help="loopback address (default %(default)s)")
    parser.add_argument("--invoices", type=Path, metavar="FILE", help="JSON file of extra invoices (like seed.json)")
    parser.add_argument(
        "--faults", type=Path, metavar="FILE", help='JSON object {"<invoiceId>": "<fault>"}: faults per invoice'
    )
    parser.add_argument("--burst-limit", type=_positive, default=DEFAULT_BURST_LIMIT, metavar="N")
    parser.add_argument("--burst-interval-ms", type=_positive, default=DEFAULT_BURST_INTERVAL_MS, metavar="N")
    parser.add_argument("--daily-limit", type=_positive, default=DEFAULT_DAILY_LIMIT, metavar="N")
    parser.add_argument("--access-log", action="store_true", help="log a line per request (off: it slows bulk runs)")
    parser.add_argument("--webhook-url", metavar="URL", help="deliver a signed InvoiceSent there after each send")
    parser.add_argument(
        "--webhook-faults",
        type=Path,
        metavar="FILE",
        help='JSON object {"<invoiceId>": "dropped|delayed:SECONDS|duplicated|out-of-order"}',
    )
    parser.add_argument(
        "--webhook-key-file",
        type=Path,
        default=Path(tempfile.gettempdir()) / "sandbox-webhook-ed25519.TEST-ONLY.pub.pem",
        metavar="FILE",
        help="where the sandbox's TEST-ONLY Ed25519 public key is written (default %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sandbox until interrupted. Returns 0 when stopped, 1 on bad input (with a message on stderr)."""
    args = parse_args(argv)
    try:
        config = SandboxConfig(
            invoices_file=args.invoices,
            faults_file=args.faults,
            burst_limit=args.burst_limit,
            burst_interval_ms=args.burst_interval_ms,
            daily_limit=args.daily_limit,
            webhook_url=args.webhook_url,
            webhook_faults=load_fault_file(args.webhook_faults) if args.webhook_faults else {},
            webhook_key_file=args.webhook_key_file if args.webhook_url else None,
        )
        app = create_app(config)
        sock = bind_loopback(args.host, args.port)
    except SandboxError as exc:
        print(f"sandbox: error: {exc}", file=sys.stderr)
        return 1
    url = base_url(sock)
    faults = expected_faults()
    print(
        f"Leadway sandbox on {url} (loopback only; nothing is really sent)\n"
        f"  agency token:   {config.agency_token}  (every location)\n"
        f"  location token: {config.location_token}  (location {SEED_LOCATIONS[0]} only)\n"
        f"  invoices: {url}/_sandbox/invoices   outbox: {url}/_sandbox/outbox   reset: POST {url}/_sandbox/reset\n"
        f"  faults: header {FAULT_HEADER}: {faults}\n"
        f"          per invoice: --faults FILE, or PUT/DELETE {url}/_sandbox/faults/{{invoiceId}} (agency token)"
        f" ({len(app.state.sandbox.faults.as_dict())} assigned)\n"
        f"  rate limits: {config.burst_limit} per {config.burst_interval_ms} ms, {config.daily_limit} per day\n"
        + (
            f"  webhooks: InvoiceSent to {args.webhook_url}, signed with the TEST-ONLY key {args.webhook_key_file}\n"
            if args.webhook_url
            else ""
        )
        + "Press Ctrl+C to stop.",
        flush=True,
    )
    try:
        make_server(app, access_log=args.access_log).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
