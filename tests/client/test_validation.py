"""Hostile invoice ids are refused with a ValueError before any I/O."""

from __future__ import annotations

import pytest

from .conftest import Send, Server

HOSTILE_IDS = {
    "empty": "",
    "dot": ".",
    "dot-dot": "..",
    "slash": "a/b",
    "traversal": "../send",
    "query": "abc?x=1",
    "fragment": "abc#x",
    "percent": "abc%2F",
    "space": "abc def",
    "tab": "abc\t",
    "newline": "abc\r\nX-Injected: 1",
    "nul": "abc\x00",
    "del": "abc\x7f",
    "unicode": "abc\u2028",
    "backslash": "a\\b",
    "too long": "a" * 129,
    "absurdly long": "a" * 1_000_000,
}


@pytest.mark.parametrize("invoice_id", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
def test_hostile_ids_raise_value_error_and_send_nothing(send: Send, invoice_id: str) -> None:
    server = Server()
    with pytest.raises(ValueError, match="invoice_id") as caught:
        send(server.client(), invoice_id)

    assert server.sends == 0
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("invoice_id", [None, 123, b"6578278e879ad2646715ba9c"])
def test_non_string_ids_raise_value_error(send: Send, invoice_id: object) -> None:
    server = Server()
    with pytest.raises(ValueError, match="must be a string"):
        send(server.client(), invoice_id)
    assert server.sends == 0


@pytest.mark.parametrize("invoice_id", ["6578278e879ad2646715ba9c", "a" * 128, "inv_1-2.3~4", "..a"])
def test_safe_ids_reach_the_server_unchanged(send: Send, invoice_id: str) -> None:
    server = Server()
    send(server.client(), invoice_id)

    assert server.requests[0].url.path == f"/invoices/{invoice_id}/send"
