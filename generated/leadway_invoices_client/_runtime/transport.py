"""The one httpx transport every call goes through: auth, retries, pacing and debug logging.

Layers, outermost first:
  PolicyTransport  sets the credential header (only on requests to the base URL's origin, so a
                   redirect elsewhere never carries it) and the Version header; after a 401, asks a
                   token provider for a new token and sends once more (a 401 proves nothing ran).
                   The credential is removed from the request once it is answered, so no response,
                   error or pickle made from it holds the token.
  RetryTransport   httpx-retries, configured per method by RetryPolicy (see retry.py).
  _Attempt         one attempt: waits for the pacer, logs the request and answer with secrets
                   redacted, and scrubs the token (at any length) from an error answer or a failure
                   that echoes it; a 2xx is returned as sent (see `_answer`).
  inner            httpx's own transport (or the caller's, e.g. MockTransport in tests).
The sync and async paths mirror each other line for line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

import httpx
from httpx_retries import RetryTransport

from .auth import Credentials
from .errors import REDACTED_COPY
from .logs import log_request, log_response, logger
from .pacing import Pacer, Ticket
from .retry import RetryPolicy

AnyTransport = httpx.BaseTransport | httpx.AsyncBaseTransport
_Origin = tuple[bytes, bytes, int | None]
# What replaces an echoed token: the first that can neither hold the token nor complete it with its
# neighbours (a token is visible ASCII, so never holds a space, and cannot be in both spellings).
_MARKERS = ("[REDACTED]", "<REDACTED>", " REDACTED ", " redacted ")


def _origin(url: httpx.URL) -> _Origin:
    return (url.raw_scheme, url.raw_host, url.port)


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


class _Scrub:
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
        return "_Scrub(<redacted>)"

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


def scrubbed(response: httpx.Response, request: httpx.Request, secret: str) -> httpx.Response:
    """`response` (read), or a copy without `secret` (see _Scrub). Only for answers that may end up
    in an error: the client reads a success from the very bytes the server sent."""
    return _Scrub(secret).response(response, request)


def _answer(response: httpx.Response, request: httpx.Request, scrub: _Scrub) -> httpx.Response:
    """What the attempt returns: an error answer without the token; a 2xx as sent, with a copy
    without the token filed for the ContractViolationError it may still become."""
    clean = scrub.response(response, request)
    if 200 <= response.status_code < 300 and clean is not response:
        response.extensions[REDACTED_COPY] = clean
        return response
    return clean


class _Attempt(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, inner: AnyTransport, pacer: Pacer | None, credentials: Credentials | None) -> None:
        self.inner = inner
        self.pacer = pacer
        self._credentials = credentials
        self._hidden = frozenset({credentials.header_name.lower()}) if credentials is not None else frozenset()
        self._last: _Scrub | None = None

    def _scrub(self, request: httpx.Request) -> _Scrub | None:
        """What takes the token this request carries out of its answer; None without a token."""
        credentials = self._credentials
        value = request.headers.get(credentials.header_name) if credentials is not None else None
        secret = credentials.secret(value) if credentials is not None and value else None
        if not secret:
            return None
        last = self._last
        if last is None or last.secret != secret:  # a fixed token: made once; a provider's: per token
            self._last = last = _Scrub(secret)
        return last

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(self.inner, httpx.BaseTransport), "this transport is async-only"
        pacer, key, ticket = self.pacer, "", None
        if pacer is not None:
            key = pacer.key(request)
            while not isinstance(got := pacer.acquire(key), Ticket):
                time.sleep(got)
            ticket = got
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            log_request(request, self._hidden)
        scrub = self._scrub(request)
        failure: httpx.RequestError | None = None
        try:
            response = answer = self.inner.handle_request(request)
            if scrub is not None:
                response.read()
                answer = _answer(response, request, scrub)
        except httpx.RequestError as exc:
            if pacer is not None and ticket is not None:
                pacer.release(key, ticket, None)
            failure = exc if scrub is None else scrub.error(exc, request)
            if failure is exc:
                raise
        except BaseException:
            if pacer is not None and ticket is not None:
                pacer.release(key, ticket, None)
            raise
        if failure is not None:
            raise failure  # here, not in the except block: the original (with the token) is no __context__
        if pacer is not None and ticket is not None:
            pacer.release(key, ticket, response)  # the headers as sent: a scrub may have mangled them
        if debug:
            log_response(request, answer.extensions.get(REDACTED_COPY, answer), self._hidden)
        return answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(self.inner, httpx.AsyncBaseTransport), "this transport is sync-only"
        pacer, key, ticket = self.pacer, "", None
        if pacer is not None:
            key = pacer.key(request)
            # A poll, not an asyncio.Event: the pacer's state is shared with threads and other loops.
            while not isinstance(got := pacer.acquire(key), Ticket):  # noqa: ASYNC110
                await asyncio.sleep(got)
            ticket = got
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            log_request(request, self._hidden)
        scrub = self._scrub(request)
        failure: httpx.RequestError | None = None
        try:
            response = answer = await self.inner.handle_async_request(request)
            if scrub is not None:
                await response.aread()
                answer = _answer(response, request, scrub)
        except httpx.RequestError as exc:
            if pacer is not None and ticket is not None:
                pacer.release(key, ticket, None)
            failure = exc if scrub is None else scrub.error(exc, request)
            if failure is exc:
                raise
        except BaseException:
            if pacer is not None and ticket is not None:
                pacer.release(key, ticket, None)
            raise
        if failure is not None:
            raise failure  # here, not in the except block: the original (with the token) is no __context__
        if pacer is not None and ticket is not None:
            pacer.release(key, ticket, response)  # the headers as sent: a scrub may have mangled them
        if debug:
            log_response(request, answer.extensions.get(REDACTED_COPY, answer), self._hidden)
        return answer

    def close(self) -> None:
        if isinstance(self.inner, httpx.BaseTransport):
            self.inner.close()

    async def aclose(self) -> None:
        if isinstance(self.inner, httpx.AsyncBaseTransport):
            await self.inner.aclose()


def _with_new_token(request: httpx.Request, credentials: Credentials) -> httpx.Request:
    """A copy of `request` with a refreshed token; the refused one stays as the 401's request."""
    headers = request.headers.copy()
    headers[credentials.header_name] = credentials.header_value(request, refresh=True)
    return httpx.Request(
        request.method, request.url, headers=headers, content=request.content, extensions=dict(request.extensions)
    )


class PolicyTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps `inner` with the client's policy; built by the client for its httpx clients.

    `origin`: the base URL; credentials go only to requests with its scheme, host and port.
    `headers`: set on every request (the client's Version header), replacing what the call set.
    """

    def __init__(
        self,
        inner: AnyTransport,
        *,
        credentials: Credentials | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        origin: str | httpx.URL | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._attempt = _Attempt(inner, pacer, credentials)
        self._retry = retry if retry is not None and retry.attempts > 1 else None
        self._by_method: dict[str, _Attempt | RetryTransport] = {}
        self._credentials = credentials
        self._origin = _origin(httpx.URL(origin)) if origin is not None else None
        self._headers = dict(headers or {})

    def __repr__(self) -> str:
        retry = "RetryTransport" if self._retry is not None else "_Attempt"
        return f"PolicyTransport(inner={self._attempt.inner!r}, retry={retry})"

    def _sender(self, method: str) -> _Attempt | RetryTransport:
        sender = self._by_method.get(method)
        if sender is None:
            retry = self._retry
            sender = self._attempt if retry is None else RetryTransport(self._attempt, retry=retry.to_retry(method))
            self._by_method[method] = sender
        return sender

    def _authenticate(self, request: httpx.Request) -> Credentials | None:
        """Sets the policy's headers; returns the credentials when they were put on `request`."""
        for name, value in self._headers.items():
            request.headers[name] = value
        credentials = self._credentials
        if credentials is None or self._origin is None or _origin(request.url) != self._origin:
            return None
        request.headers[credentials.header_name] = credentials.header_value(request)
        return credentials

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        credentials = self._authenticate(request)
        send = self._sender(request.method)
        try:
            response = send.handle_request(request)
            if response.status_code == 401 and credentials is not None and credentials.refreshable:
                response.close()
                again = _with_new_token(request, credentials)
                try:
                    response = send.handle_request(again)
                finally:
                    again.headers.pop(credentials.header_name, None)
            return response
        finally:
            if credentials is not None:
                request.headers.pop(credentials.header_name, None)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        credentials = self._authenticate(request)
        send = self._sender(request.method)
        try:
            response = await send.handle_async_request(request)
            if response.status_code == 401 and credentials is not None and credentials.refreshable:
                await response.aclose()
                again = _with_new_token(request, credentials)
                try:
                    response = await send.handle_async_request(again)
                finally:
                    again.headers.pop(credentials.header_name, None)
            return response
        finally:
            if credentials is not None:
                request.headers.pop(credentials.header_name, None)

    def close(self) -> None:
        self._attempt.close()

    async def aclose(self) -> None:
        await self._attempt.aclose()
