"""The webhook receiver: an ASGI app that verifies each delivery POSTed to `/`, records it in a send
ledger durably and only then answers 200, so that no event it acknowledged can be lost.

HighLevel retries a delivery only when it is answered 429; any other failure, or no answer, loses
it. So the answers are:

* 200: verified and recorded (fsync'd), or recorded before under the same webhookId (a duplicate);
* 401: no, unknown or bad signature, or a timestamp outside the window (a replay, a forgery: never
  worth a retry); 400: a signed body that is not an InvoiceSent event;
* 429: verified, but the ledger could not record it (locked past its timeout, disk full, read-only):
  HighLevel delivers it again later;
* 404 / 405 / 413: another path, another method, a body over WEBHOOK_MAX_BODY.

An answer never echoes the body or the signature. Served by `leadway-invoices webhooks serve`
(uvicorn), or by any ASGI server.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .._ledger.ledger import SendLedger
from .._ledger.records import LedgerError, WebhookEvent, stamp
from .._ledger.webhook_events import INVOICE_SENT
from .._runtime.constants import LOGGER_NAME, WEBHOOK_MAX_BODY
from ..models.invoice_sent_event import InvoiceSentEvent
from ..types import Unset
from .errors import MalformedWebhookError, WebhookError
from .verify import WebhookVerifier, event_time

logger = logging.getLogger(f"{LOGGER_NAME}.webhooks")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _TooLarge(Exception):
    pass


class WebhookReceiver:
    """An ASGI app recording verified webhook deliveries in `ledger` (see the module).

    `clock` gives the received time (for tests); the verifier's own clock judges the timestamp.
    """

    def __init__(
        self,
        ledger: SendLedger,
        verifier: WebhookVerifier,
        *,
        max_body: int = WEBHOOK_MAX_BODY,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.ledger, self.verifier, self.max_body, self.clock = ledger, verifier, max_body, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] != "/":
            await _answer(send, 404, {"error": "not found: deliveries are POSTed to /"})
            return
        if scope["method"] != "POST":
            await _answer(send, 405, {"error": "method not allowed"}, [(b"allow", b"POST")])
            return
        try:
            body = await self._body(scope, receive)
        except _TooLarge:
            await _answer(send, 413, {"error": f"body over {self.max_body} bytes"})
            return
        status, answer = await self._handle(body, _headers(scope))
        await _answer(send, status, answer)

    async def _handle(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            record = ledger_event(self.verifier.verify(body, headers), self.clock())
        except MalformedWebhookError as error:
            logger.warning("webhook refused (400): %s", error)
            return 400, {"error": str(error)}
        except WebhookError as error:
            logger.warning("webhook refused (401): %s: %s", type(error).__name__, error)
            return 401, {"error": str(error)}
        try:
            outcome = await self.ledger.arecord_webhook(record)
        except LedgerError as error:
            # Verified but not kept: 429 is the one answer HighLevel delivers again.
            logger.error("webhook %s not recorded (429, to be delivered again): %s", record.webhook_id, error)
            return 429, {"error": "the ledger cannot record the event now; deliver it again later"}
        return 200, {"recorded": outcome.new, "settled": [r.key for r in outcome.settled]}

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise _TooLarge
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def ledger_event(event: InvoiceSentEvent, received_at: dt.datetime | None = None) -> WebhookEvent:
    """A verified event as the ledger keeps it (`SendLedger.record_webhook`): for a receiver of your
    own (another web framework), after `verify_webhook`."""
    return WebhookEvent(
        webhook_id=event.webhook_id,
        invoice_id=event.id,
        event_type=INVOICE_SENT if isinstance(event.type_, Unset) else event.type_,
        sent_at=stamp(event_time(event).astimezone(dt.UTC)),
        received_at=stamp(received_at or dt.datetime.now(dt.UTC)),
    )


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name; a name repeated is one value joined by commas (HTTP's
    rule), which no signature decodes from."""
    found: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


async def _answer(
    send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    content = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": content})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
