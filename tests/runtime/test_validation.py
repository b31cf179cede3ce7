"""`_runtime/validation.py`: hostile invoice ids are refused with a ValueError before any I/O; a
safe one is sent as one path segment, as the plain string that was checked."""

from __future__ import annotations

import enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leadway_invoices_client import APIStatusError
from leadway_invoices_client.api.invoices import send_invoice

from tests.mock_api import INVOICE_ID, Send, Server, json_response, request_body

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


# --- Hostile ids (issue 10 §5; each test fails on the code before bca5469) ------------------------


class _Tricky(str):
    def __str__(self) -> str:
        return "../../other"

    def __format__(self, spec: str) -> str:
        return "../../other"


class _Ids(str, enum.Enum):  # noqa: UP042 - the mix whose str() is not its value
    A = INVOICE_ID


@pytest.mark.parametrize("invoice_id", [_Tricky(INVOICE_ID), _Ids.A], ids=["str-subclass", "str-enum"])
def test_an_id_of_a_str_subclass_is_checked_and_sent_as_the_same_plain_string(invoice_id: str) -> None:
    # Old code: the check saw the str value, the URL got str()/format() of the object.
    server = Server(json_response(404, {"statusCode": 404, "message": "no such invoice"}))
    with pytest.raises(APIStatusError) as caught:
        send_invoice.sync(invoice_id, client=server.client(), body=request_body())
    assert server.requests[0].url.path == f"/invoices/{INVOICE_ID}/send"
    assert type(caught.value.invoice_id) is str
    assert str(caught.value).startswith(f"POST invoice {INVOICE_ID}: 404")


@settings(max_examples=200, deadline=None)
@given(invoice_id=st.text(max_size=140))
def test_any_id_is_refused_before_io_or_sent_as_one_path_segment(invoice_id: str) -> None:
    server = Server()
    try:
        send_invoice.sync(invoice_id, client=server.client(), body=request_body())
    except ValueError:
        assert server.sends == 0
        return
    assert server.requests[0].url.raw_path.decode() == f"/invoices/{invoice_id}/send"
