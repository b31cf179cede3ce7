"""Client construction: timeouts, copies, httpx arguments and the policy transport seam."""

from __future__ import annotations

import httpx
from leadway_invoices_client import DEFAULT_TIMEOUT, AuthenticatedClient

from .conftest import SUCCESS_BODY, Send, Server, json_response


def test_default_timeouts_are_explicit() -> None:
    client = Server().client()
    timeout = client.get_httpx_client().timeout
    assert timeout == DEFAULT_TIMEOUT
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (5.0, 30.0, 30.0, 10.0)
    assert client.get_async_httpx_client().timeout == DEFAULT_TIMEOUT


def test_timeouts_are_configurable() -> None:
    client = AuthenticatedClient("https://api.test", "t", timeout=2.5)
    assert client.get_httpx_client().timeout == httpx.Timeout(2.5)
    assert client.with_timeout(httpx.Timeout(1.0)).get_httpx_client().timeout == httpx.Timeout(1.0)


def test_with_headers_returns_a_new_client_that_sends_them(send: Send) -> None:
    server = Server()
    base = server.client(headers={"X-A": "1"})
    derived = base.with_headers({"X-B": "2"}).with_cookies({"c": "3"})
    send(derived)

    assert derived is not base
    sent = server.requests[0]
    assert (sent.headers["X-A"], sent.headers["X-B"], sent.headers["Cookie"]) == ("1", "2", "c=3")
    assert "X-B" not in base.get_httpx_client().headers


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


def test_transport_arguments_reach_the_default_transport() -> None:
    limits = httpx.Limits(max_connections=3)
    client = AuthenticatedClient("https://api.test", "t", httpx_args={"limits": limits, "http2": False})
    pool = client.get_httpx_client()._transport._attempt.inner._pool  # type: ignore[attr-defined]
    assert pool._max_connections == 3


def test_a_set_httpx_client_is_used_as_is(send: Send) -> None:
    server = Server()
    client = Server().client()
    client.set_httpx_client(httpx.Client(base_url="https://api.test", transport=httpx.MockTransport(server)))
    if client.get_async_httpx_client() is not None:
        client.set_async_httpx_client(
            httpx.AsyncClient(base_url="https://api.test", transport=httpx.MockTransport(server))
        )
    send(client)

    assert server.sends == 1
    assert "Authorization" not in server.requests[0].headers


async def test_the_client_is_an_async_context_manager() -> None:
    server = Server()
    async with server.client() as client:
        response = await client.get_async_httpx_client().get("/ping")
    assert response.status_code == 200
    assert server.requests[0].headers["Authorization"].startswith("Bearer ")


def test_the_client_is_a_context_manager() -> None:
    server = Server()
    with server.client() as client:
        assert client.get_httpx_client().get("/ping").status_code == 200
    assert client.get_httpx_client().is_closed
