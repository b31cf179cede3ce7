"""`_runtime/client.py`: client construction (timeouts, copies, httpx arguments, the policy transport
seam), the headers every request carries, and a client that never shows its token."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from leadway_invoices_client import DEFAULT_API_VERSION, DEFAULT_TIMEOUT, AuthenticatedClient, __version__
from leadway_invoices_client.api.invoices import send_invoice

from tests.mock_api import BASE_URL, TOKEN, Send, Server, request_body


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


def test_every_request_names_the_package_and_sends_the_clients_api_version() -> None:
    server = Server()
    server.client(api_version="2023-02-21").get_httpx_client().get("/invoices/x")
    server.client().get_httpx_client().get("/invoices/x")
    first, second = server.requests
    assert first.headers["User-Agent"].startswith(f"leadway-invoices-client/{__version__} python-httpx/")
    assert (first.headers["Version"], second.headers["Version"]) == ("2023-02-21", DEFAULT_API_VERSION)
    assert DEFAULT_API_VERSION == "2021-07-28"


def test_a_caller_may_replace_the_user_agent() -> None:
    server = Server()
    server.client(headers={"User-Agent": "mine/1"}).get_httpx_client().get("/x")
    assert server.requests[0].headers["User-Agent"] == "mine/1"


@pytest.mark.parametrize("version", ["", "v3\n", 3, "vé"])
def test_an_api_version_that_cannot_be_a_header_is_refused(version: object) -> None:
    with pytest.raises(ValueError, match="api_version"):
        AuthenticatedClient(BASE_URL, TOKEN, api_version=version)  # type: ignore[arg-type]


def test_no_client_object_shows_the_token() -> None:
    client = Server().client()
    send_invoice.sync("6578278e879ad2646715ba9c", client=client, body=request_body())
    asyncio.run(send_invoice.asyncio("6578278e879ad2646715ba9c", client=client, body=request_body()))

    objects: list[object] = [
        client,
        client._credentials,
        client.get_httpx_client(),
        client.get_async_httpx_client(),
        client.get_httpx_client()._transport,
        client.get_httpx_client().headers,
        client.with_headers({"X-A": "1"}),
    ]
    for obj in objects:
        assert TOKEN not in repr(obj), obj
        assert TOKEN not in str(obj), obj
    assert "token=<redacted>" in repr(client)
    assert "Authorization" not in client.get_httpx_client().headers


def test_a_provider_client_repr_hides_the_provider_output() -> None:
    client = AuthenticatedClient("https://api.test", token_provider=lambda refresh: TOKEN)
    assert TOKEN not in repr(client)
    assert "token_provider=<redacted>" in repr(client)


def test_building_the_client_leaves_the_callers_dicts_alone(send: Send) -> None:
    headers = {"X-Trace": "1"}
    cookies = {"c": "1"}
    httpx_args: dict[str, object] = {"transport": httpx.MockTransport(Server())}
    client = AuthenticatedClient("https://api.test", TOKEN, headers=headers, cookies=cookies, httpx_args=httpx_args)
    send(client)

    assert headers == {"X-Trace": "1"}
    assert cookies == {"c": "1"}
    assert list(httpx_args) == ["transport"]
