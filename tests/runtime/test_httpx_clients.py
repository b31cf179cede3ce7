"""`_runtime/httpx_clients.py`: httpx's clients without a cookie jar, and never following a redirect
with a request that is not idempotent."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from leadway_invoices_client import UnexpectedStatusError
from leadway_invoices_client._runtime.httpx_clients import AsyncHttpxClient, HttpxClient, SentCookies

from tests.mock_api import BASE_URL, SUCCESS_BODY, Send, Server, json_response, mock_client


def test_a_send_never_follows_a_redirect(send: Send) -> None:
    # Old code: with follow_redirects=True a 307 re-POSTed the body (a second send), to another
    # origin with the Authorization header put back by the policy transport.
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(httpx.Request(request.method, request.url, headers=request.headers.copy()))
        if request.url.host == "api.test":
            return httpx.Response(307, headers={"Location": "https://elsewhere.test/invoices/x/send"})
        return json_response(200, SUCCESS_BODY)

    with pytest.raises(UnexpectedStatusError) as caught:
        send(mock_client(handler, follow_redirects=True))
    assert caught.value.status_code == 307
    assert [r.url.host for r in seen] == ["api.test"]


def test_cookies_given_are_sent_but_cookies_the_api_sets_are_not_kept(send: Send) -> None:
    # The client keeps no cookie jar (parsing Set-Cookie cost ~100 µs a call): the API authenticates
    # by bearer token, so a cookie it sets must not ride along on the next send.
    server = Server(json_response(200, SUCCESS_BODY, headers={"Set-Cookie": "session=abc; Path=/"}))
    client = server.client(cookies={"given": "1"})

    send(client)
    send(client)

    assert [request.headers.get("Cookie") for request in server.requests] == ["given=1", "given=1"]
    assert dict(client.get_httpx_client().cookies) == {"given": "1"}
    assert dict(client.get_async_httpx_client().cookies) == {"given": "1"}


def test_the_cookie_jar_keeps_what_it_was_given_and_ignores_set_cookie() -> None:
    jar = SentCookies({"given": "1"})
    answer = httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, request=httpx.Request("GET", BASE_URL))
    jar.extract_cookies(answer)
    assert dict(jar) == {"given": "1"}

    client = HttpxClient(cookies={"a": "1"})
    client.cookies = {"b": "2"}
    assert isinstance(client.cookies, SentCookies)
    assert dict(client.cookies) == {"b": "2"}
    client.cookies = None
    assert dict(client.cookies) == {}


@pytest.mark.parametrize(
    ("method", "follows"),
    [
        ("GET", True),
        ("HEAD", True),
        ("OPTIONS", True),
        ("POST", False),
        ("PUT", False),
        ("PATCH", False),
        ("DELETE", False),
    ],
)
def test_only_an_idempotent_request_follows_a_redirect(mode: str, method: str, follows: bool) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/a":
            return httpx.Response(307, headers={"Location": "/b"})
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    if mode == "sync":
        with HttpxClient(base_url=BASE_URL, transport=transport, follow_redirects=True) as client:
            status = client.request(method, "/a").status_code
    else:

        async def call() -> int:
            async with AsyncHttpxClient(base_url=BASE_URL, transport=transport, follow_redirects=True) as client:
                return (await client.request(method, "/a")).status_code

        status = asyncio.run(call())

    assert (status, seen) == ((200, ["/a", "/b"]) if follows else (307, ["/a"]))
