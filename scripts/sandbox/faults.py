"""Faults injected per request with the `X-Sandbox-Fault` header.

Each one imitates a failure a real client meets, and is real at the socket level under uvicorn:

* `drop-after-send`: the request is handled as usual (a valid send is performed and recorded), then
  the connection is closed halfway through the answer, whatever its status (the client sees
  `httpx.RemoteProtocolError`).
* `delayed-send:SECONDS` (0-30): the request is checked as usual (401, 429, 422 answer at once),
  then the connection is closed with no answer, and the send lands (invoice `sent`, deliveries in
  the outbox) only SECONDS later: the client meets an unknown outcome while the send is still on
  its way, which is what reconciliation's grace period is for. A send the business rules refuse
  (404, 403, 400) is dropped at landing, as its answer would have been.
* `html-500`: a proxy's HTML error page with status 500 (not the spec's JSON).
* `503`: the spec's JSON 503; nothing is sent.
* `slow:SECONDS`: the request is handled normally after a delay (for client timeouts).
* `rate-limit`: an immediate 429 with Retry-After, as if the burst budget were spent.
* `omit:NAME`: a 2xx answer without NAME, a header (`omit:X-RateLimit-Remaining`) or a field of the
  invoice (`omit:total`, `omit:_id`): an API that drifted from the spec, for the live read check and
  the client's tolerant reader. Unlike the other faults, one assigned to an invoice also applies to its
  reads: making the invoice's answers deviate is what it is for.
"""

from __future__ import annotations

import enum
import logging
import math
import re
from dataclasses import dataclass

import httpx
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from scripts.sandbox.json_words import json_text

FAULT_HEADER = "X-Sandbox-Fault"

HTML_500_PAGE = """<html>
<head><title>500 Internal Server Error</title></head>
<body>
<center><h1>500 Internal Server Error</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


class FaultKind(enum.StrEnum):
    """The fault names `X-Sandbox-Fault` accepts (`slow` and `delayed-send` take `:SECONDS`)."""

    DROP_AFTER_SEND = "drop-after-send"
    HTML_500 = "html-500"
    SERVICE_UNAVAILABLE = "503"
    SLOW = "slow"
    RATE_LIMIT = "rate-limit"
    DELAYED_SEND = "delayed-send"
    OMIT = "omit"


@dataclass(frozen=True)
class Fault:
    """One parsed `X-Sandbox-Fault` value."""

    kind: FaultKind
    #: The delay of `slow:SECONDS` and `delayed-send:SECONDS`; 0 for the other faults.
    seconds: float = 0.0
    #: What `omit:NAME` leaves out of a 2xx answer: a header (`X-...`) or a field of the invoice.
    name: str = ""

    @property
    def omits_header(self) -> bool:
        return self.name.lower().startswith("x-")


class FaultError(ValueError):
    """An `X-Sandbox-Fault` value the sandbox does not understand; the message names it."""


# The faults that take `:SECONDS`.
_DELAYED = (FaultKind.SLOW, FaultKind.DELAYED_SEND)


def expected_faults() -> str:
    """Every fault name, as the header takes it (`slow:SECONDS`, `omit:NAME`, ...)."""

    def shown(kind: FaultKind) -> str:
        return f"{kind.value}:SECONDS" if kind in _DELAYED else "omit:NAME" if kind is FaultKind.OMIT else kind.value

    return ", ".join(shown(kind) for kind in FaultKind)


# What `omit:NAME` takes: a header's or a JSON field's name.
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def parse_fault(value: str | None, max_slow_seconds: float) -> Fault | None:
    """Parse a header value; None when the header is absent.

    Raises:
        FaultError: unknown fault name, or a `slow` or `delayed-send` delay that is not a number in
            [0, max_slow_seconds].
    """
    if value is None:
        return None
    name, colon, argument = value.strip().partition(":")
    name = name.strip().lower()
    if name in _DELAYED:
        try:
            seconds = float(argument)
        except ValueError:
            seconds = math.nan
        # NaN fails both comparisons, so "slow:nan" is refused like "slow:abc".
        if not colon or not 0 <= seconds <= max_slow_seconds:
            raise FaultError(
                f"{FAULT_HEADER} {json_text(value)}: {name} needs a delay in seconds"
                f" between 0 and {max_slow_seconds:g}, for example {name}:0.5"
            )
        return Fault(FaultKind(name), seconds)
    if name == FaultKind.OMIT:
        omitted = argument.strip()
        if not colon or not _NAME.fullmatch(omitted):
            raise FaultError(
                f"{FAULT_HEADER} {value!r}: omit needs the name of a header or of an invoice field,"
                " for example omit:X-RateLimit-Remaining or omit:total"
            )
        return Fault(FaultKind.OMIT, name=omitted)
    try:
        kind = FaultKind(name)
    except ValueError:
        kind = None
    if kind is None or colon:
        raise FaultError(f"Unknown {FAULT_HEADER} {json_text(value)}; expected one of: {expected_faults()}")
    return Fault(kind)


class ConnectionDropped(httpx.RemoteProtocolError):
    """Raised by the app to cut a connection mid-answer (`drop-after-send`).

    Under uvicorn the socket closes and the client sees its own `httpx.RemoteProtocolError`. In-process
    (`httpx.ASGITransport`, Starlette's TestClient) this exception reaches the client itself; being a
    `RemoteProtocolError`, it is caught by the same `except` as over a socket.
    """


class DroppedConnectionResponse(Response):
    """Starts `inner` with its full Content-Length, sends half its body, then drops the connection
    (`drop-after-send`; `delayed-send` drops an empty 200 before its send lands)."""

    def __init__(self, inner: Response) -> None:
        super().__init__(bytes(inner.body), status_code=inner.status_code)
        self.raw_headers = list(inner.raw_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytes(self.body)
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        # Raising after the response started is what makes uvicorn close the socket; returning would
        # leave the connection waiting, and raising earlier would give a plain 500.
        raise ConnectionDropped("sandbox fault drop-after-send: connection closed mid-response")


class HideDroppedConnections(logging.Filter):
    """Keeps uvicorn's error log free of tracebacks for connections the sandbox drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))
