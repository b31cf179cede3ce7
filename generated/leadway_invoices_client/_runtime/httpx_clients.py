"""The httpx clients our clients build: httpx's own, minus the cookie jar and minus following a
redirect with a request that is not idempotent.

A send that meets a redirect is not sent again to the new location (with 307/308 httpx would POST
the body there: a second send); the 3xx answer is returned as is, and the call raises it as an
UnexpectedStatusError. Idempotent requests follow redirects when the client is told to.

The API authenticates by bearer token, yet httpx runs every answer through http.cookiejar looking
for Set-Cookie, which costs about 100 µs a call: a third of the client-side cost of a send. Cookies
the caller gives are still sent with every request; cookies an answer sets are not kept.
"""

from __future__ import annotations

from typing import Any

import httpx

from .retry import is_idempotent


class SentCookies(httpx.Cookies):
    """Cookies sent with every request; answers' Set-Cookie headers are ignored."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _WithoutCookieJar:
    _sent_cookies: SentCookies

    def __init__(self, *, cookies: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent_cookies = SentCookies(cookies)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._sent_cookies

    @cookies.setter
    def cookies(self, cookies: httpx.Cookies | dict[str, str] | None) -> None:
        self._sent_cookies = SentCookies(cookies)


class HttpxClient(_WithoutCookieJar, httpx.Client):
    """httpx.Client that keeps no cookie an answer sets and never re-sends a non-idempotent request."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if not is_idempotent(request.method):
            kwargs["follow_redirects"] = False
        return super().send(request, **kwargs)


class AsyncHttpxClient(_WithoutCookieJar, httpx.AsyncClient):
    """httpx.AsyncClient that keeps no cookie an answer sets and never re-sends a non-idempotent request."""

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if not is_idempotent(request.method):
            kwargs["follow_redirects"] = False
        return await super().send(request, **kwargs)
