# Copied from spec/runtime/_transport.py by a post hook in spec/generator.yaml. Edit that file, then run scripts/nox -s generate.
# Source sha256: c890d39eac90722d15d29d7c976ef2c9b919ee0a6466fd43b929998d853aefb4
"""The one httpx transport every call goes through: auth, retries, pacing and debug logging.

Layers, outermost first:
  PolicyTransport  sets the Authorization header; after a 401, asks a token provider for a new token
                   and sends once more (a 401 proves nothing ran).
  RetryTransport   httpx-retries, configured by RetryPolicy: 429 and connect failures only.
  _Attempt         one attempt: waits for the pacer, logs the request and answer with secrets redacted.
  inner            httpx's own transport (or the caller's, e.g. MockTransport in tests).
The sync and async paths mirror each other line for line.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
from httpx_retries import RetryTransport

from ._auth import Credentials
from ._logging import log_request, log_response, logger
from ._pacing import Pacer
from ._retry import RetryPolicy

AnyTransport = httpx.BaseTransport | httpx.AsyncBaseTransport


class _Attempt(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, inner: AnyTransport, pacer: Pacer | None) -> None:
        self.inner = inner
        self.pacer = pacer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(self.inner, httpx.BaseTransport), "this transport is async-only"
        pacer, key = self.pacer, ""
        if pacer is not None:
            key = pacer.key(request)
            while (wait := pacer.acquire(key)) > 0:
                time.sleep(wait)
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            log_request(request)
        try:
            response = self.inner.handle_request(request)
        except BaseException:
            if pacer is not None:
                pacer.release(key, None)
            raise
        if pacer is not None:
            pacer.release(key, response)
        if debug:
            log_response(request, response)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(self.inner, httpx.AsyncBaseTransport), "this transport is sync-only"
        pacer, key = self.pacer, ""
        if pacer is not None:
            key = pacer.key(request)
            # A poll, not an asyncio.Event: the pacer's state is shared with threads and other loops.
            while (wait := pacer.acquire(key)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
        debug = logger.isEnabledFor(logging.DEBUG)
        if debug:
            log_request(request)
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException:
            if pacer is not None:
                pacer.release(key, None)
            raise
        if pacer is not None:
            pacer.release(key, response)
        if debug:
            log_response(request, response)
        return response

    def close(self) -> None:
        if isinstance(self.inner, httpx.BaseTransport):
            self.inner.close()

    async def aclose(self) -> None:
        if isinstance(self.inner, httpx.AsyncBaseTransport):
            await self.inner.aclose()


def _with_new_token(request: httpx.Request, credentials: Credentials) -> httpx.Request:
    """A copy of `request` with a refreshed token; the refused one stays as the 401's request."""
    headers = request.headers.copy()
    headers[credentials.header_name] = credentials.header_value(refresh=True)
    return httpx.Request(
        request.method, request.url, headers=headers, content=request.content, extensions=dict(request.extensions)
    )


class PolicyTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps `inner` with the client's policy; built by the client for its httpx clients."""

    def __init__(
        self,
        inner: AnyTransport,
        *,
        credentials: Credentials | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        attempt = _Attempt(inner, pacer)
        self._send: _Attempt | RetryTransport = attempt
        if retry is not None and retry.attempts > 1:
            self._send = RetryTransport(attempt, retry=retry.to_retry())
        self._attempt = attempt
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"PolicyTransport(inner={self._attempt.inner!r}, retry={type(self._send).__name__})"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        credentials = self._credentials
        if credentials is not None:
            request.headers[credentials.header_name] = credentials.header_value()
        response = self._send.handle_request(request)
        if response.status_code == 401 and credentials is not None and credentials.refreshable:
            response.close()
            response = self._send.handle_request(_with_new_token(request, credentials))
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        credentials = self._credentials
        if credentials is not None:
            request.headers[credentials.header_name] = credentials.header_value()
        response = await self._send.handle_async_request(request)
        if response.status_code == 401 and credentials is not None and credentials.refreshable:
            await response.aclose()
            response = await self._send.handle_async_request(_with_new_token(request, credentials))
        return response

    def close(self) -> None:
        self._attempt.close()

    async def aclose(self) -> None:
        await self._attempt.aclose()
