"""Every fact the client reads off the wire, parsed in one place, robustly and with caps.

An answer is read after the customer may have been emailed, so nothing here may raise: a header
or body that is not what the API documents reads as "absent" (None), never as a ValueError,
OverflowError or TypeError from deep inside. Numbers are ASCII digits only (`int()` also takes
'²'-like digits and thousands of them), and every duration is finite and capped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time
from typing import Any

import httpx

# More digits than any budget or interval the API reports; longer values read as absent.
MAX_DIGITS = 12
MAX_INTERVAL = 3600.0
"""Seconds: an X-RateLimit interval above this (upstream's is 10 s) reads as this."""
MAX_RETRY_AFTER = 86_400.0
"""Seconds: a Retry-After hint above a day reads as a day (callers cap it further)."""
MAX_MESSAGE_ITEMS = 50


def count(value: str | None) -> int | None:
    """A non-negative integer header value, or None when absent or not plain ASCII digits."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def interval_seconds(value: str | None) -> float | None:
    """X-RateLimit-Interval-Milliseconds in seconds, capped at MAX_INTERVAL; None when unusable."""
    ms = count(value)
    if ms is None or ms == 0:
        return None
    return min(ms / 1000, MAX_INTERVAL)


def retry_after(value: str | None) -> float | None:
    """Seconds to wait according to Retry-After (seconds or an HTTP date), capped; None when unusable."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 64:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


# The rate-limit headers, lower case as httpx keeps them, by the RateLimit field each fills.
_FIELDS = {
    b"x-ratelimit-limit-daily": "limit_daily",
    b"x-ratelimit-daily-remaining": "daily_remaining",
    b"x-ratelimit-interval-milliseconds": "interval_ms",
    b"x-ratelimit-max": "max",
    b"x-ratelimit-remaining": "remaining",
    b"retry-after": "retry_after",
}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The rate-limit headers of an answer; None where a header is absent or not a number."""

    limit_daily: int | None = None
    daily_remaining: int | None = None
    interval_ms: int | None = None
    max: int | None = None
    remaining: int | None = None
    retry_after: float | None = None
    """Seconds from Retry-After (undocumented upstream, so often None)."""

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimit:
        # One pass over the answer's headers (every answer of a paced client is read here); a header
        # sent twice reads as its values joined by ", ", as `headers.get` gives it, so not a number.
        found: dict[str, list[str]] = {}
        encoding = headers.encoding
        for name, value in headers.raw:
            field = _FIELDS.get(name.lower())
            if field is not None:
                found.setdefault(field, []).append(value.decode(encoding))
        text = {field: ", ".join(values) for field, values in found.items()}
        return cls(
            limit_daily=count(text.get("limit_daily")),
            daily_remaining=count(text.get("daily_remaining")),
            interval_ms=count(text.get("interval_ms")),
            max=count(text.get("max")),
            remaining=count(text.get("remaining")),
            retry_after=retry_after(text.get("retry_after")),
        )

    @property
    def interval(self) -> float | None:
        """The burst interval in seconds, capped at MAX_INTERVAL; None when absent or zero."""
        if not self.interval_ms:
            return None
        return min(self.interval_ms / 1000, MAX_INTERVAL)


def error_message(data: Any) -> str | list[str] | None:
    """The `message` of a parsed ErrorResponse-like body: a string, a list of strings (non-strings in
    the list are shown by their JSON type, not raised on), or None."""
    if not isinstance(data, dict):
        return None
    message = data.get("message")
    if isinstance(message, str):
        return message
    if isinstance(message, list):
        return [item if isinstance(item, str) else f"<{type(item).__name__}>" for item in message[:MAX_MESSAGE_ITEMS]]
    return None
