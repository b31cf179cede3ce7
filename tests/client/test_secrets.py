"""The token never shows in a repr, an error, a log record or the caller's dicts."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from leadway_invoices_client import LOGGER_NAME, AuthenticatedClient, LeadwayError
from leadway_invoices_client.api.invoices import send_invoice

from .conftest import SUCCESS_BODY, TOKEN, Send, Server, json_response, request_body


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


ERRORS = [
    json_response(401, {"statusCode": 401, "message": "Invalid token"}),
    json_response(500, {"message": "boom"}),
    httpx.Response(200, content=b"<html>"),
    httpx.ReadTimeout("timed out"),
    httpx.ConnectError("refused"),
]


@pytest.mark.parametrize("reply", ERRORS, ids=["401", "500", "html", "read-timeout", "connect"])
def test_errors_and_debug_logs_never_contain_the_token(
    send: Send, reply: httpx.Response | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LeadwayError) as caught:
        send(Server(reply).client())

    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert caplog.records, "debug logging should have recorded the exchange"
    for record in caplog.records:
        assert TOKEN not in record.getMessage()


def test_debug_logs_show_requests_and_answers_with_authorization_redacted(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    send(Server(json_response(200, SUCCESS_BODY)).client())

    ours = [r.getMessage() for r in caplog.records if r.name == LOGGER_NAME]
    assert any(m.startswith("request POST https://api.test/invoices/") for m in ours)
    assert any("-> 200" in m for m in ours)
    assert any("'authorization': '<redacted>'" in m for m in ours)
    assert all(TOKEN not in m for m in ours)


def test_the_package_logger_scrubs_bearer_tokens_logged_by_anyone(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    logging.getLogger(LOGGER_NAME).debug("careless %s", f"Authorization: Bearer {TOKEN}")

    assert caplog.records[-1].getMessage() == "careless Authorization: Bearer <redacted>"
