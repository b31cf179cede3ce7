"""HighLevel's webhooks, verified: `verify_webhook` and its error tree, and the receiver that records
InvoiceSent events in a send ledger (`receiver.WebhookReceiver`, an ASGI app).

The `[webhooks]` extra (`pip install 'leadway-invoices-client[webhooks]'`) brings what it needs
(`cryptography`); without it, importing this module says so in one error.
"""

from __future__ import annotations

from importlib.util import find_spec as _find_spec

EXTRA = "leadway-invoices-client[webhooks]"

if _find_spec("cryptography") is None:
    raise ImportError(
        f"leadway_invoices_client.webhooks needs the [webhooks] extra (cryptography): pip install '{EXTRA}'",
        name="cryptography",
    )

from .errors import (  # noqa: E402 (after the check above, which names the extra)
    MalformedWebhookError,
    SignatureError,
    TimestampError,
    UnknownSchemeError,
    WebhookError,
    WebhookKeyError,
)
from .keys import PUBLISHED_RSA_KEY  # noqa: E402
from .receiver import WebhookReceiver, ledger_event  # noqa: E402
from .verify import WebhookVerifier, event_time, verify_webhook  # noqa: E402

__all__ = [
    "EXTRA",
    "PUBLISHED_RSA_KEY",
    "MalformedWebhookError",
    "SignatureError",
    "TimestampError",
    "UnknownSchemeError",
    "WebhookError",
    "WebhookKeyError",
    "WebhookReceiver",
    "WebhookVerifier",
    "event_time",
    "ledger_event",
    "verify_webhook",
]
