"""Issue 10 §1: the token never leaves. Each test names the defect it guards; all fail on the code
before the fix (bca5469^)."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import traceback

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import (
    LOGGER_NAME,
    AuthenticatedClient,
    LeadwayError,
    TokenError,
    UnexpectedStatusError,
)
from leadway_invoices_client._runtime.scrub import TokenScrub

from .conftest import BASE_URL, INVOICE_ID, SUCCESS_BODY, TOKEN, Send, Server, json_response, mock_client

BAD_TOKENS = [TOKEN + "\n", TOKEN + "\r\n", "tok\r\nX-Evil: 1", TOKEN + " ", "tok\x00en", "tök-ñ", "a b"]


def _leaks(error: BaseException, secret: str) -> list[str]:
    """Every place the secret shows in an error: str, repr, args, traceback, pickle."""
    places = {
        "str": str(error),
        "repr": repr(error),
        "args": repr(error.args),
        "traceback": "".join(traceback.format_exception(error)),
        "pickle": pickle.dumps(error).decode("latin-1"),
    }
    return [name for name, text in places.items() if secret.strip() and secret.strip() in text]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_a_token_that_cannot_be_a_header_is_refused_before_io_without_echo(token: str) -> None:
    # Old code: the token went into the header; httpx refused it with a message quoting it, and the
    # error was an OutcomeUnknownError ("the invoice may have been sent").
    with pytest.raises(ValueError, match="the token") as caught:
        AuthenticatedClient(BASE_URL, token)
    assert TOKEN not in str(caught.value)
    assert "tok" not in str(caught.value).replace("the token", "")


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_a_provider_token_that_cannot_be_a_header_is_a_not_sent_token_error(send: Send, token: str) -> None:
    server = Server()
    with pytest.raises(TokenError) as caught:
        send(server.client(token_provider=lambda refresh: token))
    assert caught.value.safe_to_retry
    assert server.sends == 0
    assert _leaks(caught.value, token) == []


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


@pytest.mark.parametrize(("header", "prefix"), [("X-Api-Key", ""), ("Authorization", "Token"), ("X-Auth", "Key")])
def test_a_custom_credential_header_is_redacted_in_debug_logs(
    send: Send, caplog: pytest.LogCaptureFixture, header: str, prefix: str
) -> None:
    # Old code redacted Authorization, Cookie and friends only, and scrubbed "Bearer <x>" patterns.
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    send(Server().client(auth_header_name=header, prefix=prefix))
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"'{header.lower()}': '<redacted>'" in m for m in messages)
    assert all(TOKEN not in m for m in messages)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 500, 502, 418, 200])
def test_a_server_echoing_the_token_leaves_no_trace_in_the_error(send: Send, status: int) -> None:
    # Old code: str(exc) quoted the echoed token, and a pickled error carried the request's
    # Authorization header (the request kept it after it was sent).
    body = {"statusCode": status, "message": f"token {TOKEN} is bad", "invoice": "x"}
    echo = json_response(status, body, {"X-Echo": f"Bearer {TOKEN}"})
    with pytest.raises(LeadwayError) as caught:
        send(Server(echo).client(retry=None))
    error = caught.value
    assert _leaks(error, TOKEN) == []
    for carried in (copy.copy(error), copy.deepcopy(error), pickle.loads(pickle.dumps(error))):
        assert _leaks(carried, TOKEN) == []
    assert error.response is not None
    assert TOKEN.encode() not in error.response.content
    assert "authorization" not in error.response.request.headers
    assert TOKEN not in str(error.response.headers)


def test_a_transport_failure_quoting_the_token_is_scrubbed(send: Send) -> None:
    server = Server(httpx.ReadError(f"peer said: Bearer {TOKEN} rejected"))
    with pytest.raises(LeadwayError) as caught:
        send(server.client())
    assert _leaks(caught.value, TOKEN) == []


def test_the_request_keeps_no_credential_after_it_was_answered() -> None:
    server = Server()
    response = server.client().get_httpx_client().post(f"/invoices/{INVOICE_ID}/send", json={})
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in response.request.headers


@settings(max_examples=500, deadline=None)
@given(
    token=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=15),
    parts=st.lists(st.text(st.sampled_from('ab1e"\\/[]<>DERACT {}:,'), max_size=6), max_size=6),
)
def test_a_scrubbed_answer_holds_the_token_nowhere(token: str, parts: list[str]) -> None:
    # Any text around the token, the marker's own letters and brackets included: the replacement
    # can neither hold the token nor complete it with its neighbours. The old code left tokens
    # under 16 characters in place.
    text = token.join(parts) + token
    request = httpx.Request("POST", f"{BASE_URL}/invoices/{INVOICE_ID}/send")
    echo = httpx.Response(
        400,
        content=json.dumps({"message": text}).encode(),
        headers={"X-Echo": text.replace('"', "'")},
        request=request,
    )
    clean = TokenScrub(token).response(echo, request)
    assert token.encode() not in clean.content
    try:  # the token may have been part of the JSON's syntax ("m" of "message", `:`): then it is gone
        decoded = json.loads(clean.content)
    except ValueError:
        decoded = {}
    assert all(token not in key and token not in value for key, value in decoded.items())
    assert token not in clean.headers["X-Echo"]  # (Content-Length is httpx's own, counted anew)
