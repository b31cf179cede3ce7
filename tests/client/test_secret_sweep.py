"""Issue 10 §7: a sweep of every error kind under every auth configuration. The token shows in no
str, repr, args, traceback (with its causes), pickle, log record or request an error carries. The
old code fails this sweep for custom headers, echoed tokens and pickles (see test_token_hygiene)."""

from __future__ import annotations

import asyncio
import logging
import pickle
import traceback
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import AuthenticatedClient, LeadwayError
from leadway_invoices_client.api.invoices import send_invoice

from .conftest import BASE_URL, INVOICE_ID, SUCCESS_BODY, Server, json_response, mock_client, request_body

SECRET = "s3cr3t-7f0c2d9e41b8"
NEW_SECRET = "n3w-s3cr3t-55aa0e1c"

AUTH: dict[str, dict[str, Any]] = {
    "bearer": {"token": SECRET},
    "custom-header": {"token": SECRET, "auth_header_name": "X-Api-Key", "prefix": ""},
    "custom-prefix": {"token": SECRET, "prefix": "Token"},
    "provider": {"token_provider": lambda refresh: NEW_SECRET if refresh else SECRET},
}


Reply = httpx.Response | Exception


def _echo(status: int, token: str) -> httpx.Response:
    body = {"statusCode": status, "message": [f"bad {token}", "x"], "error": token}
    return json_response(status, body, {"WWW-Authenticate": f'Bearer error="{token}"'})


# Each reply echoes the token of the request it answers, as a careless server would.
REPLIES: dict[str, list[Any]] = {
    **{str(status): [lambda t, s=status: _echo(s, t)] for status in (400, 401, 403, 404, 422, 429, 500, 503, 418, 302)},
    "401-then-500": [lambda t: _echo(401, t), lambda t: _echo(500, t)],
    "html-500": [lambda t: httpx.Response(500, content=f"<html>{t}</html>".encode())],
    "contract-200": [lambda t: json_response(200, {"invoice": t})],
    "read-timeout": [lambda t: httpx.ReadTimeout(f"timed out reading for {t}")],
    "connect": [lambda t: httpx.ConnectError(f"refused {t}")],
    "dropped": [lambda t: httpx.RemoteProtocolError(f"peer closed; last header Authorization: Bearer {t}")],
}


class EchoServer:
    def __init__(self, replies: list[Any], header: str, prefix: str) -> None:
        self.replies, self.header, self.prefix, self.sends = replies, header, prefix, 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        value = request.headers[self.header]
        token = value.removeprefix(f"{self.prefix} ") if self.prefix else value
        reply: Reply = self.replies[min(self.sends, len(self.replies) - 1)](token)
        self.sends += 1
        if isinstance(reply, Exception):
            raise reply
        return reply


def _texts(error: BaseException) -> dict[str, str]:
    texts = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "traceback": "".join(traceback.format_exception(error)),
        "pickle": pickle.dumps(error).decode("latin-1"),
    }
    if isinstance(error, LeadwayError) and error.response is not None:
        texts["content"] = error.response.content.decode("latin-1")
        texts["headers"] = repr(error.response.headers.multi_items())
        texts["request"] = repr(error.response.request.headers.multi_items())
    return texts


@pytest.mark.parametrize("auth", list(AUTH), ids=list(AUTH))
@pytest.mark.parametrize("reply", list(REPLIES), ids=list(REPLIES))
def test_no_error_carries_the_token_anywhere(
    mode: str, auth: str, reply: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    options = AUTH[auth]
    server = EchoServer(
        REPLIES[reply], options.get("auth_header_name", "Authorization"), options.get("prefix", "Bearer")
    )
    client = mock_client(server, retry=None, **options)

    def call() -> object:
        if mode == "sync":
            return send_invoice.sync(INVOICE_ID, client=client, body=request_body())
        return asyncio.run(send_invoice.asyncio(INVOICE_ID, client=client, body=request_body()))

    with pytest.raises(LeadwayError) as caught:
        call()
    assert server.sends >= 1
    texts = _texts(caught.value)
    texts["logs"] = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (SECRET, NEW_SECRET):
        leaks = [where for where, text in texts.items() if secret in text]
        assert leaks == [], f"{secret} in {leaks}"


@settings(max_examples=200, deadline=None)
@given(token=st.text(max_size=40))
def test_any_token_is_refused_without_echo_or_sent_exactly(token: str) -> None:
    try:
        client = AuthenticatedClient(
            BASE_URL, token, httpx_args={"transport": httpx.MockTransport(Server(json_response(200, SUCCESS_BODY)))}
        )
    except ValueError as exc:
        message = str(exc)
    else:
        seen: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request.headers["Authorization"])
            return json_response(200, SUCCESS_BODY)

        client = AuthenticatedClient(BASE_URL, token, httpx_args={"transport": httpx.MockTransport(handler)})
        send_invoice.sync(INVOICE_ID, client=client, body=request_body())
        assert seen == [f"Bearer {token}"]
        return
    if len(token) >= 3 and token.strip():
        assert token not in message.replace("the token", "")
