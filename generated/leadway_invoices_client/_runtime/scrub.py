"""Taking a token out of what a server echoed back, whatever the token's length.

A server may echo the request's credential in an error answer or a failure message; the client
builds errors, log records and `*_detailed` responses from those, so the transport runs each one
through a `TokenScrub` first (see transport.py). A 2xx is never altered: the client reads it from the
very bytes the server sent.
"""

from __future__ import annotations

import json
import re

import httpx

# What replaces an echoed token: the first that can neither hold the token nor complete it with its
# neighbours (a token is visible ASCII, so never holds a space, and cannot be in both spellings).
_MARKERS = ("[REDACTED]", "<REDACTED>", " REDACTED ", " redacted ")


def _marker(secret: str) -> str:
    return next(m for m in _MARKERS if secret not in m and m[0] not in secret and m[-1] not in secret)


# A JSON escape that may stand for a visible ASCII character (`\\u0061` for `a`): no plain or
# escaped form of the token matches behind it, so only then is a body decoded to look.
_ASCII_ESCAPE = re.compile(rb"\\u00[2-7][0-9A-Fa-f]")
# The body is decoded already and may change length: httpx sets Content-Length anew.
_FRAMING = frozenset({b"content-length", b"content-encoding", b"transfer-encoding"})


def _holds(value: object, secret: str) -> bool:
    if isinstance(value, str):
        return secret in value
    if isinstance(value, dict):
        return any(secret in key or _holds(item, secret) for key, item in value.items())
    return isinstance(value, list) and any(_holds(item, secret) for item in value)


def _without(value: object, secret: str, marker: str) -> object:
    if isinstance(value, str):
        return value.replace(secret, marker)
    if isinstance(value, dict):
        return {key.replace(secret, marker): _without(item, secret, marker) for key, item in value.items()}
    if isinstance(value, list):
        return [_without(item, secret, marker) for item in value]
    return value


class TokenScrub:
    """Takes one token out of an answer, whatever its length: as is and JSON-escaped (`\\"`,
    `\\\\`, `\\/`) in the body, headers and reason phrase, and behind any `\\u` escape in a JSON body
    (decoded, cleaned, encoded again). A one-character token mangles the text; the trade is
    deliberate, and the marker shows where it happened."""

    __slots__ = ("_forms", "_marker", "secret")

    def __init__(self, secret: str) -> None:
        escaped = json.dumps(secret)[1:-1]
        # Escaped forms first: they hold the token's other characters, which the plain form would take.
        forms = sorted({escaped.replace("/", "\\/"), escaped, secret}, key=len, reverse=True)
        self._forms = tuple(form.encode() for form in forms)
        self._marker = _marker(secret)
        self.secret = secret

    def __repr__(self) -> str:
        return "TokenScrub(<redacted>)"

    def _found(self, data: bytes) -> bool:
        return any(form in data for form in self._forms)

    def _bytes(self, data: bytes, *, body: bool = False) -> bytes:
        marker = self._marker.encode()
        for form in self._forms:
            data = data.replace(form, marker)
        if body and _ASCII_ESCAPE.search(data):
            try:
                decoded = json.loads(data)
                if _holds(decoded, self.secret):
                    cleaned = _without(decoded, self.secret, self._marker)
                    data = json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")).encode()
            except (ValueError, RecursionError):
                pass  # not JSON (after the plain replacement), or nested beyond reach
        return data

    def response(self, response: httpx.Response, request: httpx.Request) -> httpx.Response:
        """`response` (read) if it holds no trace of the token, else a copy without it."""
        content, headers = response.content, response.headers.raw
        phrase = response.extensions.get("reason_phrase")
        phrase = phrase if isinstance(phrase, bytes) else b""
        # One look at all header values: a token holds no line break, so none matches across two.
        found = self._found(content) or self._found(b"\n".join([phrase, *(value for _, value in headers)]))
        if not found and not _ASCII_ESCAPE.search(content):
            return response
        cleaned = self._bytes(content, body=True)
        if not found and cleaned == content:
            return response
        extensions = dict(response.extensions)
        if phrase:
            extensions["reason_phrase"] = self._bytes(phrase)
        return httpx.Response(
            response.status_code,
            headers=[(name, self._bytes(value)) for name, value in headers if name.lower() not in _FRAMING],
            content=cleaned,
            request=request,
            extensions=extensions,
        )

    def error(self, exc: httpx.RequestError, request: httpx.Request) -> httpx.RequestError:
        """`exc`, or one of its type whose message has the token replaced."""
        message = str(exc)
        if self.secret not in message:
            return exc
        return type(exc)(message.replace(self.secret, self._marker), request=request)
