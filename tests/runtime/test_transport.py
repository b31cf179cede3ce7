"""`_runtime/transport.py`: the one transport every call goes through puts the credential only on
requests to the base URL's origin, and takes it off each request once it is answered."""

from __future__ import annotations

import httpx

from tests.mock_api import INVOICE_ID, TOKEN, Server, mock_client


def test_credentials_go_only_to_the_base_urls_origin() -> None:
    # A GET may follow a redirect, but the token stays with the base URL's scheme, host and port.
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(httpx.Request(request.method, request.url, headers=request.headers.copy()))
        if request.url.host == "api.test" and request.url.path == "/a":
            return httpx.Response(302, headers={"Location": "https://elsewhere.test/b"})
        if request.url.host == "elsewhere.test":
            return httpx.Response(302, headers={"Location": "http://api.test/c"})
        return httpx.Response(200)

    client = mock_client(handler, follow_redirects=True, auth_header_name="X-Api-Key", prefix="")
    client.get_httpx_client().get("/a")
    assert [(str(r.url), "x-api-key" in r.headers) for r in seen] == [
        ("https://api.test/a", True),
        ("https://elsewhere.test/b", False),
        ("http://api.test/c", False),  # same host, other scheme: another origin
    ]


def test_the_request_keeps_no_credential_after_it_was_answered() -> None:
    server = Server()
    response = server.client().get_httpx_client().post(f"/invoices/{INVOICE_ID}/send", json={})
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in response.request.headers
