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
                   that echoes it (scrub.py); a 2xx is returned as sent (see `_answer`).
  inner            httpx's own transport (or the caller's, e.g. MockTransport in tests).
The sync and async paths mirror each other line for line.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from httpx_retries import RetryTransport

from .auth import Credentials
from .errors import REDACTED_COPY
from .logs import log_request, log_response, logger
from .pacing import Pacer, Ticket
from .retry import RetryPolicy
from .scrub import TokenScrub

AnyTransport = httpx.BaseTransport | httpx.AsyncBaseTransport
_Origin = tuple[bytes, bytes, int | None]


def _origin(url: httpx.URL) -> _Origin:
    return (url.raw_scheme, url.raw_host, url.port)


def _answer(response: httpx.Response, request: httpx.Request, scrub: TokenScrub) -> httpx.Response:
    """What the attempt returns: an error answer without the token; a 2xx as sent, with a copy
    without the token filed for the ContractViolationError it may still become."""
    clean = scrub.response(response, request)
    if 200 <= response.status_code < 300 and clean is not response:
        response.extensions[REDACTED_COPY] = clean
        return response
    return clean


class Wrapper(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport in front of `inner` (sync or async): closing it closes `inner`."""

    def __init__(self, inner: AnyTransport) -> None:
        self.inner = inner

    def close(self) -> None:
        if isinstance(self.inner, httpx.BaseTransport):
            self.inner.close()

    async def aclose(self) -> None:
        if isinstance(self.inner, httpx.AsyncBaseTransport):
            await self.inner.aclose()


class _Attempt(Wrapper):
    def __init__(self, inner: AnyTransport, pacer: Pacer | None, credentials: Credentials | None) -> None:
        super().__init__(inner)
        self.pacer = pacer
        self._credentials = credentials
        self._hidden = frozenset({credentials.header_name.lower()}) if credentials is not None else frozenset()
        self._last: TokenScrub | None = None

    def _scrub(self, request: httpx.Request) -> TokenScrub | None:
        """What takes the token this request carries out of its answer; None without a token."""
        credentials = self._credentials
        value = request.headers.get(credentials.header_name) if credentials is not None else None
        secret = credentials.secret(value) if credentials is not None and value else None
        if not secret:
            return None
        last = self._last
        if last is None or last.secret != secret:  # a fixed token: made once; a provider's: per token
            self._last = last = TokenScrub(secret)
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
