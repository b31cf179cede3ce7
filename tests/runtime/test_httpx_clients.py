"""`_runtime/httpx_clients.py`: httpx's clients without a cookie jar, and never following a redirect
with a request that is not idempotent."""

from __future__ import annotations

import httpx
import pytest
from leadway_invoices_client import UnexpectedStatusError

from tests.mock_api import SUCCESS_BODY, Send, Server, json_response, mock_client


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
