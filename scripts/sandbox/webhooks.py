"""The sandbox's InvoiceSent webhooks: after each send that lands, one signed delivery to the
`--webhook-url` (loopback only), as HighLevel delivers to an app's webhook URL.

Each delivery is the invoice as sent, with `type`, `locationId`, a fresh `webhookId` and the
`timestamp` (the real time: HighLevel's delivery clock), signed `x-ghl-signature` (Ed25519, base64,
over the bytes sent) with the sandbox's own key pair: made afresh per sandbox, TEST-ONLY, its public
key written to `webhook_key_file` (and printed by `python -m scripts.sandbox`) for the receiver.
Like HighLevel's, a delivery is retried only when answered 429 (with backoff, a few times); any other
answer or failure loses it.

Faults per invoice (`SandboxConfig.webhook_faults`, `--webhook-faults FILE`: `{"<invoiceId>": "<fault>"}`):

* `dropped`: never delivered;
* `delayed:SECONDS` (0-300): delivered SECONDS late, its timestamp the send's;
* `duplicated`: delivered twice (the same webhookId and bytes);
* `out-of-order`: held back until the next delivery of another send has gone (or a second), so
  that it arrives after an event sent later than it.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scripts.sandbox.config import SandboxError
from scripts.sandbox.server import check_loopback

logger = logging.getLogger(__name__)

FAULTS = ("dropped", "delayed", "duplicated", "out-of-order")
MAX_DELAY = 300.0
RETRIES_ON_429 = 5
OUT_OF_ORDER_HOLD = 1.0


@dataclass(frozen=True)
class WebhookFault:
    kind: str
    seconds: float = 0.0


def parse_webhook_fault(text: str) -> WebhookFault:
    """`dropped`, `delayed:SECONDS`, `duplicated` or `out-of-order`; SandboxError otherwise."""
    kind, _, arg = text.partition(":")
    if kind not in FAULTS or bool(arg) != (kind == "delayed"):
        raise SandboxError(f"unknown webhook fault {text!r}: use dropped, delayed:SECONDS, duplicated, out-of-order")
    if kind != "delayed":
        return WebhookFault(kind)
    try:
        seconds = float(arg)
    except ValueError:
        raise SandboxError(f"webhook fault {text!r}: SECONDS must be a number") from None
    if not 0 <= seconds <= MAX_DELAY:
        raise SandboxError(f"webhook fault {text!r}: SECONDS must be from 0 to {MAX_DELAY:g}")
    return WebhookFault(kind, seconds)


def check_url(url: str) -> str:
    """`url` if it is http(s) to a loopback address: the sandbox sends nothing off the machine."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise SandboxError(f"webhook URL {url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise SandboxError(f"webhook URL {url!r} must be http or https")
    check_loopback(parsed.host)
    return url


class WebhookSender:
    """Signs and delivers an InvoiceSent per landed send (see the module). `delivered` lists the
    webhook ids answered 2xx, `lost` those given up on (for tests and the demo)."""

    def __init__(self, url: str, faults: Mapping[str, str], key_file: Path | None = None) -> None:
        self.url = check_url(url)
        self.faults = {invoice_id: parse_webhook_fault(text) for invoice_id, text in faults.items()}
        self._key = Ed25519PrivateKey.generate()
        self.public_key_pem = (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        if key_file is not None:
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(self.public_key_pem, encoding="ascii")
        self.delivered: list[str] = []
        self.lost: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: list[tuple[bytes, str]] = []

    def signed(self, invoice: Mapping[str, Any]) -> tuple[bytes, str]:
        """A delivery's bytes and its x-ghl-signature."""
        event = {
            "type": "InvoiceSent",
            "locationId": invoice.get("altId"),
            "webhookId": uuid.uuid4().hex,
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            **invoice,
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        return body, base64.b64encode(self._key.sign(body)).decode()

    def sent(self, invoice: Mapping[str, Any]) -> None:
        """Called on the server's loop once a send landed: schedule its delivery."""
        fault = self.faults.get(str(invoice["_id"]))
        body, signature = self.signed(invoice)
        if fault is not None and fault.kind == "dropped":
            self.lost.append(json.loads(body)["webhookId"])
            return
        self._start(self._run(body, signature, fault))

    def _start(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, body: bytes, signature: str, fault: WebhookFault | None) -> None:
        if fault is not None and fault.kind == "out-of-order":
            self._held.append((body, signature))
            await asyncio.sleep(OUT_OF_ORDER_HOLD)
            if (body, signature) in self._held:  # no other delivery released it meanwhile
                self._held.remove((body, signature))
                await self._deliver(body, signature)
            return
        if fault is not None and fault.kind == "delayed":
            await asyncio.sleep(fault.seconds)
        await self._deliver(body, signature)
        if fault is not None and fault.kind == "duplicated":
            await self._deliver(body, signature)
        held, self._held = self._held, []
        for late in held:  # after a later send's event: out of order
            await self._deliver(*late)

    async def _deliver(self, body: bytes, signature: str) -> None:
        webhook_id = json.loads(body)["webhookId"]
        headers = {"content-type": "application/json", "x-ghl-signature": signature}
        pause = 0.05
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(RETRIES_ON_429 + 1):
                try:
                    answer = await client.post(self.url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    logger.info("webhook %s lost: %s", webhook_id, type(exc).__name__)
                    break
                if answer.status_code != 429:
                    (self.delivered if answer.is_success else self.lost).append(webhook_id)
                    return
                await asyncio.sleep(pause)
                pause *= 2
        self.lost.append(webhook_id)

    async def drain(self) -> None:
        """Wait for every delivery under way (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
