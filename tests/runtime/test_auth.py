"""`_runtime/auth.py`: a fixed token, or a provider that is asked for a new token once after a 401; a
token that cannot go into a header is refused before any I/O, without showing it."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import AuthenticatedClient, AuthenticationError, TokenError
from leadway_invoices_client.api.invoices import send_invoice
from leadway_invoices_client.models import SendInvoiceResponse

from tests.mock_api import BASE_URL, INVOICE_ID, SUCCESS_BODY, TOKEN, Send, Server, json_response, request_body

from .traces import framed, leaks

UNAUTHORIZED = json_response(401, {"statusCode": 401, "message": "Invalid token", "error": "Unauthorized"})
OK = json_response(200, SUCCESS_BODY)


class Provider:
    def __init__(self) -> None:
        self.calls: list[bool] = []

    def __call__(self, refresh: bool) -> str:
        self.calls.append(refresh)
        return f"token-{len(self.calls)}"


def test_a_provider_is_asked_before_each_request(send: Send) -> None:
    provider = Provider()
    server = Server()
    client = server.client(token_provider=provider)
    send(client)
    send(client)

    assert provider.calls == [False, False]
    assert [r.headers["Authorization"] for r in server.requests] == ["Bearer token-1", "Bearer token-2"]


def test_a_401_refreshes_the_token_once_and_resends(send: Send) -> None:
    provider = Provider()
    server = Server(UNAUTHORIZED, OK)
    assert isinstance(send(server.client(token_provider=provider)), SendInvoiceResponse)

    assert provider.calls == [False, True]
    assert [r.headers["Authorization"] for r in server.requests] == ["Bearer token-1", "Bearer token-2"]


def test_a_second_401_raises_without_another_refresh(send: Send) -> None:
    provider = Provider()
    server = Server(UNAUTHORIZED)
    with pytest.raises(AuthenticationError) as caught:
        send(server.client(token_provider=provider))

    assert provider.calls == [False, True]
    assert server.sends == 2
    assert caught.value.safe_to_retry


def test_a_fixed_token_401_raises_after_one_send(send: Send) -> None:
    server = Server(UNAUTHORIZED)
    with pytest.raises(AuthenticationError):
        send(server.client())
    assert server.sends == 1


def test_prefix_and_header_name_are_configurable(send: Send) -> None:
    server = Server()
    send(server.client(prefix="", auth_header_name="X-Api-Key"))
    assert server.requests[0].headers["X-Api-Key"] == "tok-3c1f9e2a-very-secret"
    assert "Authorization" not in server.requests[0].headers


def test_exactly_one_of_token_and_provider() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        AuthenticatedClient("https://api.test")
    with pytest.raises(ValueError, match="exactly one"):
        AuthenticatedClient("https://api.test", "t", token_provider=lambda refresh: "t")


@pytest.mark.parametrize("bad", ["", None, 5])
def test_a_provider_returning_no_token_is_a_token_error_and_nothing_is_sent(send: Send, bad: object) -> None:
    server = Server()
    with pytest.raises(TokenError, match=r"must be a string|must not be empty") as caught:
        send(server.client(token_provider=lambda refresh: bad))
    assert caught.value.safe_to_retry
    assert server.sends == 0


# --- A token that cannot go into a header: refused before any I/O, and never shown ----------------

BAD_TOKENS = [TOKEN + "\n", TOKEN + "\r\n", "tok\r\nX-Evil: 1", TOKEN + " ", "tok\x00en", "tök-ñ", "a b"]


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
    assert leaks(caught.value, token) == []


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


@settings(max_examples=100, deadline=None)
@given(token=st.text(min_size=1, max_size=15).filter(lambda t: any(not 0x21 <= ord(c) <= 0x7E for c in t)))
def test_a_short_token_that_cannot_be_a_header_is_refused_without_echo(token: str) -> None:
    # Unicode, spaces, control characters: refused before any I/O, and the message names the
    # problem by position and code point, never by the token's text.
    with pytest.raises(ValueError, match="the token") as caught:
        AuthenticatedClient(BASE_URL, token)
    assert framed(token) not in str(caught.value)
    if len(token) >= 3 and token.strip():
        assert token not in str(caught.value).replace("the token", "")
