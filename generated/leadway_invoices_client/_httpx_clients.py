# Copied from spec/runtime/_httpx_clients.py by a post hook in spec/generator.yaml. Edit that file, then run scripts/nox -s generate.
# Source sha256: 6b58ab20a7fe42a0d04fe03d3f4dcba42990a9ed43485ae19f90b53fd2792df1
"""The httpx clients our clients build: httpx's own, minus the cookie jar.

The API authenticates by bearer token, yet httpx runs every answer through http.cookiejar looking
for Set-Cookie, which costs about 100 µs a call: a third of the client-side cost of a send. Cookies
the caller gives are still sent with every request; cookies an answer sets are not kept.
"""

from __future__ import annotations

from typing import Any

import httpx


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
    """httpx.Client that sends the cookies it is given and keeps none an answer sets."""


class AsyncHttpxClient(_WithoutCookieJar, httpx.AsyncClient):
    """httpx.AsyncClient that sends the cookies it is given and keeps none an answer sets."""
