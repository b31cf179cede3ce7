"""A fixed token, or a provider that is asked for a new token once after a 401."""

from __future__ import annotations

import pytest
from leadway_invoices_client import AuthenticatedClient, AuthenticationError, TokenError
from leadway_invoices_client.models import SendInvoiceResponse

from .conftest import SUCCESS_BODY, Send, Server, json_response

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
