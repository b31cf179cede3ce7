"""Debug logging of requests and answers through stdlib `logging`, with secrets redacted.

Turn it on with `logging.getLogger("leadway_invoices_client").setLevel(logging.DEBUG)` (plus a
handler). Sensitive headers are replaced before a record is built, and a filter on the package
logger scrubs anything that still looks like a bearer token, in case a record is built elsewhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import httpx

from .constants import LOGGER_NAME

logger = logging.getLogger(LOGGER_NAME)

REDACTED = "<redacted>"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s'\",}]+")


def redact_headers(
    headers: httpx.Headers | Iterable[tuple[str, str]], also: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The headers as a dict, with the value of every sensitive one (and of those named, lower case,
    in `also`: a custom credential header) replaced."""
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else headers
    hidden = SENSITIVE_HEADERS | also
    return {name: REDACTED if name.lower() in hidden else value for name, value in items}


class RedactingFilter(logging.Filter):
    """Replaces bearer tokens in a record's message; a second line of defence, never the first."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = _BEARER.sub(rf"\1 {REDACTED}", message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


if not any(isinstance(f, RedactingFilter) for f in logger.filters):
    logger.addFilter(RedactingFilter())


def log_request(request: httpx.Request, also: frozenset[str] = frozenset()) -> None:
    logger.debug("request %s %s headers=%s", request.method, request.url, redact_headers(request.headers, also))


def log_response(request: httpx.Request, response: httpx.Response, also: frozenset[str] = frozenset()) -> None:
    logger.debug(
        "response %s %s -> %s headers=%s",
        request.method,
        request.url,
        response.status_code,
        redact_headers(response.headers, also),
    )
