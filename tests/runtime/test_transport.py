"""`_runtime/transport.py`: the one transport every call goes through puts the credential only on
requests to the base URL's origin and takes it off each request once it is answered, sets the
client's Version header, gives a pacer ticket back whatever happens, and logs a 2xx without the token
while returning it as sent."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from leadway_invoices_client import LOGGER_NAME, LeadwayError, Pacer
from leadway_invoices_client._runtime.pacing import Ticket
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models.api_version import ApiVersion

from tests.mock_api import (
    INVOICE_ID,
    LOCATION,
    SUCCESS_BODY,
    TOKEN,
    Send,
    SendDetailed,
    Server,
    json_response,
    mock_client,
    request_body,
)


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


def test_the_clients_version_header_replaces_the_one_a_call_sets(send: Send) -> None:
    server = Server()
    send(server.client(api_version="2023-02-21"), version=ApiVersion.V2021_07_28)
    assert server.requests[0].headers.get_list("Version") == ["2023-02-21"]


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), KeyboardInterrupt()], ids=type
)
def test_an_attempt_that_got_no_answer_gives_its_pacer_ticket_back(mode: str, failure: BaseException) -> None:
    # Else the pacer would wait for ever for that request's answer (the first request of a location
    # goes alone, to learn its budget).
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    pacer = Pacer()
    client = mock_client(fail, retry=None, pacer=pacer)

    def send() -> object:
        if mode == "sync":
            return send_invoice.sync(INVOICE_ID, client=client, body=request_body())
        return asyncio.run(send_invoice.asyncio(INVOICE_ID, client=client, body=request_body()))

    with pytest.raises((LeadwayError, KeyboardInterrupt)):
        send()
    assert isinstance(pacer.acquire(LOCATION), Ticket)


def test_a_2xx_echoing_the_token_is_returned_as_sent_and_logged_without_it(
    send_detailed: SendDetailed, caplog: pytest.LogCaptureFixture
) -> None:
    # Not as "Bearer <token>": the logger's filter would catch that, whatever the transport logged.
    echo = json_response(200, SUCCESS_BODY, {"X-Echo": f"token={TOKEN}"})
    with caplog.at_level(logging.DEBUG, logger=LOGGER_NAME):
        response = send_detailed(Server(echo).client())

    assert response.headers["X-Echo"] == f"token={TOKEN}"
    answers = [r.getMessage() for r in caplog.records if r.getMessage().startswith("response ")]
    assert len(answers) == 1
    assert "x-echo" in answers[0]
    assert TOKEN not in answers[0]
