"""`leadway-invoices webhooks serve --ledger PATH [--host 127.0.0.1] [--port N] [--ed25519-key FILE]`:
the webhook receiver (`webhooks/receiver.py`) on uvicorn, recording InvoiceSent events in the ledger.

Needs the `[webhooks]` extra (cryptography, uvicorn). The Ed25519 key of `x-ghl-signature` comes from
FILE, else from $WEBHOOK_SIGNATURE_PUBLIC_KEY (upstream SDKs' name); without one, only the legacy
`x-wh-signature` is accepted (upstream's published RSA key). Serve it behind a TLS proxy: HighLevel
delivers to an https URL; the receiver listens on loopback unless told otherwise.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from rich.console import Console

from .._ledger.ledger import SendLedger
from .._ledger.records import LedgerError
from .._runtime.constants import WEBHOOK_KEY_ENV, WEBHOOK_PORT
from .usage import UsageError, ledger_location, shown

EXTRA = "leadway-invoices-client[webhooks]"


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return int(text)


def add(commands: Any) -> None:
    webhooks = commands.add_parser("webhooks", help="receive HighLevel's InvoiceSent webhooks into a ledger")
    actions = webhooks.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser(
        "serve",
        help="verify each delivery POSTed to /, record it in the ledger, then answer 200",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    serve.add_argument(
        "--ledger", type=ledger_location, required=True, metavar="PATH", help="the ledger the senders use (file or URL)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default %(default)s)")
    serve.add_argument("--port", type=_port, default=WEBHOOK_PORT, metavar="N", help="default %(default)s")
    serve.add_argument(
        "--ed25519-key",
        type=Path,
        metavar="FILE",
        help=f"the Ed25519 public key of x-ghl-signature, PEM or base64 SPKI (default: ${WEBHOOK_KEY_ENV})",
    )
    serve.set_defaults(run=run)


def _key(args: argparse.Namespace, environ: Mapping[str, str]) -> str | None:
    if args.ed25519_key is None:
        return environ.get(WEBHOOK_KEY_ENV) or None
    path: Path = args.ed25519_key
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the Ed25519 key {args.ed25519_key}: {exc}") from None


def run(args: argparse.Namespace, environ: Mapping[str, str], out: Console, err: Console) -> int:
    if any(find_spec(name) is None for name in ("cryptography", "uvicorn")):
        raise UsageError(f"the webhook receiver needs the [webhooks] extra: pip install '{EXTRA}'")
    import uvicorn

    from ..webhooks import WebhookError, WebhookReceiver, WebhookVerifier

    try:
        verifier = WebhookVerifier(ed25519_key=_key(args, environ))
    except WebhookError as exc:
        raise UsageError(str(exc)) from None
    try:
        ledger = SendLedger(args.ledger)
    except LedgerError as exc:
        raise UsageError(str(exc)) from None
    try:
        # Bound here, so that a port taken or an address refused is a usage error, and port 0 is told.
        sock = socket.create_server((args.host, args.port))
    except OSError as exc:
        ledger.close()
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    host, port = sock.getsockname()[:2]
    schemes = "x-ghl-signature (Ed25519) and x-wh-signature (RSA)" if verifier.ed25519_key else "x-wh-signature only"
    err.print(
        f"Receiving webhooks on http://{host}:{port}/ into {shown(args.ledger)} ({schemes}); Ctrl-C stops",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    with ledger, sock:
        config = uvicorn.Config(WebhookReceiver(ledger, verifier), log_level="warning", lifespan="off")
        uvicorn.Server(config).run(sockets=[sock])
    return 0
